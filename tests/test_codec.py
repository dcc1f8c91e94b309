"""The Whoosh-format codec: mapped reads, wide RefBytes columns, and a differential test of
our numpy evaluator against stock Whoosh over the same real index."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import fields
from whoosh import index as windex
from whoosh import query as wq

from search.engine._codec import MapFile, WideRefBytesColumn, read_postings, refbytes_column
from search.engine.evaluate import Evaluator
from search.engine.searcher import SearchIndex
from search.index import open_index
from search.results import SearchRequest
from search.schema import C_LKEY

DECISION_FIELDS = ("request", "rationale")
LETTER_FIELDS = ("summary",)


def _vocabulary(reader: Any, field: str) -> list[str]:
    """Words of a field that occur in 2+ documents (so random queries match something)."""
    words = []
    for text, info in reader.iter_field(field):
        if info.doc_frequency() >= 2:
            words.append(text.decode("utf-8") if isinstance(text, bytes) else text)
    return words


def _random_query(rng: random.Random, vocab: dict[str, list[str]], depth: int = 0) -> wq.Query:
    """A random tree of Term, Prefix, And, Or and And-Not over the decision-level fields."""
    field = rng.choice(DECISION_FIELDS)
    if depth >= 2 or rng.random() < 0.35:
        word = rng.choice(vocab[field])
        if rng.random() < 0.15 and len(word) > 4:
            return wq.Prefix(field, word[:4])
        return wq.Term(field, word)
    kind = rng.choice(("and", "or", "andnot"))
    parts = [_random_query(rng, vocab, depth + 1) for _ in range(rng.randint(2, 3))]
    if kind == "and":
        return wq.And(parts)
    if kind == "or":
        return wq.Or(parts)
    return wq.And([parts[0], wq.Not(wq.Or(parts[1:]))])


def _ours(index: SearchIndex, q: wq.Query) -> set[int]:
    """Global docnums (live) that our evaluator matches."""
    snap = index._current()
    ev = Evaluator(snap.reader, snap.leaves, time.monotonic() + 30)
    ev.prepare(q)
    found: set[int] = set()
    for i, leaf in enumerate(snap.leaves):
        mask, _ = ev.evaluate(q, i)
        found.update((np.flatnonzero(mask & leaf.live) + leaf.base).tolist())
    return found


def test_differential_random_queries_match_stock_whoosh(built_index: Path) -> None:
    rng = random.Random(20261130)
    ix = open_index(built_index)
    index = SearchIndex.open(built_index)
    try:
        with ix.searcher() as searcher:
            vocab = {f: _vocabulary(searcher.reader(), f) for f in DECISION_FIELDS}
            assert all(len(v) > 50 for v in vocab.values())
            nonempty = 0
            for _ in range(150):
                q = _random_query(rng, vocab)
                theirs = {hit.docnum for hit in searcher.search(q, limit=None, scored=False)}
                assert _ours(index, q) == theirs, q
                nonempty += bool(theirs)
            assert nonempty > 50  # the test compares real matches, not empty sets
    finally:
        index.close()


def test_letter_level_terms_match_stock_whoosh_by_letter(built_index: Path) -> None:
    """Letter-level fields are indexed on a letter's first document; we spread them to
    every decision of the letter, so compare the letters matched."""
    rng = random.Random(7)
    ix = open_index(built_index)
    index = SearchIndex.open(built_index)
    try:
        with ix.searcher() as searcher:
            lkeys = searcher.reader().column_reader(C_LKEY)
            vocab = _vocabulary(searcher.reader(), "summary")
            for word in rng.sample(vocab, 40):
                q = wq.Term("summary", word)
                theirs = {lkeys[hit.docnum] for hit in searcher.search(q, limit=None)}
                ours = {lkeys[d] for d in _ours(index, q)}
                assert ours == theirs, word
    finally:
        index.close()


def test_postings_read_through_maps_equal_whoosh_matchers(built_index: Path) -> None:
    ix = open_index(built_index)
    with ix.reader() as reader:
        for segreader, _base in reader.leaf_readers():
            terms = segreader._terms
            assert isinstance(terms._postfile, MapFile)  # no heap copy of the posting file
            checked = 0
            for field in ("rationale", "request"):
                for text, info in segreader.iter_field(field):
                    ids, weights = read_postings(terms, info)
                    m = segreader.postings(field, text)
                    theirs = []
                    while m.is_active():
                        theirs.append((m.id(), m.weight()))
                        m.next()
                    assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == theirs
                    checked += 1
                    if checked > 400:
                        break
            assert checked > 100


def test_wide_refbytes_column_keeps_more_than_65535_values(tmp_path: Path) -> None:
    schema = fields.Schema(c=fields.COLUMN(WideRefBytesColumn()))
    ix = windex.create_in(str(tmp_path), schema)
    n = 70_000
    with ix.writer() as w:
        for i in range(n):
            w.add_document(c=f"v{i}".encode())
    with ix.reader() as reader:
        (segreader, _), *_ = list(reader.leaf_readers())
        column = segreader.column_reader("c")
        assert [column[d] for d in (0, 255, 256, 65_535, 65_536, n - 1)] == [
            b"v0",
            b"v255",
            b"v256",
            b"v65535",
            b"v65536",
            f"v{n - 1}".encode(),
        ]
        refs, uniques = refbytes_column(segreader, "c")
        assert refs.dtype.itemsize == 4
        assert uniques[int(refs[n - 1])] == f"v{n - 1}".encode()


@pytest.mark.parametrize("values", [3, 300])
def test_wide_refbytes_column_uses_the_narrowest_refs(tmp_path: Path, values: int) -> None:
    schema = fields.Schema(c=fields.COLUMN(WideRefBytesColumn()))
    ix = windex.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        for i in range(1000):
            w.add_document(c=f"v{i % values}".encode())
    with ix.reader() as reader:
        (segreader, _), *_ = list(reader.leaf_readers())
        refs, uniques = refbytes_column(segreader, "c")
        assert refs.dtype.itemsize == (1 if values < 255 else 2)
        assert [uniques[int(r)] for r in refs[:5]] == [f"v{i % values}".encode() for i in range(5)]


def test_searches_run_concurrently_while_the_index_refreshes(
    tmp_path: Path, corpus_paths: list[Path]
) -> None:
    """No lock: threads search one snapshot while a commit lands and refresh swaps it."""
    from search.index import index_paths

    folder = tmp_path / "ix"
    index_paths(folder, corpus_paths[:120], workers=1)
    index = SearchIndex.open(folder)
    before = index.search(SearchRequest(q="pain")).total_determinations
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                totals.append(index.search(SearchRequest(q="pain")).total_determinations)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        index_paths(folder, corpus_paths, workers=1)
        assert index.refresh()
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
        after = index.search(SearchRequest(q="pain")).total_determinations
        index.close()
    assert not errors, errors
    assert after > before
    assert set(totals) <= {before, after}  # each search saw one whole generation
