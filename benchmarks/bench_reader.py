"""Benchmark: the determination page read from a search, and the charts, on a generated index.

    python -m benchmarks.bench_reader -n 2000 [--workdir DIR] [--reuse] [--repeat 3]

Prints, per query of a small mix, the latency of the search itself and of what the reader
adds when a result is opened from it (which decisions match: one evaluation of the query;
the letter's text marked), and of the charts (two searches with counts, then pure geometry).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from search.engine.searcher import SearchIndex, highlight_terms, understood_request
from search.fields import FACET_OUTCOME, OUTCOME_OVERTURNED
from search.index import index_paths
from search.results import SearchRequest
from web.charts import build_view
from web.reader import build_reader

MIX = (
    SearchRequest(q="pain"),
    SearchRequest(q="tizanidine overturned"),
    SearchRequest(q='"low back" norco', filters={"outcome": ("Upheld",)}),
    SearchRequest(q="physical therapy"),
)


def _ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall times of fn in milliseconds."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n: int, workdir: Path, reuse: bool, repeat: int) -> None:
    """Build (or reuse) an index of n generated letters and time the mix."""
    from search.generate import write_corpus

    letters, index = workdir / "letters", workdir / "index"
    if not (reuse and index.exists()):
        shutil.rmtree(workdir, ignore_errors=True)
        write_corpus(letters, n, seed=5)
        start = time.perf_counter()
        index_paths(index, [letters], workers=2)
        print(f"indexed {n} letters in {time.perf_counter() - start:.1f} s")
    with SearchIndex.open(index) as idx:
        searches, readers, marks, charts = [], [], [], []
        for req in MIX:
            resp = idx.search(req)
            searches += _ms(lambda req=req: idx.search(req), repeat)  # type: ignore[misc]
            for hit in resp.results[:5]:
                record = idx.get(hit.id)
                assert record is not None
                readers += _ms(
                    lambda hit=hit, req=req: idx.matching_ordinals(hit.id, req),  # type: ignore[misc]
                    repeat,
                )
                terms = highlight_terms(*understood_request(req))
                marks += _ms(lambda record=record, terms=terms: build_reader(record, terms, ()), 1)

            def chart(req: SearchRequest = req) -> None:
                everything = idx.search(SearchRequest(q=req.q, size=1))
                over = idx.search(
                    SearchRequest(q=req.q, size=1, filters={FACET_OUTCOME: (OUTCOME_OVERTURNED,)})
                )
                build_view(everything.facets, over.facets, OUTCOME_OVERTURNED)

            charts += _ms(chart, repeat)
        letters_n, decisions_n = idx.doc_count()
    print(f"index: {letters_n} letters, {decisions_n} decisions; {len(MIX)} queries x {repeat}")
    for name, values in (
        ("search (page 1, facets, highlights)", searches),
        ("reader: matching decisions of one letter", readers),
        ("reader: the letter marked (pure)", marks),
        ("charts: two searches + geometry", charts),
    ):
        print(
            f"{name:42s} p50 {statistics.median(values):7.2f} ms   p95 {_p(values, 0.95):7.2f} ms"
        )


def main() -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="generated letters (default 2000)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse the index in --workdir")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="imr-bench-reader-"))
    try:
        run(args.n, workdir, args.reuse, args.repeat)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
