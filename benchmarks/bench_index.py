"""CPU per letter of indexing, stage by stage, and of a real `index` run with parse workers.

    python -m benchmarks.bench_index [-n 3000] [--seed 1] [--letters DIR] [--workers 2]
                                     [--rounds 1] [--no-run] [--digest]

CPU time (not wall time), so other work on a shared machine inflates it little. Stages run
in this process on one core, in the order an index run does them: parse (load + parse a
file), docs (a letter's Whoosh documents: analysis, the packed record), invert (a chunk of
documents into posting arrays), ipc (pickling a chunk and unpickling it, as the pool does),
write (the writer adding the chunk) and commit (writing the segment). Then a real
`index_paths` run in a fresh child process with `--workers` parse workers, its CPU split
three ways: the writer's, the background merges' (which the merge process reports) and the
parse workers' (getrusage of the children, less the merges'). `--digest` prints a hash of
the segments' files the stage run wrote (segment names fixed), to check that a change leaves
the index byte-identical. Letters are generated first (not timed) unless --letters is given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STAGES = ("parse", "docs", "invert", "ipc", "write", "commit")
PARSE_SIDE = ("parse", "docs", "invert")  # in the parse workers (ipc: half each side)


def stage_run(files: list[Path], index_dir: Path) -> dict[str, float]:
    """CPU seconds of each stage over the files, in one process, writing one segment."""
    from search.engine.chunk import invert
    from search.engine.docs import record_documents
    from search.engine.writer import FastWriter
    from search.index import create_or_open_index
    from search.index_pool import CHUNK
    from search.parse.limit import parse_limited
    from search.parse.load import load_file

    clock = time.process_time
    spent = dict.fromkeys(STAGES, 0.0)
    random.seed(0)  # Whoosh names segments at random: fixed names, comparable files
    writer = FastWriter(create_or_open_index(index_dir))
    for start in range(0, len(files), CHUNK):
        t0 = clock()
        records = [(parse_limited(load_file(p)), str(p)) for p in files[start : start + CHUNK]]
        t1 = clock()
        docs = [doc for record, key in records for doc in record_documents(record, key)]
        t2 = clock()
        inverted = invert(docs)
        t3 = clock()
        inverted = pickle.loads(pickle.dumps(inverted, pickle.HIGHEST_PROTOCOL))
        t4 = clock()
        writer.add_chunk(inverted)
        t5 = clock()
        for stage, a, b in zip(STAGES, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5), strict=False):
            spent[stage] += b - a
    t = clock()
    writer.commit()
    spent["commit"] = clock() - t
    return spent


def digest(index_dir: Path) -> str:
    """A hash of the files inside the index's segments (names and bytes; the compound
    file's own directory is left out: it records each file's modification time)."""
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(str(index_dir))
    h = hashlib.sha256()
    for name in sorted(storage.list()):
        if name.endswith(".seg"):
            segment = CompoundStorage(storage.open_file(name), use_mmap=False)
            for inner in sorted(segment.list()):
                h.update(inner.encode() + b"\0" + segment.open_file(inner).read())
    return h.hexdigest()[:16]


def rss_anon_mb() -> float:
    """This process's heap: resident anonymous memory (RssAnon), in MB. Peak RSS (VmHWM) also
    counts the clean, evictable pages of the segments a merge reads through memory maps."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


class HeapPeak:
    """The peak of rss_anon_mb() while the block runs, sampled by a thread every `every` s
    (tracemalloc would slow the writer several times over)."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_anon_mb())
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> HeapPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon_mb())


def _child_run(letters: str, index_dir: str, workers: int) -> None:
    """In a fresh process: index the letters, print the CPU of writer and workers as JSON."""
    from search.index import index_paths

    t = time.perf_counter()
    with HeapPeak() as heap:
        summary = index_paths(index_dir, [letters], workers=workers, rebuild=True)
    wall = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "added": summary.added,
                "wall": wall,
                "writer": own.ru_utime + own.ru_stime,
                # the children are the parse workers and the merge process, which reports
                # its own CPU: the workers' is the rest
                "workers": kids.ru_utime + kids.ru_stime - summary.merge_cpu,
                "merges": summary.merge_cpu,
                "peak_rss_writer_mb": own.ru_maxrss / 1024,
                "peak_heap_writer_mb": heap.peak,
                "peak_rss_parse_worker_mb": kids.ru_maxrss / 1024,
            }
        )
    )


def index_run(letters: Path, workers: int) -> dict[str, Any]:
    """A real index run in a child process; its CPU per letter, writer and workers apart."""
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        code = (
            "import sys; from benchmarks.bench_index import _child_run; "
            "_child_run(sys.argv[1], sys.argv[2], int(sys.argv[3]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(letters), tmp, str(workers)],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=3000, help="letters to generate (default 3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--letters", type=Path, help="a folder of letters instead of generating")
    ap.add_argument("--workers", type=int, default=2, help="parse workers of the real run")
    ap.add_argument("--rounds", type=int, default=1, help="repeat and report the lowest")
    ap.add_argument("--no-run", action="store_true", help="stages only, no real index run")
    ap.add_argument("--digest", action="store_true", help="print the segment files' hash")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        letters = args.letters
        if letters is None:
            from search.generate.letters import write_corpus

            letters = tmp / "letters"
            write_corpus(letters, args.n, seed=args.seed)
        files = sorted(p for p in letters.iterdir() if p.suffix in (".txt", ".pdf"))
        n = len(files)
        best = dict.fromkeys(STAGES, float("inf"))
        for r in range(args.rounds):
            index_dir = tmp / f"stages-{r}"
            spent = stage_run(files, index_dir)
            best = {k: min(best[k], spent[k]) for k in STAGES}
            if args.digest:
                print(f"segment digest: {digest(index_dir)}")
            shutil.rmtree(index_dir)
        ms = {k: 1000 * v / n for k, v in best.items()}
        parse_side = sum(ms[k] for k in PARSE_SIDE) + ms["ipc"] / 2
        write_side = ms["write"] + ms["commit"] + ms["ipc"] / 2
        print(f"== {n:,} letters, CPU ms per letter (one core, lowest of {args.rounds})")
        print("  " + "  ".join(f"{k} {ms[k]:.3f}" for k in STAGES))
        print(
            f"  parse side {parse_side:.3f}, write side {write_side:.3f}, "
            f"total {parse_side + write_side:.3f} ms ({1000 / (parse_side + write_side):,.0f} "
            "letters/s of one core)"
        )
        if not args.no_run:
            runs = [index_run(letters, args.workers) for _ in range(args.rounds)]
            run = min(runs, key=lambda r: r["writer"] + r["workers"] + r["merges"])
            added = run["added"] or 1
            writer, workers, merges = (
                1000 * run[k] / added for k in ("writer", "workers", "merges")
            )
            total = writer + workers + merges
            print(
                f"== index run, {args.workers} parse workers: {total:.3f} ms CPU per letter "
                f"(writer {writer:.3f}, parse workers {workers:.3f}, merges {merges:.3f}, "
                f"start-up included); {2000 / total:,.0f} letters/s of 2 cores' CPU; "
                f"wall {added / run['wall']:,.0f} letters/s (shared machine); writer peak "
                f"RSS {run['peak_rss_writer_mb']:.0f} MB, peak heap "
                f"{run['peak_heap_writer_mb']:.0f} MB; each child (parse worker, merge) <= "
                f"{run['peak_rss_parse_worker_mb']:.0f} MB"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
