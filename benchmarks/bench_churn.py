"""Index size under updates: many update cycles versus a fresh build of the same letters.

    python -m benchmarks.bench_churn [--letters 2000] [--cycles 225] [--edits 20] [--seed 1]

Builds an index of generated letters, then runs `cycles` update runs of the real indexer,
each editing `edits` random letters (an amended paragraph: the letter is re-indexed, its old
documents deleted); finally builds a fresh index of the same folder and prints both sizes,
the segments and the deleted documents left. `--deletes-allowed 1` turns off merging for
deletions (the previous policy: only the smallest segments were ever merged).
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from search.engine import mergepolicy
from search.index import index_paths, open_index, storage_size


def segments(index: Path) -> tuple[int, int, int]:
    """(segments, documents, deleted documents) of the index's current generation."""
    ix = open_index(index)
    try:
        segs = ix.toc().segments
        return len(segs), sum(s.doc_count_all() for s in segs), sum(s.deleted_count() for s in segs)
    finally:
        ix.close()


def churn(root: Path, letters: int, cycles: int, edits: int, seed: int) -> dict[str, float]:
    """Run the cycles; the measurements."""
    from search.generate import write_corpus

    rng = random.Random(seed)
    folder = root / "letters"
    paths = write_corpus(folder, letters, seed)
    index = root / "index"
    index_paths(index, [folder], workers=1)
    t0 = time.monotonic()
    for cycle in range(cycles):
        for path in rng.sample(paths, edits):
            with path.open("a", encoding="utf-8") as f:
                f.write(f"\nAmended in update cycle {cycle}.\n")
        index_paths(index, [folder], workers=1)
    seconds = time.monotonic() - t0
    fresh = root / "fresh"
    index_paths(fresh, [folder], workers=1)
    segs, docs, deleted = segments(index)
    return {
        "size": storage_size(index),
        "fresh": storage_size(fresh),
        "segments": segs,
        "docs": docs,
        "deleted": deleted,
        "fresh_docs": segments(fresh)[1],
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the sizes after the update cycles and of a fresh build."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_churn", description=__doc__)
    p.add_argument("--letters", type=int, default=2000)
    p.add_argument("--cycles", type=int, default=225)
    p.add_argument("--edits", type=int, default=20, help="letters edited per cycle")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--deletes-allowed", type=float, default=mergepolicy.DELETES_ALLOWED)
    args = p.parse_args(argv)
    setattr(mergepolicy, "DELETES_ALLOWED", args.deletes_allowed)  # noqa: B010 (a Final)
    root = Path(tempfile.mkdtemp(prefix="imr-churn-"))
    try:
        m = churn(root, args.letters, args.cycles, args.edits, args.seed)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{args.letters} letters, {args.cycles} update cycles of {args.edits} edited letters, "
        f"deletes allowed per segment {args.deletes_allowed:.0%}:"
    )
    print(
        f"  updated index {m['size'] / 1e6:.2f} MB in {m['segments']:.0f} segments, "
        f"{m['docs']:.0f} documents of which {m['deleted']:.0f} deleted; "
        f"fresh build {m['fresh'] / 1e6:.2f} MB ({m['fresh_docs']:.0f} documents); "
        f"ratio {m['size'] / m['fresh']:.2f}; cycles took {m['seconds']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
