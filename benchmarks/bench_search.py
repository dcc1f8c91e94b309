"""Benchmark: generate N letters, index them, run a fixed query mix, compare with SQLite FTS5.

    python -m benchmarks.bench_search -n 10000 [--workdir DIR] [--repeat 5] [--reuse]

Prints indexing letters/s, query p50/p95 (each query with facet counts over every match and
highlights of the first page), index size and peak memory; then runs the same records and
an equivalent mix through SQLite FTS5 (stdlib sqlite3) and prints the latency ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.engine.searcher import SearchIndex
from search.fields import age_band
from search.index import index_paths, storage_size
from search.model import Determination, determination_from_dict
from search.results import SearchRequest
from search.schema import C_REC, unpack_record


@dataclass(frozen=True)
class Case:
    """One query of the mix, for our engine and for FTS5."""

    name: str
    q: str
    filters: dict[str, tuple[str, ...]]
    fts: str | None  # FTS5 MATCH expression (None: no text query)
    fts_filters: tuple[tuple[str, str], ...] = ()


MIX = (
    Case("rare term", "zanaflex", {}, "zanaflex"),
    Case("common term", "pain", {}, "pain"),
    Case("phrase", '"medically necessary"', {}, '"medically necessary"'),
    Case(
        "boolean",
        "(norco OR tramadol) AND opioids NOT upheld",
        {},
        "(norco OR tramadol) AND opioids NOT upheld",
    ),
    Case(
        "filtered",
        "tizanidine",
        {"outcome": ("Overturned",), "state": ("California",)},
        "tizanidine",
        (("outcome", "Overturned"), ("state", "California")),
    ),
    Case("broad: all facets", "", {}, None),
    Case("broad: filter only", "", {"drug": ("tizanidine",)}, None, (("drug", "tizanidine"),)),
)


def _peak_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _records(index: SearchIndex) -> Iterator[Determination]:
    """Every stored record of the index (read straight from the segments)."""
    for leaf in index._current().leaves:
        column = leaf.reader.column_reader(C_REC, translate=False)
        for start in leaf.data.starts:
            if leaf.live[start]:
                yield determination_from_dict(unpack_record(column[int(start)]))


def _ours(index: SearchIndex, repeat: int, cold: list[float]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for case in MIX:
        request = SearchRequest(q=case.q, filters=case.filters)
        t = time.perf_counter()
        index.search(request)  # cold: first use of its terms (decoded lists are then cached)
        cold.append((time.perf_counter() - t) * 1000)
        for _ in range(repeat):
            t = time.perf_counter()
            response = index.search(request)
            times.setdefault(case.name, []).append((time.perf_counter() - t) * 1000)
        print(
            f"  {case.name:<20} {statistics.median(times[case.name]):8.1f} ms  "
            f"(cold {cold[-1]:6.1f} ms)  "
            f"{response.total_determinations:>7} letters {response.total_decisions:>7} decisions"
        )
    return times


FACET_SQL = (
    "outcome",
    "drug",
    "drug_class",
    "category",
    "guideline",
    "state",
    "specialty",
    "year",
    "sex",
    "age",
)


def _build_fts(db: sqlite3.Connection, records: Iterator[Determination]) -> int:
    db.executescript(
        """
        CREATE VIRTUAL TABLE fts USING fts5(request, rationale, summary);
        CREATE TABLE dec(rowid INTEGER PRIMARY KEY, letter INTEGER, date TEXT);
        CREATE TABLE facet(rowid INTEGER, facet TEXT, value TEXT);
        """
    )
    rowid = 0
    n = 0
    for letter, rec in enumerate(records):
        n += 1
        summary = rec.section("case_summary")
        for d in rec.decisions or ():
            rowid += 1
            db.execute(
                "INSERT INTO fts(rowid, request, rationale, summary) VALUES (?,?,?,?)",
                (rowid, d.request, d.rationale, summary),
            )
            db.execute("INSERT INTO dec VALUES (?,?,?)", (rowid, letter, rec.date_assigned))
            values: list[tuple[str, str]] = [
                ("outcome", d.outcome or ""),
                ("drug", d.drug or ""),
                ("drug_class", d.drug_class or ""),
                ("category", d.category),
                ("year", str(rec.year or "")),
                ("sex", rec.worker.sex or ""),
                ("age", age_band(rec.worker.age) or ""),
            ]
            values += [("guideline", g) for g in d.guideline_sources]
            values += [("state", s) for s in rec.reviewer.states]
            values += [("specialty", s) for s in rec.reviewer.specialties]
            db.executemany(
                "INSERT INTO facet VALUES (?,?,?)", [(rowid, f, v) for f, v in values if v]
            )
    db.executescript(
        "CREATE INDEX facet_row ON facet(rowid); CREATE INDEX facet_fv ON facet(facet, value);"
    )
    db.commit()
    return n


def _fts_query(db: sqlite3.Connection, case: Case) -> tuple[int, Any]:
    """Facet counts over all matches, top 20 letters by bm25 with rationale snippets."""
    where = []
    args: list[Any] = []
    if case.fts:
        where.append("rowid IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
        args.append(case.fts)
    for facet, value in case.fts_filters:
        where.append(
            "rowid IN (SELECT rowid FROM facet WHERE facet = ? AND value = ? COLLATE NOCASE)"
        )
        args += [facet, value]
    cond = " AND ".join(where) or "1"
    facets = db.execute(
        "SELECT facet, value, count(*) FROM facet"
        f" WHERE rowid IN (SELECT rowid FROM dec WHERE {cond}) GROUP BY facet, value",
        args,
    ).fetchall()
    total = db.execute(
        f"SELECT count(DISTINCT letter), count(*) FROM dec WHERE {cond}", args
    ).fetchone()
    if case.fts:
        # bm25() only works in a plain query of the FTS table: rank there, group outside.
        top = db.execute(
            "WITH m AS MATERIALIZED (SELECT rowid, bm25(fts) AS s FROM fts WHERE fts MATCH ?)"
            " SELECT dec.letter, min(m.s), m.rowid FROM m JOIN dec ON dec.rowid = m.rowid"
            f" WHERE dec.rowid IN (SELECT rowid FROM dec WHERE {cond})"
            " GROUP BY dec.letter ORDER BY 2 LIMIT 20",
            [case.fts, *args],
        ).fetchall()
        rows = ",".join(str(r[2]) for r in top) or "0"
        snippets = db.execute(
            "SELECT snippet(fts, 1, '<mark>', '</mark>', '…', 24) FROM fts"
            f" WHERE fts MATCH ? AND rowid IN ({rows})",
            [case.fts],
        ).fetchall()
        top = [*top, *snippets]
    else:
        top = db.execute(
            f"SELECT DISTINCT letter FROM dec WHERE {cond} ORDER BY date DESC LIMIT 20", args
        ).fetchall()
    return total[0], (facets, top)


def _fts(db: sqlite3.Connection, repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for case in MIX:
        _fts_query(db, case)
        for _ in range(repeat):
            t = time.perf_counter()
            letters, _ = _fts_query(db, case)
            times.setdefault(case.name, []).append((time.perf_counter() - t) * 1000)
        print(
            f"  {case.name:<20} {statistics.median(times[case.name]):8.1f} ms  {letters:>7} letters"
        )
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_search", description=__doc__)
    p.add_argument("-n", type=int, default=10_000, help="letters (default 10000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, default=None, help="default benchmarks/out/bench-N")
    p.add_argument("--repeat", type=int, default=7, help="timed runs per query")
    p.add_argument("--reuse", action="store_true", help="reuse letters and index in workdir")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--no-fts", action="store_true")
    args = p.parse_args(argv)
    from search.generate import write_corpus

    work = args.workdir or Path("benchmarks/out") / f"bench-{args.n}"
    letters = work / "letters"
    ix = work / "index"
    if not args.reuse or not letters.exists():
        shutil.rmtree(work, ignore_errors=True)
        t = time.perf_counter()
        write_corpus(letters, args.n, args.seed)
        print(f"generated {args.n} letters in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not args.reuse or not ix.exists():
        t = time.perf_counter()
        summary = index_paths(ix, [letters], rebuild=True, workers=args.workers)
        elapsed = time.perf_counter() - t
        print(f"indexing: {summary}")
        print(f"indexing: {args.n / elapsed:.0f} letters/s (wall, {os.cpu_count()} cores)")
    own, kids = _peak_mb()
    print(
        f"index size: {storage_size(ix) / 1e6:.1f} MB; "
        f"peak RSS indexing: main {own:.0f} MB, workers {kids:.0f} MB"
    )

    t = time.perf_counter()
    index = SearchIndex.open(ix)
    index.search(SearchRequest())
    print(
        f"open + first search (column caches): {(time.perf_counter() - t) * 1000:.0f} ms; "
        f"segments {len(index._current().leaves)}"
    )
    print(f"whoosh engine, {args.repeat} runs each (median):")
    cold: list[float] = []
    ours = _ours(index, args.repeat, cold)
    flat = [v for vs in ours.values() for v in vs]
    p50, p95 = _pct(flat, 50), _pct(flat, 95)
    print(f"whoosh engine: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(flat)} queries")
    print(
        f"whoosh engine, cold (first run of each query): "
        f"median {_pct(cold, 50):.1f} ms, max {max(cold):.1f} ms"
    )
    own, _ = _peak_mb()
    print(f"peak RSS after queries: {own:.0f} MB")
    if args.no_fts:
        return 0
    db_path = work / "fts.sqlite"
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    t = time.perf_counter()
    n = _build_fts(db, _records(index))
    elapsed = time.perf_counter() - t
    print(
        f"fts5: loaded {n} parsed records in {elapsed:.1f} s ({n / elapsed:.0f} letters/s, "
        f"parsing not included); size {db_path.stat().st_size / 1e6:.1f} MB"
    )
    print(f"sqlite fts5, {args.repeat} runs each (median):")
    fts = _fts(db, args.repeat)
    flat_fts = [v for vs in fts.values() for v in vs]
    f50, f95 = _pct(flat_fts, 50), _pct(flat_fts, 95)
    print(f"sqlite fts5: p50 {f50:.1f} ms, p95 {f95:.1f} ms")
    print(f"ratio whoosh/fts5: p50 {p50 / f50:.2f}x, p95 {p95 / f95:.2f}x")
    index.close()
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
