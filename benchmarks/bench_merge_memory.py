"""Memory of one merge on a real index: the merge child's peak RSS, heap and mapped pages.

    python -m benchmarks.bench_merge_memory --index INDEX [--segments K] [--tree DIR ...]

Merges the K smallest segments of INDEX (opened read-only; the merged segment is written to a
temporary folder and removed) with `engine.background.merge_into`, the code the index run's
merge process runs, once per TREE (a folder holding a `search` package: a checkout or
`git archive REV search | tar -x`), each in a fresh process. It prints the documents merged,
CPU and wall seconds, VmHWM (peak RSS, mapped segment pages included), the heap's peak
(RssAnon sampled every 50 ms) and the mapped file pages resident at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def child(index: str, k: int) -> dict[str, Any]:
    """In a fresh process: merge the k smallest segments of `index` into a temporary folder."""
    import pickle

    from benchmarks.bench_index import HeapPeak
    from benchmarks.bench_scale import _status
    from search.engine.background import merge_into
    from search.engine.toc import newest_readable

    segments = sorted(newest_readable(index).segments, key=lambda s: s.doc_count_all())[:k]
    docs = sum(s.doc_count() for s in segments)
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as staging:
        t, cpu = time.perf_counter(), time.process_time()
        with HeapPeak() as heap:
            merged, _ = merge_into(staging, index, pickle.dumps(segments))
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        assert merged.doc_count_all() == docs
        mem = _status()
    return {"docs": docs, "wall_s": wall, "cpu_s": cpu, "heap_peak_mb": heap.peak, **mem}


def main(argv: list[str] | None = None) -> int:
    """Run the merge once per tree and print a row each."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        print(json.dumps(child(argv[1], int(argv[2]))))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_merge_memory", description=__doc__)
    p.add_argument("--index", required=True, type=Path)
    p.add_argument("--segments", type=int, default=4, help="merge the K smallest (4)")
    p.add_argument("--tree", nargs="*", default=["."], help="folders with a search package")
    args = p.parse_args(argv)
    bench = str(Path(__file__).resolve().parent.parent)
    for tree in args.tree:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(tree).resolve()), bench])}
        command = [sys.executable, "-m", "benchmarks.bench_merge_memory", "_child"]
        done = subprocess.run(
            [*command, str(args.index), str(args.segments)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=Path(__file__).parent,  # not the project root: its `search` would come first
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{tree}: {r['docs']:,} documents merged in {r['wall_s']:.1f} s ({r['cpu_s']:.1f} s"
            f" CPU); VmHWM {r['VmHWM']:.0f} MB, heap peak {r['heap_peak_mb']:.0f} MB, mapped"
            f" pages resident at the end {r['RssFile']:.0f} MB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
