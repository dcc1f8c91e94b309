"""Benchmark ``search.parse.parse_text`` on generated letters: speed and accuracy against truth.

    python -m benchmarks.bench_parse [-n 5000] [--seed 1] [--layout imr] [--no-noise]
                                     [--traps | --no-traps] [--show 10] [--dump DIR] [--strict]

Letters are generated in memory first (not timed); then the parser runs over all of them on
one core, in this process. Accuracy is measured field by field against the generator's truth;
decisions are matched by order. --strict holds every layout (not only all letters together)
to each target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.generate.letters import (
    ALL_LAYOUTS,
    PARSER_LAYOUT,
    Truth,
    generate_corpus,
    layout_choice,
    truth_to_dict,
)
from search.generate.vocab import GENERICS, SPECIALTY_CANON
from search.model import Determination

# Targets: (metric key, minimum %), held by every layout. Speed target in letters/s.
TARGET_SPEED = 2000.0
TARGETS = {
    "decision count": 99.5,
    "outcome": 99.5,
    "request": 98.0,
    "drug": 97.0,
    "specialties": 99.0,
    "category": 95.0,
    "states": 99.0,
}
# Metrics, in report order: key -> what the denominator counts. The first five are the
# headline numbers; the rest help locate parser weaknesses.
METRICS = {
    "decision count": "letters",
    "outcome": "decisions",
    "drug": "medication decisions",
    "states": "letters",
    "case number": "letters",
    "layout": "letters",
    "no spurious drug": "non-medication decisions",
    "request": "decisions",
    "ur modified": "decisions",
    "category": "decisions",
    "guideline sources": "decisions",
    "date assigned": "letters",
    "ur denial date": "letters",
    "date of injury": "letters",
    "age": "letters",
    "sex": "letters",
    "specialties": "letters",
}


MISSING = "<missing decision>"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field a parser got wrong."""

    stem: str
    field: str
    expected: Any
    got: Any


@dataclass(slots=True)
class Report:
    """Counts of right answers per metric and the mismatches behind the wrong ones."""

    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    by_layout: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    layout_total: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    mismatches: list[Mismatch] = field(default_factory=list)
    failed_stems: set[str] = field(default_factory=set)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def check(self, stem: str, layout: str, metric: str, expected: Any, got: Any, ok: bool) -> None:
        """Record one comparison."""
        self.total[metric] += 1
        self.layout_total[layout][metric] += 1
        if ok:
            self.right[metric] += 1
            self.by_layout[layout][metric] += 1
        else:
            self.mismatches.append(Mismatch(stem, metric, expected, got))
            if metric in TARGETS or metric in ("case number", "ur modified"):
                self.failed_stems.add(stem.split("#")[0])

    def pct(self, metric: str, layout: str | None = None) -> float | None:
        """Percentage right, or None when nothing was compared."""
        total = self.layout_total[layout][metric] if layout else self.total[metric]
        right = self.by_layout[layout][metric] if layout else self.right[metric]
        return 100.0 * right / total if total else None


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _partial(request: str, original: str, authorized: str) -> tuple[str, ...]:
    """A request as compared: the decided request, and a partial approval's other parts."""
    if not original and not authorized:
        return (_norm(request),)
    return _norm(request), _norm(original), _norm(authorized)


def _specialties(values: Sequence[str]) -> set[str]:
    return {SPECIALTY_CANON.get(_norm(v), v).casefold() for v in values}


def same_drug(expected: str, got: str | None) -> bool:
    """Exact for products in the drug table (order matters: "hydrocodone/acetaminophen");
    compounded creams compare as sets of ingredients, since a parser may put known
    combinations in a canonical order."""
    if got is None or expected == got:
        return expected == got
    if expected in GENERICS:
        return False
    return sorted(expected.split("/")) == sorted(got.split("/"))


def compare(report: Report, stem: str, truth: Truth, det: Determination | None) -> None:
    """Compare one parsed letter with its truth, recording every metric."""
    lay = truth.layout
    chk = report.check
    if det is None:  # the parser raised: everything about this letter is wrong
        det = Determination(id="", source=stem, sha256="", layout="error")
    det_decisions = det.decisions
    n_exp, n_got = len(truth.decisions), len(det_decisions)
    chk(stem, lay, "decision count", n_exp, n_got, n_exp == n_got)
    want = PARSER_LAYOUT[lay]
    chk(stem, lay, "layout", want, det.layout, want == det.layout)
    chk(stem, lay, "case number", truth.case_number, det.case_number,
        truth.case_number == det.case_number)  # fmt: skip
    exp_states, got_states = sorted(truth.states), sorted(det.reviewer.states)
    chk(stem, lay, "states", exp_states, got_states, exp_states == got_states)
    for metric, exp, got in (
        ("date assigned", truth.date_assigned, det.date_assigned),
        ("ur denial date", truth.ur_denial_date, det.ur_denial_date),
        ("date of injury", truth.date_of_injury, det.date_of_injury),
        ("age", truth.age, det.worker.age),
        ("sex", truth.sex, det.worker.sex),
    ):
        chk(stem, lay, metric, exp, got, exp == got)
    exp_sp, got_sp = _specialties(truth.specialties), _specialties(det.reviewer.specialties)
    chk(stem, lay, "specialties", list(truth.specialties), list(det.reviewer.specialties),
        exp_sp == got_sp)  # fmt: skip
    for i, td in enumerate(truth.decisions):
        where = f"{stem}#{i + 1}"
        if i >= n_got:  # the parser found fewer decisions: every field of this one is wrong
            expected: dict[str, Any] = {
                "outcome": td.outcome,
                "request": td.request,
                "ur modified": td.ur_modified,
                "category": td.category,
                "guideline sources": td.guideline_sources,
                "drug" if td.drug else "no spurious drug": td.drug,
            }
            for metric, exp in expected.items():
                chk(where, lay, metric, exp, MISSING, False)
            continue
        d = det_decisions[i]
        chk(where, lay, "outcome", td.outcome, d.outcome, d.outcome == td.outcome)
        parts = _partial(td.request, td.original_request, td.authorized)
        got_parts = _partial(d.request, d.original_request, d.authorized)
        chk(where, lay, "request", parts, got_parts, parts == got_parts)
        chk(where, lay, "ur modified", td.ur_modified, d.ur_modified,
            td.ur_modified == d.ur_modified)  # fmt: skip
        chk(where, lay, "category", td.category, d.category, d.category == td.category)
        chk(where, lay, "guideline sources", td.guideline_sources, d.guideline_sources,
            set(d.guideline_sources) == set(td.guideline_sources))  # fmt: skip
        if td.drug:
            exp = f"{td.drug} ({td.drug_as_written})"
            chk(where, lay, "drug", exp, d.drug, same_drug(td.drug, d.drug))
        else:
            chk(where, lay, "no spurious drug", None, d.drug, d.drug is None)
    if det.layout == "error":
        report.failed_stems.add(stem)


def _fmt_pct(p: float | None) -> str:
    return "   n/a" if p is None else f"{p:6.2f}"


def print_report(
    report: Report, n: int, n_bytes: int, wall: float, cpu: float, show: int, out: Any
) -> bool:
    """Print speed, accuracy table, failure kinds and sample mismatches. True if targets met."""
    p: Callable[..., None] = lambda *a: print(*a, file=out)  # noqa: E731
    speed = n / cpu if cpu else float("inf")
    ok = True  # accuracy targets only: speed depends on the machine, so it is printed
    p(f"parsed {n} letters ({n_bytes / 1e6:.1f} MB) in {wall:.2f}s wall, {cpu:.2f}s CPU")
    p(f"  speed: {n / wall:,.0f} letters/s wall, {speed:,.0f} letters/s CPU "
      f"(target {TARGET_SPEED:,.0f}: {'ok' if speed >= TARGET_SPEED else 'MISSED'}); "
      f"{n_bytes / 1e6 / wall:.2f} MB/s wall")  # fmt: skip
    if report.errors:
        p(f"  parser raised on {len(report.errors)} letters; first: {report.errors[0][0]}")
        p("    " + report.errors[0][1].strip().replace("\n", "\n    "))
    layouts = [lay for lay in ALL_LAYOUTS if report.layout_total[lay]]
    p("")
    p(f"{'accuracy (% right)':<22}{'all':>8}" + "".join(f"{lay:>15}" for lay in layouts)
      + "   of / target (* a layout below it)")  # fmt: skip
    for metric, unit in METRICS.items():
        pct = report.pct(metric)
        target = TARGETS.get(metric)
        flag = ""
        cells = ""
        missed = 0
        for lay in layouts:
            lp = report.pct(metric, lay)
            below = target is not None and lp is not None and lp < target
            missed += below
            cells += f"{_fmt_pct(lp):>14}{'*' if below else ' '}"
        if target is not None:
            met = pct is not None and pct >= target and not missed
            ok = ok and met
            flag = f" / {target}% {'ok' if met else 'MISSED'}"
        p(f"{metric:<22}{_fmt_pct(pct):>8}{cells}   {report.total[metric]} {unit}{flag}")
    kinds = Counter(m.field for m in report.mismatches)
    if kinds:
        p("")
        p("most common failure kinds (wrong, of which decision missing: top patterns):")
        for metric, count in kinds.most_common():
            wrong = [m for m in report.mismatches if m.field == metric]
            missing = sum(m.got == MISSING for m in wrong)
            patterns = Counter(
                (_short(m.expected), _short(m.got)) for m in wrong if m.got != MISSING
            )
            top = "; ".join(f"{e} -> {g} x{c}" for (e, g), c in patterns.most_common(3))
            p(f"  {metric:<18} {count:>6}, {missing:>5} missing: {top}")
    samples = _samples(report.mismatches, show)
    if samples:
        p("")
        p(f"sample mismatches ({len(samples)} of {len(report.mismatches)}):")
        for m in samples:
            p(f"  {m.stem:<26} {m.field:<18} expected={m.expected!r}  got={m.got!r}")
    return ok


def _short(value: Any, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _samples(mismatches: list[Mismatch], show: int) -> list[Mismatch]:
    """Up to ``show`` mismatches, round-robin over fields (headline metrics first), one per
    letter; a decision missing altogether shows up as its letter's decision count."""
    by_field: dict[str, list[Mismatch]] = defaultdict(list)
    seen: set[str] = set()
    for m in mismatches:
        letter = m.stem.split("#")[0]
        if m.got != MISSING and letter not in seen:
            seen.add(letter)
            by_field[m.field].append(m)
    order = [f for f in METRICS if f in by_field]
    out: list[Mismatch] = []
    i = 0
    while len(out) < show and any(i < len(by_field[f]) for f in order):
        out += [by_field[f][i] for f in order if i < len(by_field[f])][: show - len(out)]
        i += 1
    return out


def dump(directory: Path, letters: dict[str, tuple[str, Truth]], report: Report,
         results: dict[str, Determination | None], limit: int) -> int:  # fmt: skip
    """Write failing letters: <stem>.txt, <stem>.truth.json, <stem>.got.json, <stem>.diff.txt."""
    directory.mkdir(parents=True, exist_ok=True)
    diffs: dict[str, list[Mismatch]] = defaultdict(list)
    for m in report.mismatches:
        diffs[m.stem.split("#")[0]].append(m)
    written = 0
    for stem in sorted(report.failed_stems)[:limit]:
        text, truth = letters[stem]
        (directory / f"{stem}.txt").write_text(text, encoding="utf-8", newline="")
        (directory / f"{stem}.truth.json").write_text(
            json.dumps(truth_to_dict(truth), indent=2), encoding="utf-8"
        )
        det = results.get(stem)
        got = det.to_dict() if det else {"error": "parser raised"}
        (directory / f"{stem}.got.json").write_text(json.dumps(got, indent=2), encoding="utf-8")
        lines = [
            f"{m.stem}\t{m.field}\texpected={m.expected!r}\tgot={m.got!r}" for m in diffs[stem]
        ]
        (directory / f"{stem}.diff.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += 1
    return written


Corpus = Sequence[tuple[str, str, Truth]]


def _profile(parse: Callable[..., Any], corpus: Corpus, top: int) -> None:
    """Run the parser again under cProfile; print the top functions by own time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for stem, text, _ in corpus:
        with contextlib.suppress(Exception):
            parse(text, source=stem)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    print("\nparser profile (second pass, by own time):")
    print(buf.getvalue().split("\n", 4)[-1].strip("\n"))
    print("", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; exit 1 with --strict when an accuracy target is missed."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_parse", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("-n", type=int, default=5000, help="number of letters (default 5000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layout", action="append", choices=(*ALL_LAYOUTS, "all"),
                    help="repeatable; all: every layout (default: the generator's default "
                    "cycle)")  # fmt: skip
    ap.add_argument("--traps", action=argparse.BooleanOptionalAction, default=None,
                    help="partial approvals, wrapped headings, numbered lines in guidelines and "
                    "rationales (default: the generator's default)")  # fmt: skip
    ap.add_argument("--no-noise", action="store_true", help="clean letters, no pdftotext noise")
    ap.add_argument("--show", type=int, default=10, help="sample mismatches to print")
    ap.add_argument("--dump", type=Path, metavar="DIR", help="write failing letters here")
    ap.add_argument("--dump-max", type=int, default=200, help="at most this many (default 200)")
    ap.add_argument(
        "--strict", action="store_true", help="exit 1 when an accuracy target is missed"
    )
    ap.add_argument("--profile", type=int, nargs="?", const=25, metavar="N",
                    help="profile a second pass; print the top N functions")  # fmt: skip
    args = ap.parse_args(argv)

    from search.parse import parse_text  # imported late: the parser may be mid-rewrite

    t0 = time.perf_counter()
    corpus = list(
        generate_corpus(
            args.n,
            args.seed,
            layouts=layout_choice(args.layout),
            noise=not args.no_noise,
            traps=args.traps,
        )
    )
    gen = time.perf_counter() - t0
    n_bytes = sum(len(text.encode("utf-8")) for _, text, _ in corpus)
    print(f"generated {len(corpus)} letters in {gen:.2f}s (seed {args.seed})", flush=True)

    for stem, text, _ in corpus[:50]:  # warm up: compile regexes, load tables
        with contextlib.suppress(Exception):  # a crash is reported by the timed run below
            parse_text(text, source=stem)
    results: dict[str, Determination | None] = {}
    report = Report()
    w0, c0 = time.perf_counter(), time.process_time()
    for stem, text, _ in corpus:
        try:
            results[stem] = parse_text(text, source=stem)
        except Exception:  # a parser crash is a result to report
            results[stem] = None
            report.errors.append((stem, traceback.format_exc(limit=3)))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0

    for stem, _, truth in corpus:
        compare(report, stem, truth, results[stem])
    ok = print_report(report, len(corpus), n_bytes, wall, cpu, args.show, sys.stdout)
    if args.dump:
        letters = {stem: (text, truth) for stem, text, truth in corpus}
        k = dump(args.dump, letters, report, results, args.dump_max)
        print(f"\nwrote {k} failing letters to {args.dump}")
    if args.profile:
        _profile(parse_text, corpus, args.profile)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
