"""Indexing: incremental and idempotent runs, replaced letters, ids, failures, locking, merges
and a SIGKILL in the middle of a run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from whoosh import query as wq

from search.engine.searcher import SearchIndex
from search.engine.writer import INDEX_NAME
from search.fields import MAX_PAGE_SIZE
from search.index import IndexLocked, _run_lock, index_paths, open_index
from search.results import SearchRequest

ROOT = Path(__file__).resolve().parent.parent


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """name -> (size, mtime) of the files of an index folder."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()
    }


def _all_ids(folder: Path) -> list[str]:
    with SearchIndex.open(folder) as index:
        return [h.id for h in index.search(SearchRequest(size=MAX_PAGE_SIZE)).results]


def test_idempotent(tmp_path: Path, sample_paths: list[Path]) -> None:
    n = len(sample_paths)
    first = index_paths(tmp_path, sample_paths, workers=1)
    assert (first.added, first.updated, first.unchanged, first.failed) == (n, 0, 0, 0)
    with SearchIndex.open(tmp_path) as index:
        counts = index.doc_count()
    before = _files(tmp_path)
    again = index_paths(tmp_path, sample_paths, workers=1)
    assert (again.added, again.updated, again.unchanged, again.failed) == (0, 0, n, 0)
    assert _files(tmp_path) == before  # nothing written at all
    with SearchIndex.open(tmp_path) as index:
        assert index.doc_count() == counts


def test_changed_letter_replaced(tmp_path: Path, sample_paths: list[Path]) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    for p in sample_paths:
        shutil.copy(p, letters / p.name)
    ix = tmp_path / "ix"
    index_paths(ix, [letters], workers=1)
    target = letters / sample_paths[1].name
    with SearchIndex.open(ix) as index:
        lumbago = index.search(SearchRequest(q="lumbago")).total_determinations
    assert lumbago >= 1
    target.write_text(target.read_text().replace("lumbago", "quokkasyndrome"))
    summary = index_paths(ix, [letters], workers=1)
    n = len(sample_paths)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, n - 1)
    with SearchIndex.open(ix) as index:
        assert index.doc_count()[0] == n
        assert index.search(SearchRequest(q="quokkasyndrome")).total_determinations == 1
        assert index.search(SearchRequest(q="lumbago")).total_determinations == lumbago - 1
    assert sorted(_all_ids(ix)) == sorted(p.stem for p in sample_paths)


def test_same_content_is_one_record(tmp_path: Path, sample_paths: list[Path]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(sample_paths[0], tmp_path / "a" / "one.txt")
    shutil.copy(sample_paths[0], tmp_path / "b" / "two.txt")
    summary = index_paths(tmp_path / "ix", [tmp_path / "a", tmp_path / "b"], workers=1)
    assert (summary.added, summary.unchanged) == (1, 1)
    assert _all_ids(tmp_path / "ix") == ["one"]


def test_id_collision_gets_sha_suffix(tmp_path: Path, sample_paths: list[Path]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(sample_paths[0], tmp_path / "a" / "letter.txt")
    shutil.copy(sample_paths[1], tmp_path / "b" / "letter.txt")
    summary = index_paths(tmp_path / "ix", [tmp_path / "a", tmp_path / "b"], workers=1)
    assert summary.added == 2
    import hashlib

    sha = hashlib.sha256(sample_paths[1].read_bytes()).hexdigest()
    assert sorted(_all_ids(tmp_path / "ix")) == sorted(["letter", f"letter-{sha[:8]}"])
    again = index_paths(tmp_path / "ix", [tmp_path / "a", tmp_path / "b"], workers=1)
    assert again.unchanged == 2 and again.added == 0


def test_rebuild(tmp_path: Path, sample_paths: list[Path]) -> None:
    index_paths(tmp_path, sample_paths[:3], workers=1)
    summary = index_paths(tmp_path, sample_paths[3:], rebuild=True, workers=1)
    assert summary.added == len(sample_paths) - 3
    assert sorted(_all_ids(tmp_path)) == sorted(p.stem for p in sample_paths[3:])


def test_failures_do_not_stop_the_batch(tmp_path: Path, sample_paths: list[Path]) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    shutil.copy(sample_paths[0], letters / "good.txt")
    (letters / "empty.txt").write_text("")
    (letters / "binary.txt").write_bytes(bytes(range(256)) * 40)
    errors: list[str] = []
    summary = index_paths(
        tmp_path / "ix", [letters, tmp_path / "missing.txt"], workers=1, on_error=errors.append
    )
    assert summary.added == 1 and summary.failed == 3
    assert errors == summary.errors
    assert any("empty.txt" in e for e in errors)
    assert any("binary.txt" in e for e in errors)
    assert any("missing.txt" in e for e in errors)


def test_locked(tmp_path: Path, sample_paths: list[Path]) -> None:
    tmp_path.mkdir(exist_ok=True)
    with _run_lock(tmp_path), pytest.raises(IndexLocked, match="locked"):
        index_paths(tmp_path, sample_paths, workers=1)
    assert index_paths(tmp_path, sample_paths, workers=1).added == len(sample_paths)  # released


def test_batches_and_merges_match_one_batch(tmp_path: Path, generated_dir: Path) -> None:
    paths = sorted(generated_dir.glob("*.txt"))[:120]
    index_paths(tmp_path / "one", paths, workers=1)
    summary = index_paths(tmp_path / "many", paths, workers=1, batch_size=7)
    assert summary.added == 120
    # Replace a few letters so later merges carry deletions.
    changed = tmp_path / "changed"
    changed.mkdir()
    for p in paths[:10]:
        shutil.copy(p, changed / p.name)
    index_paths(tmp_path / "many", [changed], workers=1, batch_size=3)
    for p in paths[:10]:
        (changed / p.name).write_text(p.read_text() + "\nAddendum zebrafinch.\n")
    index_paths(tmp_path / "many", [changed], workers=1, batch_size=3)
    with SearchIndex.open(tmp_path / "one") as one, SearchIndex.open(tmp_path / "many") as many:
        assert one.doc_count() == (120, one.doc_count()[1])
        assert many.doc_count()[0] == 130  # the changed copies are extra sources
        assert many.search(SearchRequest(q="zebrafinch")).total_determinations == 10
        for q in ("pain", "tizanidine", '"medically necessary"', "outcome:overturned"):
            a = one.search(SearchRequest(q=q, size=MAX_PAGE_SIZE))
            b = many.search(SearchRequest(q=q, size=MAX_PAGE_SIZE, filters={}))
            ids_a = {h.id for h in a.results}
            ids_b = {h.id for h in b.results}
            assert ids_a <= ids_b, q


def test_parallel_workers_match_serial(tmp_path: Path, generated_dir: Path) -> None:
    paths = sorted(generated_dir.glob("*.txt"))[:60]  # enough to start the process pool
    serial = index_paths(tmp_path / "serial", paths, workers=1)
    parallel = index_paths(tmp_path / "parallel", paths, workers=2)
    assert serial.added == parallel.added == 60
    with SearchIndex.open(tmp_path / "serial") as a, SearchIndex.open(tmp_path / "parallel") as b:
        assert a.doc_count() == b.doc_count()
        ra = a.search(SearchRequest(q="pain", size=MAX_PAGE_SIZE))
        rb = b.search(SearchRequest(q="pain", size=MAX_PAGE_SIZE))
        assert [h.id for h in ra.results] == [h.id for h in rb.results]
        assert ra.facets == rb.facets


def _contents(folder: Path) -> tuple[object, ...]:
    """Every posting, stored document, column value and length of an index, by document key.

    A document's key is its letter's hash and decision ordinal, so indexes that number the
    same documents differently compare equal.
    """
    ix = open_index(folder)
    with ix.reader() as reader:
        n = reader.doc_count_all()
        lkeys = list(reader.column_reader("c_lkey"))
        ords = list(reader.column_reader("c_ord"))
        keys = [(lkeys[i], ords[i]) for i in range(n)]
        assert len(set(keys)) == n
        postings = {
            (name, term): sorted(
                (keys[d], w) for d, w in reader.postings(name, term).items_as("weight")
            )
            for name, term in reader.all_terms()
        }
        names = reader.schema.names()
        docs = {}
        for leaf, offset in reader.leaf_readers():
            for i in range(leaf.doc_count_all()):
                docs[keys[offset + i]] = (
                    leaf.stored_fields(i),
                    # A segment without a column reads as its default: compare them alike.
                    [(leaf.column_reader(c)[i] if leaf.has_column(c) else 0) or 0 for c in names],
                    # (Likewise a segment without a field's length column: None reads as 0.)
                    [leaf.doc_field_length(i, f) or 0 for f in names if leaf.schema[f].scorable],
                )
    return postings, docs


def test_chunks_with_duplicates_and_renames_match_letter_by_letter(
    tmp_path: Path, generated_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Within one worker chunk: a duplicate text (dropped) and an id collision (renamed,
    # added after the chunk) between letters that are added from the inverted chunk.
    import search.index_pool

    letters = tmp_path / "letters"
    letters.mkdir()
    paths = sorted(generated_dir.glob("*.txt"))[:36]
    for i, p in enumerate(paths):
        shutil.copy(p, letters / f"{i:02d}_{p.name}")
    shutil.copy(paths[3], letters / "03b_copy.txt")  # the same text: one record
    (letters / "05b_clash.txt").write_text(
        (letters / f"05_{paths[5].name}").read_text() + "\nAddendum okapi.\n"
    )  # the same case number, other text: a renamed id
    chunked = index_paths(tmp_path / "chunked", [letters], workers=1)
    monkeypatch.setattr(search.index_pool, "CHUNK", 1)
    single = index_paths(tmp_path / "single", [letters], workers=1)
    assert (chunked.added, chunked.unchanged) == (single.added, single.unchanged) == (37, 1)
    assert _contents(tmp_path / "chunked") == _contents(tmp_path / "single")
    # A --rebuild in small batches: later batches know the earlier ones without a searcher.
    index_paths(tmp_path / "small", [letters][:1], workers=1)
    small = index_paths(tmp_path / "small", [letters], rebuild=True, workers=1, batch_size=4)
    assert (small.added, small.unchanged) == (37, 1)
    assert _contents(tmp_path / "small") == _contents(tmp_path / "single")
    with SearchIndex.open(tmp_path / "chunked") as index:
        assert index.search(SearchRequest(q="okapi")).total_determinations == 1


def test_plain_whoosh_reads_our_segments(built_index: Path, search_index: SearchIndex) -> None:
    ix = open_index(built_index)
    with ix.searcher() as searcher:
        native = len(searcher.search(wq.Term("f_outcome", "overturned"), limit=None))
    ours = search_index.search(SearchRequest(filters={"outcome": ("Overturned",)}))
    assert native == ours.total_decisions > 0


def _generation(folder: Path) -> int:
    gens = [int(p.stem.rsplit("_", 1)[1]) for p in folder.glob(f"_{INDEX_NAME}_*.toc")]
    return max(gens, default=-1)


@pytest.mark.slow
def test_sigkill_then_rerun(tmp_path: Path, generated_dir: Path) -> None:
    letters = tmp_path / "letters"
    letters.mkdir()
    paths = sorted(generated_dir.glob("*.txt"))[:200]
    for p in paths:
        shutil.copy(p, letters / p.name)
    ix = tmp_path / "ix"
    cmd = [sys.executable, "-m", "search.cli", "index", str(letters), "--index", str(ix)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*cmd, "--batch", "15", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if _generation(ix) >= 3:  # a couple of batches are committed, more are in flight
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with SearchIndex.open(ix) as index:  # the last commit is readable
        letters_before, _ = index.doc_count()
    assert 0 < letters_before <= 200
    summary = index_paths(ix, [letters], workers=1)
    assert summary.added == 200 - letters_before
    assert summary.unchanged == letters_before
    ids = _all_ids(ix)
    assert len(ids) == len(set(ids)) == 200


def test_cli_locked_message(
    tmp_path: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from search.cli import main

    with _run_lock(tmp_path):
        code = main(["index", str(sample_paths[0]), "--index", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "locked" in err and err.count("\n") == 1


def test_fast_writer_matches_stock_whoosh(tmp_path: Path, generated_dir: Path) -> None:
    # The same documents through FastWriter's chunks (long lists in many 128-posting blocks,
    # block deltas by numpy) and through stock Whoosh's per-posting writer read back alike.
    from whoosh.writing import SegmentWriter

    from search.engine.chunk import invert
    from search.engine.docs import record_documents
    from search.engine.writer import NUMPY_FROM, FastWriter
    from search.index import create_or_open_index
    from search.parse import parse_loaded
    from search.parse.load import load_file

    class StockWriter(FastWriter):
        add_document = SegmentWriter.add_document
        _flush_segment = SegmentWriter._flush_segment

    paths = sorted(generated_dir.glob("*.txt"))[:150]
    docs = [doc for p in paths for doc in record_documents(parse_loaded(load_file(p)), str(p))]
    fast = FastWriter(create_or_open_index(tmp_path / "fast"))
    for start in range(0, len(docs), 64):
        fast.add_chunk(invert(docs[start : start + 64]))
    fast.commit()
    stock = StockWriter(create_or_open_index(tmp_path / "stock"))
    for doc in docs:
        stock.add_document(**doc)
    stock.commit()
    postings, stored = _contents(tmp_path / "fast")
    assert max(len(p) for p in postings.values()) > 128  # several blocks
    assert sum(NUMPY_FROM <= len(p) < 128 for p in postings.values()) > 10
    assert (postings, stored) == _contents(tmp_path / "stock")


def test_record_dict_is_asdict(sample_paths: list[Path], generated_dir: Path) -> None:
    # Determination.to_dict builds the dict directly; it must be what dataclasses.asdict gave.
    import dataclasses

    from search.parse import parse_loaded
    from search.parse.load import load_file

    # The bundled samples are the 40 real DWC letters and the 5 seeds: no ../shared needed.
    paths = [*sample_paths, *sorted(generated_dir.glob("*.txt"))[:100]]
    for path in paths:
        record = parse_loaded(load_file(path))
        expected = dataclasses.asdict(record)
        expected["sections"] = record.to_dict()["sections"]
        expected["year"] = record.year
        got = record.to_dict()
        assert repr(got) == repr(expected), path
    assert len(sample_paths) == 45


def test_tokenize_ascii_path_matches_the_regex(sample_paths: list[Path]) -> None:
    # ASCII text takes a translate-and-split path; it must give the regex's words exactly.
    import random
    import re

    from search.schema import tokenize

    def regex(text: str) -> list[str]:
        return re.findall(r"[^\W_]+", text.lower())

    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)] + ["é", "ß", "İ", "\u00a0", "\u2028", "٣"]
    texts = [p.read_text(encoding="utf-8") for p in sample_paths]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    texts += ["a_b", "x\x1cy\x1fz", "TIZANIDINE-4mg", "on-\ngoing", "", "   ", "ÉCOLE école"]
    for text in texts:
        assert tokenize(text) == regex(text), repr(text)
    assert sum(t.isascii() for t in texts) > 100 and sum(not t.isascii() for t in texts) > 100


def test_analysis_matches_its_first_form(sample_paths: list[Path]) -> None:
    # analyze() pairs words in C; it must give what the plain join gave, on letters
    # and on random text full of hyphens and odd whitespace.
    import itertools
    import random
    from collections import Counter

    from search.schema import analyze, compounds, tokenize

    rng = random.Random(11)
    alphabet = ["a", "b", "-", "-", " ", "\n", "\t", "\x1c", "\u2028", "\u00a0", "é", "1", "_"]
    texts = [p.read_text(encoding="utf-8") for p in sample_paths]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["on-\ngoing", "non- opioid -", "a- -b", "x-", "-", "re-evaluate follow-up"]
    for text in texts:
        words = tokenize(text)
        unigrams, bigrams = analyze(text)
        assert unigrams == Counter(words) + Counter(compounds(text))
        assert list(bigrams.items()) == list(
            Counter(map(" ".join, itertools.pairwise(words))).items()
        )
    assert sum(bool(compounds(t)) for t in texts) > 500


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("on-\ngoing", ["ongoing"]),  # broken at a line end
        ("re-evaluate follow-up", ["reevaluate", "followup"]),
        ("TIZANIDINE-4mg", ["tizanidine4mg"]),
        ("no hyphen", []),
        ("x-", []),  # a trailing hyphen with nothing after it
        ("a- -b", []),  # stray hyphens join nothing
    ],
)
def test_compounds_join_hyphenated_words(text: str, joined: list[str]) -> None:
    from search.schema import compounds

    assert compounds(text) == joined
