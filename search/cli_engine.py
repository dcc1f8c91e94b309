"""The `index`, `compact`, `search`, `show` and `similar` commands of imr-search."""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import textwrap
import time
from typing import Any, Final, TextIO

from .fields import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SCOPE_AUTO, SCOPES, SORT_RELEVANCE, SORTS
from .results import Hit, QueryError, SearchRequest, SearchResponse

DEFAULT_INDEX: Final = "index"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
PLAIN_PROGRESS_SECONDS: Final = 5.0  # a progress line this often when stderr is not a TTY
TTY_PROGRESS_SECONDS: Final = 0.2
WRAP: Final = 100  # columns of `show`'s wrapped rationales
COMPACT_HINT_SEGMENTS: Final = 5  # an index run leaving this many suggests `compact`
_PARA_RE: Final = re.compile(r"\n[ \t]*\n")


def paragraphs(text: str) -> list[str]:
    """Text split at blank lines, each paragraph's whitespace folded to single spaces."""
    return [" ".join(p.split()) for p in _PARA_RE.split(text) if p.strip()]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `index`, `compact`, `search`, `show` and `similar`."""
    p = sub.add_parser("index", help="add letters (.txt/.pdf files or folders) to the index")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    _index_option(p)
    p.add_argument("--rebuild", action="store_true", help="start the index over")
    p.add_argument(
        "--strict", action="store_true", help="fail each letter in which no decision is found"
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="also remove the letters whose files are gone (each one reported)",
    )
    p.add_argument("--workers", type=int, default=None, help="parsing processes (default 2)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the run's counts and the parse-quality report of its letters as JSON",
    )
    p.add_argument("--batch", type=int, default=None, help="letters per commit (default 10000)")
    p.add_argument(
        "--ram-budget",
        type=ram_size,
        default=None,
        metavar="SIZE",
        help="memory the run may hold, e.g. 512M or 2G (default 1G): bigger budgets write "
        "fewer, larger segments",
    )
    p.set_defaults(func=run_index)

    p = sub.add_parser(
        "compact",
        help="merge the index's segments into as few as memory allows (after a bulk load: "
        "faster searches)",
    )
    _index_option(p)
    p.set_defaults(func=run_compact)

    p = sub.add_parser("search", help="search the index")
    p.add_argument("query", nargs="*", metavar="QUERY", help="query text (empty: everything)")
    _index_option(p)
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="facet filter, e.g. drug=tizanidine (repeat; same key: OR, different keys: AND)",
    )
    p.add_argument("--sort", choices=SORTS, default=SORT_RELEVANCE)
    p.add_argument("--page", type=int, default=1)
    p.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help=f"results per page (max {MAX_PAGE_SIZE})",
    )
    p.add_argument(
        "--scope",
        choices=SCOPES,
        default=SCOPE_AUTO,
        help="where words match: auto (drug and service names only in a decision's own "
        "text), decision, or letter",
    )
    p.add_argument(
        "--literal", action="store_true", help="do not read drug, outcome... words as filters"
    )
    p.add_argument("--json", action="store_true", help="print the response as JSON")
    p.set_defaults(func=run_search)

    p = sub.add_parser("show", help="print one determination")
    p.add_argument("id", metavar="ID")
    _index_option(p)
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.set_defaults(func=run_show)

    p = sub.add_parser("audit", help="parse quality of an index: layouts, warnings, unknowns")
    _index_option(p)
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=run_audit)

    p = sub.add_parser("similar", help="determinations most like one determination")
    p.add_argument("id", metavar="ID")
    _index_option(p)
    p.add_argument("--same-drug", action="store_true", help="only decisions on the same drug")
    p.add_argument("--same-outcome", action="store_true", help="only the same outcome")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run_similar)


def _index_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index",
        default=DEFAULT_INDEX,
        metavar="DIR",
        help=f"index folder (default ./{DEFAULT_INDEX})",
    )


def _error(message: str) -> None:
    print(f"imr-search: {message}", file=sys.stderr)


# --- index ------------------------------------------------------------------------------


class Progress:
    """A progress bar with letters/s on a TTY, or a plain line every few seconds otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, summary: Any) -> None:
        now = time.monotonic()
        every = TTY_PROGRESS_SECONDS if self.tty else PLAIN_PROGRESS_SECONDS
        if now - self.last < every and done < total:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        if self.tty:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} letters  {rate:.0f} letters/s ")
            self.shown = True
        else:
            self.stream.write(
                f"imr-search: indexed {done}/{total} letters ({rate:.0f} letters/s)\n"
            )
        self.stream.flush()

    def error(self, message: str) -> None:
        """One line naming the file that failed."""
        if self.tty and self.shown:
            self.stream.write("\r\033[K")
        self.stream.write(f"imr-search: {message}\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()


_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
MIN_RAM_BUDGET: Final = 64 << 20


def ram_size(text: str) -> int:
    """A byte count like 512M, 2G or 1073741824 (argparse type; at least 64M)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:I?B)?\s*", text.upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 512M or 2G)")
    size = int(float(match.group(1)) * _UNITS[match.group(2)])
    if size < MIN_RAM_BUDGET:
        raise argparse.ArgumentTypeError(f"--ram-budget {text} is below the minimum of 64M")
    return size


def run_index(args: argparse.Namespace) -> int:
    """Index paths; summary on stdout, progress and per-file errors on stderr."""
    from .engine.toc import IndexUnreadable
    from .index import DEFAULT_BATCH, DEFAULT_RAM_BUDGET, IndexLocked, index_paths

    progress = Progress(sys.stderr)
    try:
        summary = index_paths(
            args.index,
            args.paths,
            rebuild=args.rebuild,
            prune=args.prune,
            on_removed=progress.error,
            workers=args.workers,
            progress=progress,
            on_error=progress.error,
            batch_size=args.batch or DEFAULT_BATCH,
            ram_budget=args.ram_budget or DEFAULT_RAM_BUDGET,
            strict=args.strict,
        )
    except (IndexLocked, IndexUnreadable) as exc:
        progress.finish()
        _error(str(exc))
        return EXIT_FAILED
    except OSError as exc:
        progress.finish()
        _error(f"cannot write the index at {args.index}: {exc}")
        return EXIT_FAILED
    progress.finish()
    if args.json:
        print(json.dumps(index_json(summary), ensure_ascii=False, indent=2))
    else:
        print(f"imr-search: {summary}")
        if summary.segments >= COMPACT_HINT_SEGMENTS:
            print(
                f"imr-search: the index has {summary.segments} segments; a search pays for "
                f"each: `imr-search compact --index {args.index}` merges them"
            )
        quality = summary.audit
        if quality.letters:  # the same report as `imr-search audit`, for this run's letters
            print(f"parse quality of the {quality.letters} letters parsed in this run:")
            print("\n".join(f"  {line}" for line in quality.lines()))
    return EXIT_FAILED if summary.failed else EXIT_OK


def run_compact(args: argparse.Namespace) -> int:
    """Compact the index; a line per merge on stderr, the summary on stdout."""
    from .engine.toc import IndexUnreadable
    from .index import IndexLocked, IndexMissing, compact_index

    def merged(done: int, segments: int) -> None:
        _error(f"merge {done} done: {segments} segments")

    try:
        summary = compact_index(args.index, on_merge=merged)
    except (IndexLocked, IndexUnreadable, IndexMissing) as exc:
        _error(str(exc))
        return EXIT_FAILED
    except OSError as exc:
        _error(f"cannot write the index at {args.index}: {exc}")
        return EXIT_FAILED
    print(f"imr-search: compacted {args.index}: {summary}")
    return EXIT_FAILED if summary.failed else EXIT_OK


def index_json(summary: Any) -> dict[str, Any]:
    """An IndexSummary as JSON: the run's counts, errors and parse-quality report."""
    return {
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "removed": summary.removed,
        "failed": summary.failed,
        "errors": list(summary.errors),
        "seconds": round(summary.seconds, 3),
        "segments": summary.segments,
        "parse_quality": summary.audit.to_dict(),
    }


# --- search, show, similar --------------------------------------------------------------


def _open(path: str) -> Any:
    """The SearchIndex at path, or None after printing why not."""
    from .engine.searcher import SearchIndex
    from .engine.toc import IndexUnreadable
    from .index import IndexMissing

    try:
        return SearchIndex.open(path)
    except (IndexMissing, IndexUnreadable) as exc:
        _error(str(exc))
        return None


def _filters(items: list[str]) -> dict[str, tuple[str, ...]]:
    """--filter KEY=VALUE options as {key: (values...)}; raises QueryError."""
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise QueryError(f"--filter needs KEY=VALUE, e.g. drug=tizanidine (got '{item}').")
        key = key.strip().lower()
        out[key] = (*out.get(key, ()), value.strip())
    return out


def run_search(args: argparse.Namespace) -> int:
    """Search and print a table or JSON."""
    try:
        request = SearchRequest(
            q=" ".join(args.query),
            filters=_filters(args.filter),
            sort=args.sort,
            page=args.page,
            size=args.limit,
            scope=args.scope,
            literal=args.literal,
            count_elsewhere=True,
        )
    except QueryError as exc:
        _error(str(exc))
        return EXIT_USAGE
    index = _open(args.index)
    if index is None:
        return EXIT_FAILED
    with index:
        try:
            response = index.search(request)
        except QueryError as exc:
            _error(str(exc))
            return EXIT_USAGE
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_response(response)
    return EXIT_OK


_MARK = re.compile(r"</?mark>")


def _plain(passage: str) -> str:
    """A highlighted passage as terminal text: *marked* words, entities decoded."""
    return html.unescape(_MARK.sub("*", passage))


def _print_response(r: SearchResponse) -> None:
    """The human-readable result table."""
    first = (r.page - 1) * r.size + 1
    print(
        f"{r.total_determinations} determinations ({r.total_decisions} decisions) match"
        + (f" '{r.query}'" if r.query else "")
        + (f"; page {r.page} of {r.pages}" if r.total_determinations else "")
    )
    if r.interpreted:
        print(f"Interpreted as: {r.interpreted.summary} (--literal searches the words)")
    if r.also_mentioned:
        print(f"Also mentioned in {r.also_mentioned} other letters (not counted; --scope letter)")
    if r.suggestion:
        print(f"Did you mean: {r.suggestion}")
    outcomes = r.facets.get("outcome") or {}
    if outcomes:
        print("Outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.items()))
    for n, hit in enumerate(r.results, start=first):
        _print_hit(n, hit)


def _print_hit(n: int, hit: Hit) -> None:
    print()
    date = hit.date_assigned or "-"
    where = ", ".join(hit.states) or "-"
    print(f"{n:>4}. {hit.id}  {date}  reviewer: {where}  score {hit.score:.2f}")
    for d in hit.decisions:
        print(f"      #{d.ordinal} {d.outcome or '?':<10} {d.drug or '-':<24} {d.request[:70]}")
        for passage in d.highlights[:1]:
            print(f"         {_plain(passage)}")
    for passage in hit.highlights[:1]:
        print(f"      {_plain(passage)}")


def run_audit(args: argparse.Namespace) -> int:
    """Print the parse-quality report of a built index."""
    from .audit import Audit

    index = _open(args.index)
    if index is None:
        return EXIT_FAILED
    report = Audit()
    with index:
        page = 1
        while True:  # page by page: memory bounded by the page, not the corpus
            found = index.search(SearchRequest(size=MAX_PAGE_SIZE, page=page, literal=True))
            for hit in found.results:
                if (record := index.get(hit.id)) is not None:
                    report.add(record)
            if page >= found.pages:
                break
            page += 1
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines()))
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """Print one record."""
    index = _open(args.index)
    if index is None:
        return EXIT_FAILED
    with index:
        record = index.get(args.id)
    if record is None:
        _error(f"no determination with id '{args.id}'")
        return EXIT_FAILED
    if args.json:
        print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{record.id}  ({record.layout} letter, {record.source})")
    for label, value in (
        ("Case number", record.case_number),
        ("Date assigned", record.date_assigned),
        ("UR denial date", record.ur_denial_date),
        ("Date of injury", record.date_of_injury),
        ("Reviewer states", ", ".join(record.reviewer.states)),
        ("Reviewer specialties", ", ".join(record.reviewer.specialties)),
        ("Worker", " ".join(str(v) for v in (record.worker.age, record.worker.sex) if v)),
    ):
        if value:
            print(f"  {label + ':':<22}{value}")
    for d in record.decisions:
        print()
        print(f"  #{d.ordinal} {d.request}: {d.outcome or 'outcome not stated'}")
        for para in paragraphs(d.rationale):  # whole, wrapped at word boundaries
            print(textwrap.fill(para, WRAP, initial_indent=" " * 5, subsequent_indent=" " * 5))
    return EXIT_OK


def run_similar(args: argparse.Namespace) -> int:
    """Print the letters most like one letter."""
    index = _open(args.index)
    if index is None:
        return EXIT_FAILED
    with index:
        hits = index.similar(
            args.id,
            same_drug=args.same_drug,
            same_outcome=args.same_outcome,
            limit=max(1, min(args.limit, 100)),
        )
    if hits is None:
        _error(f"no determination with id '{args.id}'")
        return EXIT_FAILED
    if args.json:
        body = SearchResponse(args.id, len(hits), 0, {}, None, tuple(hits)).to_json()["results"]
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{len(hits)} determinations like {args.id}")
    for n, hit in enumerate(hits, start=1):
        _print_hit(n, hit)
    return EXIT_OK
