"""The peers of the scale benchmark: SQLite FTS5 and tantivy over the same parsed letters.

Both index the same documents as ours: one per decision (one per letter without parsed
decisions), with the letter's text fields copied onto each of its decisions (our engine
spreads letter-level matches to every decision of the letter the same way), and the facet
values as columns their indexes serve. Parsing is not part of their indexing time (they load
our parsed records). Each answers a query as ours does: facet counts over every match, the
matching letters and decisions counted, the best 20 letters, and a highlighted rationale
passage for each.

FTS5 runs one MATCH per query into a temporary table, then counts and ranks from that table
(a second, 20-row MATCH only to make snippets), with the facets as indexed plain columns and
a page cache of the same 256 MiB our engine gives its posting cache. tantivy (Rust, through
its Python binding) gets one document per decision, facets as fast fields (terms
aggregations), the letter as a fast field (cardinality aggregation for the letter count) and
its SnippetGenerator.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from benchmarks import querymix

PEERS: Final = ("fts5", "tantivy")
CACHE_MIB: Final = 256  # the same as our engine's decoded-postings cache
TEXT: Final = ("request", "rationale", "summary", "reviewer", "other")
SINGLE: Final = ("outcome", "drug", "drug_class", "category", "year", "sex", "age")
MULTI: Final = ("guideline", "state", "specialty")
TOP: Final = 20
SEP: Final = "\x1f"


def documents(ix: Path) -> Iterator[dict[str, Any]]:
    """The documents of every letter in our index: texts, letter number, facet values."""
    from search.engine.docs import decision_texts, letter_texts
    from search.engine.searcher import SearchIndex
    from search.fields import age_band
    from search.model import determination_from_dict
    from search.schema import C_REC, unpack_record

    letter = 0
    with SearchIndex.open(ix) as index:
        for leaf in index._current().leaves:
            column = leaf.reader.column_reader(C_REC, translate=False)
            for start in leaf.data.starts:
                if not leaf.live[start]:
                    continue
                rec = determination_from_dict(unpack_record(column[int(start)]))
                letter += 1
                lt = letter_texts(rec)
                base = {
                    **lt,
                    "letter": letter,
                    "date": rec.date_assigned or "",
                    "year": str(rec.year or ""),
                    "sex": rec.worker.sex or "",
                    "age": age_band(rec.worker.age) or "",
                    "state": list(rec.reviewer.states),
                    "specialty": list(rec.reviewer.specialties),
                }
                if not rec.decisions:
                    yield {**base, "request": "", "rationale": "", "outcome": "", "drug": "",
                           "drug_class": "", "category": "", "guideline": []}  # fmt: skip
                for d in rec.decisions:
                    yield {
                        **base,
                        **decision_texts(d),
                        "outcome": d.outcome or "",
                        "drug": d.drug or "",
                        "drug_class": d.drug_class or "",
                        "category": d.category or "",
                        "guideline": list(d.guideline_sources),
                    }


# --- SQLite FTS5 ----------------------------------------------------------------------------


def _fts_connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA cache_size = -{CACHE_MIB * 1024}")
    db.execute(f"PRAGMA mmap_size = {1 << 34}")  # read through the OS page cache, as ours
    return db


def fts_build(path: Path, ix: Path) -> dict[str, Any]:
    """Load our parsed records into an FTS5 table and indexed facet columns."""
    path.unlink(missing_ok=True)
    t = time.perf_counter()
    db = _fts_connect(path)
    cols = ", ".join(f"{c} TEXT" for c in (*SINGLE, *MULTI))
    db.executescript(
        f"""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        CREATE VIRTUAL TABLE fts USING fts5({", ".join(TEXT)});
        CREATE TABLE dec(rowid INTEGER PRIMARY KEY, letter INTEGER, date TEXT, {cols});
        """
    )
    n = 0
    for n, doc in enumerate(documents(ix), 1):
        db.execute(f"INSERT INTO fts(rowid, {', '.join(TEXT)}) VALUES (?,?,?,?,?,?)",
                   (n, *(doc[c] for c in TEXT)))  # fmt: skip
        multi = [SEP.join(doc[c]) for c in MULTI]  # several values in one column
        db.execute(f"INSERT INTO dec VALUES (?,?,?,{','.join('?' * (len(SINGLE) + len(MULTI)))})",
                   (n, doc["letter"], doc["date"], *(doc[c] for c in SINGLE), *multi))  # fmt: skip
    db.executescript(
        "".join(f"CREATE INDEX dec_{c} ON dec({c});" for c in SINGLE)
        + "CREATE INDEX dec_letter ON dec(letter); INSERT INTO fts(fts) VALUES ('optimize');"
    )
    db.commit()
    db.close()
    return {"seconds": time.perf_counter() - t, "docs": n, "mb": path.stat().st_size / 1e6}


def fts_query(db: sqlite3.Connection, q: querymix.Query) -> tuple[int, int]:
    """Answer one query; (matching documents, matching letters)."""
    db.execute("DELETE FROM m")
    match = q.fts()
    where = " AND ".join(f"d.{k} = ?" for k in q.filters) or "1"
    values = list(q.filters.values())
    if match is not None:
        # The one MATCH, then the filters by primary key (a join with the MATCH as a
        # subquery lets SQLite run the MATCH once per filtered row: quadratic).
        db.execute("INSERT INTO m SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ?", [match])
        if q.filters:
            db.execute(
                "DELETE FROM m WHERE NOT EXISTS (SELECT 1 FROM dec d"
                f" WHERE d.rowid = m.rowid AND {where})",
                values,
            )
    else:
        db.execute(f"INSERT INTO m SELECT d.rowid, 0 FROM dec d WHERE {where}", values)
    # One pass over the matches' facet columns, counted here: seven GROUP BYs would look
    # every match up seven times.
    counts: dict[str, Counter[str]] = {c: Counter() for c in (*SINGLE, *MULTI)}
    letter_set: set[int] = set()
    docs = 0
    for row in db.execute(
        f"SELECT d.letter, {', '.join('d.' + c for c in (*SINGLE, *MULTI))}"
        " FROM m CROSS JOIN dec d ON d.rowid = m.rowid"
    ):
        docs += 1
        letter_set.add(row[0])
        for c, v in zip(SINGLE, row[1 : 1 + len(SINGLE)], strict=True):
            counts[c][v] += 1
        for c, v in zip(MULTI, row[1 + len(SINGLE) :], strict=True):
            if v:
                counts[c].update(v.split(SEP))
    letters = len(letter_set)
    order = "min(m.s)" if match is not None else "max(d.date)"
    top = db.execute(
        f"SELECT d.letter, {order}, min(m.rowid) FROM m CROSS JOIN dec d ON d.rowid = m.rowid"
        f" GROUP BY d.letter ORDER BY 2 {'ASC' if match is not None else 'DESC'} LIMIT {TOP}"
    ).fetchall()
    if match is not None and top:
        rows = ",".join(str(r[2]) for r in top)
        db.execute(
            "SELECT rowid, snippet(fts, 1, '<mark>', '</mark>', '…', 24) FROM fts"
            f" WHERE fts MATCH ? AND rowid IN ({rows})",
            [match],
        ).fetchall()
    return int(docs), int(letters)


def fts_child(path: Path, mix_path: Path, cold: bool) -> dict[str, Any]:
    """Fresh process: open, first query, the mix unseen then warm (cold: files dropped from
    the page cache first, the mix once)."""
    from benchmarks.bench_scale import evict_page_cache

    mix = querymix.load(mix_path)
    evicted = evict_page_cache(path) if cold else 0.0
    t = time.perf_counter()
    db = _fts_connect(path)
    db.execute("CREATE TEMP TABLE m(rowid INTEGER PRIMARY KEY, s REAL)")
    opened = time.perf_counter()
    return {**_timed(mix, lambda q: fts_query(db, q), t, opened, cold), "evicted_mb": evicted}


# --- tantivy ----------------------------------------------------------------------------------


def _tantivy_schema() -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    for c in TEXT:
        sb.add_text_field(c, stored=c == "rationale")
    for c in (*SINGLE, *MULTI):
        sb.add_text_field(c, fast=True, tokenizer_name="raw")
    sb.add_integer_field("letter", stored=True, fast=True)
    sb.add_text_field("date", fast=True, tokenizer_name="raw")
    return sb.build()


def tantivy_build(path: Path, ix: Path) -> dict[str, Any]:
    """Index our parsed records with tantivy (its writer on every core, 256 MiB heap)."""
    import shutil

    import tantivy

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    t = time.perf_counter()
    index = tantivy.Index(_tantivy_schema(), path=str(path))
    writer = index.writer(heap_size=CACHE_MIB << 20)
    n = 0
    for doc in documents(ix):
        n += 1
        fields: dict[str, Any] = {c: doc[c] for c in TEXT}
        fields.update({c: doc[c] for c in SINGLE if doc[c]})
        fields.update({c: doc[c] for c in MULTI if doc[c]})
        fields["letter"] = doc["letter"]
        fields["date"] = doc["date"]
        writer.add_document(tantivy.Document(**fields))
    writer.commit()
    writer.wait_merging_threads()
    size = sum(f.stat().st_size for f in path.iterdir())
    return {"seconds": time.perf_counter() - t, "docs": n, "mb": size / 1e6}


def tantivy_child(path: Path, mix_path: Path, cold: bool) -> dict[str, Any]:
    """Fresh process: open, first query, the mix unseen then warm (cold: files dropped from
    the page cache first, the mix once)."""
    import tantivy

    from benchmarks.bench_scale import evict_page_cache

    mix = querymix.load(mix_path)
    evicted = evict_page_cache(path) if cold else 0.0
    t = time.perf_counter()
    index = tantivy.Index.open(str(path))
    searcher = index.searcher()
    schema = index.schema
    opened = time.perf_counter()
    aggs = {c: {"terms": {"field": c, "size": 1000}} for c in (*SINGLE, *MULTI)}
    aggs["letters"] = {"cardinality": {"field": "letter"}}

    def run(q: querymix.Query) -> tuple[int, int]:
        must = tantivy.Occur.Must
        parts = []
        text = q.tantivy()
        if text is not None:
            parts.append((must, index.parse_query(text, list(TEXT))))
        for k, v in q.filters.items():
            parts.append((must, tantivy.Query.term_query(schema, k, v)))
        query = parts[0][1] if len(parts) == 1 else tantivy.Query.boolean_query(parts)
        found = searcher.search(query, 3 * TOP, count=True)
        agg = searcher.aggregate(query, aggs)
        letters = int(agg.get("letters", {}).get("value", 0))
        if text is not None:
            snippets = tantivy.SnippetGenerator.create(searcher, query, schema, "rationale")
            seen: set[int] = set()
            for _score, address in found.hits:
                doc = searcher.doc(address)
                letter = doc["letter"][0]
                if letter in seen or len(seen) >= TOP:
                    continue
                seen.add(letter)
                snippets.snippet_from_doc(doc).to_html()
        return int(found.count or 0), letters

    return {**_timed(mix, run, t, opened, cold), "evicted_mb": evicted}


# --- shared ----------------------------------------------------------------------------------


def _timed(
    mix: list[querymix.Query],
    run: Callable[[querymix.Query], tuple[int, int]],
    started: float,
    opened: float,
    cold: bool = False,
) -> dict[str, Any]:
    from benchmarks.bench_scale import _status

    run(mix[0])
    first = time.perf_counter()
    unseen, warm, docs, letters = [], [], [], []
    for q in mix:
        t = time.perf_counter()
        d, lt = run(q)
        unseen.append((time.perf_counter() - t) * 1000)
        docs.append(d)
        letters.append(lt)
    for q in [] if cold else mix:
        t = time.perf_counter()
        run(q)
        warm.append((time.perf_counter() - t) * 1000)
    return {
        "open_ms": (opened - started) * 1000,
        "first_query_ms": (first - started) * 1000,
        "unseen_ms": unseen,
        "warm_ms": warm,
        "docs": docs,
        "letters": letters,
        "memory_mb": _status(),
    }


def child(kind: str, args: list[str]) -> dict[str, Any]:
    """The peers' child-process entry points."""
    path, other = Path(args[0]), Path(args[1])
    if kind == "fts5-build":
        return fts_build(path, other)
    cold = args[2:] == ["cold"]
    if kind == "fts5":
        return fts_child(path, other, cold)
    if kind == "tantivy-build":
        return tantivy_build(path, other)
    if kind == "tantivy":
        return tantivy_child(path, other, cold)
    raise SystemExit(f"unknown child {kind!r}")


def run_all(
    work: Path,
    ix: Path,
    mix_path: Path,
    run_child: Callable[[list[str]], dict[str, Any]],
    fts5_mix: Path | None = None,
    letters: int | None = None,
    names: Sequence[str] = PEERS,
) -> dict[str, dict[str, Any]]:
    """Build (once per corpus size) and query both peers, each in fresh processes (FTS5 on
    `fts5_mix`, a prefix of the mix, when given)."""
    import json

    # a staged run grows one index (100k, then 300k, ...): each size gets its own peer stores
    tag = "" if letters is None else f"-{letters}"
    out: dict[str, dict[str, Any]] = {}
    stores = {"fts5": work / f"fts5{tag}.sqlite", "tantivy": work / f"tantivy{tag}"}
    for name, store in ((n, stores[n]) for n in names):
        marker = work / f"{name}{tag}.built.json"
        if not marker.exists():
            marker.write_text(json.dumps(run_child([f"{name}-build", str(store), str(ix)])))
        mix = fts5_mix if name == "fts5" and fts5_mix is not None else mix_path
        cold = run_child([name, str(store), str(mix), "cold"])
        result = {**run_child([name, str(store), str(mix)]), "cold": cold}
        result["build"] = json.loads(marker.read_text())
        out[name] = result
    return out
