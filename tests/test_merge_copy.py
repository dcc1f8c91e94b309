"""Merges that copy per-document values column by column (engine.percopy) give the merged
segment the same stored fields, lengths and column values as Whoosh's per-document calls
(merging.write_per_doc), with and without deletions, and the same search results."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_index import _contents
from whoosh.reading import SegmentReader
from whoosh.writing import NO_MERGE

from search.engine import mergepolicy, merging
from search.engine.docs import record_documents
from search.engine.percopy import _copyable
from search.engine.searcher import SearchIndex
from search.engine.toc import DurableIndex
from search.fields import FACET_OUTCOME, FACET_SPECIALTY
from search.index import create_or_open_index, index_paths, open_index
from search.parse import parse_loaded
from search.parse.load import load_file
from search.results import SearchRequest
from search.schema import F_LID, SCHEMA, facet_column

LETTERS_DIR = Path(__file__).resolve().parent / "letters"
QUERIES = ("", "tramadol", "physical therapy", "medically necessary", "lumbar MRI")


def _merge_all(folder: Path, *, column_copy: bool, gone: list[str]) -> None:
    """Delete the letters `gone`, then merge every segment into one, in one commit."""
    writer = DurableIndex(folder).writer()
    writer.column_copy = column_copy
    for lid in gone:
        writer.delete_by_term(F_LID, lid)

    def merge(w: Any, segments: list[Any]) -> list[Any]:
        for seg in segments:  # (the writer closes the readers once it has their postings)
            reader = SegmentReader(w.storage, w.schema, seg)
            # The copy runs itself, not its fallback to the per-document path.
            assert not column_copy or _copyable(w, set(w.schema.names()), reader)
            w.add_reader(reader)
        return []

    writer.commit(mergetype=merge)


def _per_doc(folder: Path) -> dict[str, Any]:
    """Every per-document value of a one-segment index, exactly as read (None and 0 apart),
    with its field length totals and the raw bytes of its columns but the stored fields'."""
    ix = open_index(folder)
    try:
        segments = ix.toc().segments
        assert len(segments) == 1
        names = SCHEMA.names()
        with ix.reader() as reader:
            ((leaf, _),) = list(reader.leaf_readers())
            n = leaf.doc_count_all()
            columns = [c for c in names if SCHEMA[c].column_type and leaf.has_column(c)]
            readers = {c: leaf.column_reader(c) for c in columns}
            docs = [
                (
                    leaf.stored_fields(i),
                    [readers[c][i] for c in columns],
                    [leaf.doc_field_length(i, f) for f in names],
                )
                for i in range(n)
            ]
            perdoc = leaf._perdoc
            raw = {}
            for name in [*columns, *(f"_{f}_len" for f in names)]:
                if perdoc.has_column(name):
                    dbfile, base, length = perdoc._get_column_file(name)
                    raw[name] = bytes(dbfile.get(base, length))
            return {
                "count": (n, leaf.doc_count()),
                "columns": columns,
                "docs": docs,
                "totals": {f: leaf.field_length(f) for f in names},
                "raw": raw,
            }
    finally:
        ix.close()


def _searches(folder: Path) -> list[Any]:
    """Totals, facet counts, hits and highlights of a few searches (relevance and filtered)."""
    out = []
    with SearchIndex.open(folder) as idx:
        for q in QUERIES:
            for filters in ({}, {FACET_OUTCOME: ("Upheld",)}):
                found = idx.search(SearchRequest(q=q, filters=filters, size=50))
                out.append(found.to_json())
    return out


def _merged_both_ways(folder: Path, gone: list[str]) -> tuple[Path, Path]:
    """The index merged by the per-document path and by the column copy (two copies)."""
    by_doc, by_column = folder.with_name("by_doc"), folder.with_name("by_column")
    shutil.copytree(folder, by_doc)
    shutil.copytree(folder, by_column)
    _merge_all(by_doc, column_copy=False, gone=gone)
    _merge_all(by_column, column_copy=True, gone=gone)
    return by_doc, by_column


@pytest.mark.parametrize("deleting", [False, True])
def test_column_copy_merges_like_the_per_document_path(
    tmp_path: Path,
    sample_paths: list[Path],
    generated_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    deleting: bool,
) -> None:
    """Four segments of real and generated letters merged into one: every stored field,
    length, column value (and column byte), posting and search result the same."""
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 100)  # the segments stay apart
    generated = sorted(generated_dir.glob("*.txt"))[:120]
    groups = [sample_paths, sorted(LETTERS_DIR.glob("*.txt")), generated[:60], generated[60:]]
    folder = tmp_path / "ix"
    for paths in groups:
        index_paths(folder, paths, workers=1, batch_size=1000)
    with SearchIndex.open(folder) as idx:
        ids = sorted(h.id for h in idx.search(SearchRequest(size=1000)).results)
    assert len(ids) > 150
    gone = ids[::4] if deleting else []
    by_doc, by_column = _merged_both_ways(folder, gone)
    expected = _per_doc(by_doc)
    got = _per_doc(by_column)
    n, live = expected["count"]
    assert live == n > 200  # deleted documents are not copied
    assert got["columns"] == expected["columns"] and len(expected["columns"]) > 10
    for k, (want, have) in enumerate(zip(expected["docs"], got["docs"], strict=True)):
        assert have == want, k
    assert got["totals"] == expected["totals"] and expected["totals"]["rationale"] > 0
    assert got["raw"] == expected["raw"]
    assert sum(bool(doc[0]) for doc in expected["docs"]) >= len(ids) - len(gone)
    assert _contents(by_column) == _contents(by_doc)
    searched = _searches(by_doc)
    assert _searches(by_column) == searched
    assert any(s["total_determinations"] > 10 for s in searched)


def _add_segment(folder: Path, docs: list[dict[str, Any]]) -> None:
    """One segment of these documents (added one by one, as stock Whoosh would)."""
    writer = create_or_open_index(folder).writer()
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(mergetype=NO_MERGE)


def test_column_copy_renumbers_many_distinct_refbytes_values(
    tmp_path: Path, sample_paths: list[Path], generated_dir: Path
) -> None:
    """A facet column with hundreds of distinct values (1-byte refs in one segment, 2-byte
    in others, values shared between segments, some documents without one) merges alike."""
    column = facet_column(FACET_SPECIALTY)
    paths = [*sample_paths, *sorted(generated_dir.glob("*.txt"))]
    docs = [doc for p in paths for doc in record_documents(parse_loaded(load_file(p)), str(p))]
    for i, doc in enumerate(docs):
        doc[column] = b"" if i % 11 == 0 else f"value {(i * 7919) % 1000}".encode()
    folder = tmp_path / "ix"
    cuts = [0, 120, len(docs) * 2 // 3, len(docs)]
    for a, b in itertools.pairwise(cuts):
        _add_segment(folder, docs[a:b])
    gone = sorted({doc[F_LID] for doc in docs[::15]})
    by_doc, by_column = _merged_both_ways(folder, gone)
    expected, got = _per_doc(by_doc), _per_doc(by_column)
    assert len(docs) > 400
    values = {d[1][expected["columns"].index(column)] for d in expected["docs"]}
    assert len(values) > 256 and b"" in values  # 2-byte refs
    assert got["docs"] == expected["docs"]
    assert got["raw"][column] == expected["raw"][column]
    assert got["raw"] == expected["raw"] and got["totals"] == expected["totals"]


def _term_records(folder: Path) -> dict[bytes, bytes]:
    """Every record of a one-segment index's term index: key (field number, term) -> value."""
    ix = open_index(folder)
    try:
        (segment,) = ix.toc().segments
        reader = SegmentReader(ix.storage, ix.schema, segment)
        try:
            return dict(reader._terms._tindex.items())
        finally:
            reader.close()
    finally:
        ix.close()


@pytest.mark.parametrize("deleting", [False, True])
def test_inlined_lists_copied_renumbered_match_decoding_them(
    tmp_path: Path, generated_dir: Path, monkeypatch: pytest.MonkeyPatch, deleting: bool
) -> None:
    """A merge copies a segment's inlined posting lists renumbered by a shift (no decode into
    lists): the merged term index is byte for byte what decoding every list writes, with
    letters deleted from the first of three segments (whose lists must be decoded) or none."""
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 100)
    generated = sorted(generated_dir.glob("*.txt"))[:90]
    folder = tmp_path / "ix"
    for k in range(0, 90, 30):
        index_paths(folder, generated[k : k + 30], workers=1, batch_size=1000)
        if k == 0:
            with SearchIndex.open(folder) as idx:
                first = sorted(h.id for h in idx.search(SearchRequest(size=1000)).results)
    gone = first[::5] if deleting else []
    copied, decoded = tmp_path / "copied", tmp_path / "decoded"
    shutil.copytree(folder, copied)
    shutil.copytree(folder, decoded)
    calls: list[int] = []
    real = merging.inlined_renumbered

    def counted(value: bytes, shift: int) -> bytes:
        calls.append(shift)
        return real(value, shift)

    monkeypatch.setattr(merging, "inlined_renumbered", counted)
    _merge_all(copied, column_copy=True, gone=gone)
    assert sum(1 for shift in calls if shift) > 1000  # the copy ran, renumbering
    monkeypatch.setattr(merging, "_shifts", lambda *_: False)
    _merge_all(decoded, column_copy=True, gone=gone)
    records = _term_records(copied)
    assert records == _term_records(decoded) and len(records) > 10_000
    assert _contents(copied) == _contents(decoded)
