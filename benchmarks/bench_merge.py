"""CPU of a merge's per-document values (stored fields, lengths, columns): Whoosh's
per-document calls (merging.write_per_doc) against the column copy (percopy), and the whole
merge's time with each.

    python -m benchmarks.bench_merge [--segments 6] [-n 1000] [--seed 1] [--delete 0.1]
                                     [--rounds 3]

Generates segments of `-n` letters each (search.generate; parsed, inverted and written as
an index run does, not timed), then merges them all into one segment, `--rounds` times each
way on fresh copies of the index, alternating which way goes first: once with nothing
deleted, once with `--delete` of the letters deleted in the merging commit. Prints the CPU
ms per document rewritten of the per-document stage (write_per_doc), and the whole merge's
CPU and wall seconds (the commit: per-document values, postings, files fsynced), the best
round of each. CPU time (process_time), so other work on a shared machine inflates it little.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

WAYS = ("per-doc", "column")


def build(folder: Path, letters: list[Path], segments: int) -> list[str]:
    """An index of `segments` segments of the letters; the letter ids."""
    from whoosh.writing import NO_MERGE

    from search.engine.chunk import invert
    from search.engine.docs import record_documents
    from search.index import create_or_open_index
    from search.index_pool import CHUNK
    from search.parse.limit import parse_limited
    from search.parse.load import load_file

    ids: list[str] = []
    per = -(-len(letters) // segments)
    for k in range(segments):
        writer = create_or_open_index(folder).writer()
        group = letters[k * per : (k + 1) * per]
        for start in range(0, len(group), CHUNK):
            docs = []
            for path in group[start : start + CHUNK]:
                record = parse_limited(load_file(path))
                ids.append(record.id)
                docs += record_documents(record, str(path))
            writer.add_chunk(invert(docs))
        writer.commit(mergetype=NO_MERGE)
    return ids


def merge(folder: Path, *, column_copy: bool, gone: list[str]) -> dict[str, float]:
    """Merge every segment into one (deleting `gone` in the same commit): CPU seconds of the
    per-document stage, documents it rewrote, the commit's CPU and wall seconds."""
    from whoosh.reading import SegmentReader

    from search.engine.toc import DurableIndex
    from search.schema import F_LID

    writer = DurableIndex(folder).writer()
    writer.column_copy = column_copy
    for lid in gone:
        writer.delete_by_term(F_LID, lid)
    spent = {"perdoc": 0.0, "docs": 0.0}
    stage = writer.write_per_doc

    def timed(fieldnames: Any, reader: Any) -> Any:
        t = time.process_time()
        docmap = stage(fieldnames, reader)
        spent["perdoc"] += time.process_time() - t
        spent["docs"] += reader.doc_count()
        return docmap

    writer.write_per_doc = timed  # (this writer only: its add_reader calls it)

    def merge_all(w: Any, segments: list[Any]) -> list[Any]:
        for seg in segments:
            w.add_reader(SegmentReader(w.storage, w.schema, seg))
        return []

    cpu, wall = time.process_time(), time.perf_counter()
    writer.commit(mergetype=merge_all)
    spent["cpu"] = time.process_time() - cpu
    spent["wall"] = time.perf_counter() - wall
    return spent


def merged_values(folder: Path) -> tuple[int, Any, Any]:
    """The merged segment's document count, first and last stored fields (a sanity check)."""
    from search.index import open_index

    ix = open_index(folder)
    try:
        with ix.reader() as reader:
            n = reader.doc_count_all()
            return n, reader.stored_fields(0), reader.stored_fields(n - 1)
    finally:
        ix.close()


def scenario(source: Path, work: Path, gone: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """The best round of each way (least per-document CPU; least commit CPU and wall)."""
    best: dict[str, dict[str, float]] = {}
    seen: dict[str, Any] = {}
    for r in range(rounds):
        order = WAYS if r % 2 == 0 else WAYS[::-1]
        for way in order:
            folder = work / f"{way}-{r}"
            shutil.copytree(source, folder)
            got = merge(folder, column_copy=way == "column", gone=gone)
            seen[way] = merged_values(folder)
            shutil.rmtree(folder)
            if way not in best:
                best[way] = got
            else:
                best[way] = {k: min(v, got[k]) for k, v in best[way].items()}
    assert seen["per-doc"] == seen["column"], "the two ways merged different values"
    return best


def report(label: str, best: dict[str, dict[str, float]]) -> None:
    """One scenario's lines."""
    docs = best["per-doc"]["docs"]
    print(f"\n{label}: {int(docs):,} documents rewritten")
    print(f"{'':10} {'per-doc ms/doc':>15} {'merge CPU s':>12} {'merge wall s':>13}")
    for way in WAYS:
        b = best[way]
        print(f"{way:10} {1000 * b['perdoc'] / docs:15.4f} {b['cpu']:12.2f} {b['wall']:13.2f}")
    old, new = best["per-doc"], best["column"]
    print(
        f"{'ratio':10} {new['perdoc'] / old['perdoc']:14.3f}x {new['cpu'] / old['cpu']:11.3f}x"
        f" {new['wall'] / old['wall']:12.3f}x"
    )


def main(argv: list[str] | None = None) -> int:
    """Generate, build, merge both ways, print."""
    from search.generate import write_corpus

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--segments", type=int, default=6)
    ap.add_argument("-n", type=int, default=1000, help="letters per segment")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--delete", type=float, default=0.1, help="share of letters deleted")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        work = Path(tmp)
        letters = write_corpus(work / "letters", args.segments * args.n, seed=args.seed)
        t = time.perf_counter()
        ids = build(work / "ix", letters, args.segments)
        print(
            f"{len(ids):,} letters in {args.segments} segments"
            f" (built in {time.perf_counter() - t:.1f} s, not timed below)"
        )
        report("nothing deleted", scenario(work / "ix", work, [], args.rounds))
        gone = random.Random(args.seed).sample(ids, int(len(ids) * args.delete))
        report(f"{len(gone):,} letters deleted", scenario(work / "ix", work, gone, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
