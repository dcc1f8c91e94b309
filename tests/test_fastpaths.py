"""The engine's fast paths give exactly what the plain (exhaustive) paths give: posting lists
decoded partly with numpy, letter rows, facet counts, filter masks."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from pickle import dumps
from typing import Any

import numpy as np
import pytest

from search.engine import _blocks, _codec, evaluate, facets, highlight, letters, segments
from search.engine.hits import ordered, page_order
from search.engine.letters import letter_rows, letters_outside
from search.engine.searcher import SearchIndex, understood_request
from search.engine.segments import GROUP_BINS
from search.fields import FACETS, SORT_RELEVANCE
from search.results import SearchRequest
from search.schema import MULTI_SEP


def _block(ids: list[int], weights: Any) -> bytes:
    """One posting block as the writer (and Whoosh's W3 writer) pickles it."""
    deltas = tuple(b - a for a, b in zip([0, *ids[:-1]], ids, strict=True))
    top = max(weights) if isinstance(weights, tuple) else (weights or 1.0)
    info = dumps((len(ids), ids[-1], float(top), 0, 0, 0), 2)
    return info + dumps((deltas, weights, None), 2)


def _posting_list(rng: random.Random) -> tuple[bytes, list[int], list[int]]:
    """A W3 posting list of blocks of mixed forms: (bytes, block starts, block sizes)."""
    blocks, ids = [], rng.randrange(0, 100_000)
    for _ in range(rng.randint(2, 7)):
        count = rng.choice([1, 2, 3, 4, 5, 128, 128])
        gap = rng.choice([1, 3, 200, 300, 70_000])  # 300 and up: two- and four-byte deltas
        block_ids = []
        for _ in range(count):
            ids += rng.randint(1, gap)
            block_ids.append(ids)
        kind = rng.randrange(3)
        weights: Any = (
            None
            if kind == 0
            else float(rng.randint(2, 9))
            if kind == 1
            else tuple(float(rng.randint(1, 300)) for _ in block_ids)
        )
        blocks.append(_block(block_ids, weights))
    raw = b"W3Bl"
    starts, sizes = [], []
    for n, data in enumerate(blocks):
        raw += struct.pack("!i", -len(data) if n == len(blocks) - 1 else len(data))
        starts.append(len(raw))
        sizes.append(len(data))
        raw += data
    return raw, starts, sizes


@pytest.mark.parametrize("seed", range(60))
def test_partly_plain_lists_decode_exactly(seed: int) -> None:
    raw, starts, sizes = _posting_list(random.Random(seed))
    want = _blocks.pickled_blocks(_codec.MapFile(memoryview(raw)), starts, sizes)
    got = _blocks.mixed_blocks(
        np.frombuffer(raw, np.uint8), np.asarray(starts), np.asarray(sizes, dtype=np.int64)
    )
    assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_a_short_last_block_leaves_the_rest_to_numpy() -> None:
    rng = random.Random(1)
    ids = list(np.cumsum([rng.randint(1, 200) for _ in range(128 * 3 + 2)]).tolist())
    data = [
        _block(ids[k : k + 128], tuple(float(rng.randint(1, 9)) for _ in ids[k : k + 128]))
        for k in range(0, len(ids), 128)
    ]
    raw, starts, sizes = b"W3Bl", [], []
    for n, block in enumerate(data):
        raw += struct.pack("!i", -len(block) if n == len(data) - 1 else len(block))
        starts.append(len(raw))
        sizes.append(len(block))
        raw += block
    array = np.frombuffer(raw, np.uint8)
    first, size = np.asarray(starts), np.asarray(sizes, dtype=np.int64)
    assert _blocks.plain_blocks(array, first, size) is None  # the last block has 2 postings
    assert _blocks.plain_heads(array, first, size).tolist() == [True, True, True, False]
    got = _blocks.mixed_blocks(array, first, size)
    assert got[0].tolist() == ids


def test_real_lists_decode_as_unpickled(
    posting_lists: list[tuple[Any, str, str, Any]],
    unpickled: Callable[[Any, Any], tuple[Any, Any]],
) -> None:
    mixed = 0
    original = _codec.mixed_blocks

    def counting(*args: Any) -> Any:
        nonlocal mixed
        mixed += 1
        return original(*args)

    _codec.mixed_blocks = counting  # type: ignore[assignment]
    try:
        for terms, _field, _word, info in posting_lists:
            ids, weights = _codec.read_postings(terms, info, unpickle_upto=0)
            want = unpickled(terms, info)
            assert np.array_equal(ids, want[0]) and np.array_equal(weights, want[1])
    finally:
        _codec.mixed_blocks = original  # type: ignore[assignment]
    assert mixed > 0  # real lists took the partly-numpy path


def test_short_lists_unpickled_decode_as_through_numpy(
    posting_lists: list[tuple[Any, str, str, Any]],
) -> None:
    short = 0
    for terms, field, word, info in posting_lists:
        ids, weights = _codec.read_postings(terms, info)
        numpy_ids, numpy_weights = _codec.read_postings(terms, info, unpickle_upto=0)
        assert ids.dtype == numpy_ids.dtype and weights.dtype == numpy_weights.dtype
        assert np.array_equal(ids, numpy_ids), (field, word)
        assert np.array_equal(weights, numpy_weights), (field, word)
        short += len(ids) > 128  # two blocks or more, unpickled by default
    assert short > 10


def _windows_scanned(
    length: int, spans: list[tuple[int, int, str]], width: int
) -> list[tuple[float, int, int]]:
    """The candidate windows as highlight() first found them: every span scanned per window."""
    out = []
    for i, (s, _e, _w) in enumerate(spans):
        start = max(0, s - width // 4)
        end = min(length, start + width)
        inside = [w for (s2, e2, w) in spans[i:] if s2 >= start and e2 <= end]
        before = [w for (s2, e2, w) in spans[:i] if s2 >= start and e2 <= end]
        words = inside + before
        out.append((len(set(words)) + 0.01 * len(words), start, end))
    return out


@pytest.mark.parametrize(
    "query", ["pain", "the", "low back", "physical therapy", "medical OR treatment", "med*"]
)
def test_highlight_windows_found_by_bisection_as_by_scanning(query: str) -> None:
    texts = [p.read_text() for p in sorted((Path(__file__).parent / "letters").glob("*.txt"))]
    items = [w.strip('"') for w in query.replace(" OR ", "|").split("|")]
    terms = highlight.Terms.of(items)
    windows = 0
    for raw in texts:
        text = " ".join(raw[: highlight.MAX_SCAN_CHARS].split())
        spans = highlight._marked_spans(text, terms)[: highlight.MAX_MARKS]
        for width in (40, highlight.PASSAGE_CHARS, 1000):
            got = highlight.windows(len(text), spans, width)
            assert got == _windows_scanned(len(text), spans, width)
            windows += len(got)
    assert windows > 10


def _tokens_by_regex(text: str, terms: highlight.Terms) -> list[tuple[int, int, str]]:
    """The tokens the general (case-insensitive, look-behind) regex finds."""
    return [
        (m.start(), m.end(), m.group().lower()) for m in highlight._pattern(terms).finditer(text)
    ]


_PIECES = [
    "pain",
    "Pain",
    "PAIN",
    "painful",
    "back",
    "feedback",
    "low",
    "mri",
    "MRI2",
    "x",
    "_",
    "-",
    " ",
    "  ",
    "\n",
    "9",
    "med",
    "Medical",
    "o'",
    "é",
    "K",
]


@pytest.mark.parametrize("seed", range(40))
def test_ascii_highlight_path_finds_what_the_regex_finds(seed: int) -> None:
    rng = random.Random(seed)
    letters = sorted((Path(__file__).parent / "letters").glob("*.txt"))
    real = " ".join(letters[seed % len(letters)].read_text().split())
    made = "".join(rng.choice(_PIECES) for _ in range(400))
    items = rng.sample(["pain", "back", "low back", "mri", "med*", "x", "medical", "p*", "é"], 3)
    terms = highlight.Terms.of(items)
    plain = made.replace("é", "e")  # ASCII: the fast path's text
    assert plain.isascii()
    for text in (real, made, plain, plain.upper()):
        assert list(highlight._tokens(text, terms)) == _tokens_by_regex(text, terms)
    if all(i.isascii() for i in items):
        assert highlight._ascii_pattern(terms) is not None  # the fast path was the one tested


def _rows_in_order(rows: Any, sort: str, top: int) -> list[tuple[int, int, float]]:
    order = page_order(rows, sort, top)
    return [(int(rows[0][r]), int(rows[1][r]), float(rows[2][r])) for r in order]


@pytest.mark.parametrize("top", [1, 2, 3, 5, 20])
def test_best_letters_are_the_first_rows_of_all_letters(
    search_index: SearchIndex, top: int
) -> None:
    snap = search_index._current()
    pruned_queries = 0
    for q in ("pain", "medical necessity", "tizanidine OR omeprazole", "chronic", "the"):
        parsed, _ = understood_request(SearchRequest(q=q, literal=True, scope="letter"))
        _, matches, _ = search_index._matches(snap, parsed, time.monotonic() + 60)
        every, total, decisions = letter_rows(snap.leaves, matches)
        if total <= top:
            continue
        pruned, total2, decisions2 = letter_rows(snap.leaves, matches, top, SORT_RELEVANCE)
        assert (total2, decisions2) == (total, decisions)
        pruned_queries += len(pruned[0]) < len(every[0])
        want = _rows_in_order(every, SORT_RELEVANCE, top)
        assert _rows_in_order(pruned, SORT_RELEVANCE, top) == want, (q, top)
    assert pruned_queries >= 2  # rows were left out, and the page stayed the same


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("sample", [None, (64, 32), (16, 16)])
def test_best_letters_with_tied_scores(
    search_index: SearchIndex, seed: int, sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scores drawn from a few values (many ties, broken by date and key) and matches at
    random: the pruned rows give the same first rows as all rows, also when the threshold
    is sampled (small samples here: some miss, and the exact threshold takes over)."""
    if sample is not None:
        monkeypatch.setattr(letters, "SAMPLE_FROM", sample[0])
        monkeypatch.setattr(letters, "SAMPLE_SIZE", sample[1])
    rng = np.random.default_rng(seed)
    snap = search_index._current()
    matches = []
    for leaf in snap.leaves:
        mask = rng.random(leaf.data.n) < rng.choice([0.05, 0.5, 1.0])
        score = rng.choice(np.asarray([0.5, 1.0, 2.0, 1000.5], dtype=np.float32), leaf.data.n)
        matches.append((mask, score))
    every, total, _ = letter_rows(snap.leaves, matches)
    for top in (1, 2, 7, 30):
        if total <= top:
            continue
        pruned, total2, _ = letter_rows(snap.leaves, matches, top, SORT_RELEVANCE)
        assert total2 == total
        got = _rows_in_order(pruned, SORT_RELEVANCE, top)
        assert got == _rows_in_order(every, SORT_RELEVANCE, top), (seed, top)


def test_sampled_threshold_is_a_score_that_about_4k_reach() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(1 << 17).astype(np.float32)
    for k in (1, 20, 80, 500):
        guess = letters.sampled_threshold(scores, k)
        assert guess is not None and guess in scores
        reach = int(np.count_nonzero(scores >= guess))
        assert 4 * k <= reach <= 4 * k + 8 * len(scores) // letters.SAMPLE_SIZE * 2
    assert letters.sampled_threshold(scores[: letters.SAMPLE_FROM - 1], 20) is None
    assert letters.sampled_threshold(scores, len(scores) // 8) is None  # most would pass


def test_a_sampled_threshold_that_keeps_too_few_letters_gives_way_to_the_exact_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(letters, "SAMPLE_FROM", 16)
    monkeypatch.setattr(letters, "SAMPLE_SIZE", 16)
    docs = np.arange(1024)
    letter = docs // 128  # 8 letters of 128 documents
    score = np.full(1024, 0.5, dtype=np.float32)
    score[0:256:64] = 1.0  # the sample's only high scores, in the first 2 letters
    assert letters.sampled_threshold(score, 12) == 1.0
    kept, kept_letters, starts = letters._best_docs(docs, letter, score, 3)
    assert len(kept) == 1024
    assert len(starts) >= 3
    assert sorted(set(kept_letters.tolist())) == list(range(8))  # every 0.5 ties


@pytest.mark.parametrize("bins", [4, 64, GROUP_BINS])
def test_facets_counted_in_groups_as_one_by_one(
    search_index: SearchIndex, bins: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "GROUP_BINS", bins)
    rng = np.random.default_rng(bins)
    grouped = 0
    for leaf in search_index._current().leaves:
        data = leaf.data
        groups = segments.facet_groups(data.facets)
        assert sorted(f for g in groups for f in g.facets) == sorted(FACETS)
        grouped += sum(len(g.facets) > 1 for g in groups)
        data._groups = groups
        sizes = {f: int(data.facets[f].lookup.max()) + 3 for f in FACETS}
        some = np.flatnonzero(rng.random(data.n) < 0.4)
        for docs in (None, some, rng.random(data.n) < 0.7, some[:0]):
            for wanted in (None, FACETS[:1], FACETS[::2]):
                got = segments.segment_counts(data, docs, sizes, wanted)
                assert sorted(got) == sorted(wanted or FACETS)
                for facet, counts in got.items():
                    assert np.array_equal(counts, data.facets[facet].counts(docs, sizes[facet]))
        data._groups = None
    assert grouped > 0 or bins < 8  # (with 4 joint values no two facets fit together)


@pytest.mark.parametrize("bins", [4, GROUP_BINS])
def test_big_endian_refs_count_as_native(
    search_index: SearchIndex, bins: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A facet whose segment has more than 255 values is mapped as big-endian 2-byte refs;
    counted alone, they are gathered through a native view and swapped back."""
    monkeypatch.setattr(segments, "GROUP_BINS", bins)
    rng = np.random.default_rng(3)
    swapped = 0
    for leaf in search_index._current().leaves:
        native = leaf.data.facets
        wide = {f: segments.FacetColumn(c.refs.astype(">u2"), c.lookup) for f, c in native.items()}
        groups = segments.facet_groups(wide)
        swapped += sum(g.swapped for g in groups)
        some = np.flatnonzero(rng.random(leaf.data.n) < 0.3)
        for group in groups:
            want = segments.facet_groups({f: native[f] for f in group.facets})[0]
            assert want.facets == group.facets and not want.swapped
            for docs in (None, some):
                pairs = zip(group.counts(docs), want.counts(docs), strict=True)
                assert all(np.array_equal(a, b) for a, b in pairs)
    assert swapped > 0 or bins > 4  # (with 4 joint values every facet is counted alone)


def test_facet_values_come_in_display_order(search_index: SearchIndex) -> None:
    """Values sorted with numpy (most decisions first, then by name) are in ordered()'s order."""
    seen = 0
    for q, filters in [("", {}), ("pain", {}), ("medical", {"outcome": ("Upheld",)})]:
        response = search_index.search(SearchRequest(q=q, filters=filters, size=1))
        for facet, values in response.facets.items():
            assert list(values.items()) == list(ordered(facet, dict(values)).items()), facet
            seen += len(values) > 2
    assert seen > 5


def test_bench_ab_runs_two_trees_and_compares_answers(
    search_index: SearchIndex, built_index: Path, tmp_path: Path
) -> None:
    from benchmarks import bench_ab, querymix

    snap = search_index._current()
    leaf = snap.leaves[0]
    records = [search_index._record(leaf, int(s)) for s in leaf.data.starts[:30]]
    mix = tmp_path / "mix.jsonl"
    querymix.save(querymix.make_mix(records, 6, 3), mix)
    root = Path(__file__).resolve().parent.parent
    runs = [bench_ab._run(root, built_index, mix) for _ in range(2)]
    assert len(runs[0]["unseen"]) == 6 and runs[0]["digests"] == runs[1]["digests"]
    lines = bench_ab.table(runs[:1], runs[1:])
    assert lines[-1].startswith("  answers differing between A and B: 0")
    assert any(line.strip().startswith("all") for line in lines)


@pytest.mark.parametrize("seed", range(30))
def test_letter_scores_spread_per_run_as_by_one_gather(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, int(rng.integers(1, 400)))  # documents per letter
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    letter = np.repeat(np.arange(len(sizes)), sizes)
    data = segments.SegmentData(int(sizes.sum()), letter, letter, letter, letter, starts, {})
    lscore = np.zeros(len(sizes), dtype=np.float32)
    share = rng.choice([0.0, 0.01, 0.1, 0.5, 1.0])
    scored = rng.random(len(sizes)) < share
    scored[-1] = scored[-1] or seed % 2 == 0  # the last letter (runs to the segment's end)
    lscore[scored] = rng.random(int(scored.sum())).astype(np.float32) + 0.5
    base = rng.random(data.n).astype(np.float32)
    got = base.copy()
    evaluate._spread(lscore, data, got, int(rng.choice([len(sizes), int(scored.sum())])))
    assert np.array_equal(got, base + lscore[letter])


_SCORED_QUERIES = ["pain", "medical necessity", "lumbar OR cervical", "tizanidine", "physical"]


def _answers(index: SearchIndex) -> list[Any]:
    """Every scored part of the answers: ids, scores and totals, in page order."""
    out = []
    for q in _SCORED_QUERIES:
        r = index.search(SearchRequest(q=q, size=50))
        out.append((r.total_determinations, [(h.id, h.score) for h in r.results]))
    return out


def test_kept_scores_answer_as_computed_afresh(tmp_path: Path, corpus_paths: list[Path]) -> None:
    from search.index import index_paths

    folder = tmp_path / "ix"
    assert index_paths(folder, corpus_paths[: len(corpus_paths) // 2], workers=1).failed == 0
    index = SearchIndex.open(folder)
    first = _answers(index)
    assert index._scores.items  # scores were kept
    assert _answers(index) == first  # answered from the kept scores
    # A commit changes every word's idf and the average lengths: no score may be reused.
    assert index_paths(folder, corpus_paths[len(corpus_paths) // 2 :], workers=1).failed == 0
    assert index.refresh()
    grown = _answers(index)
    with SearchIndex.open(folder) as fresh:
        assert grown == _answers(fresh)
    assert grown != first
    index.close()


def test_letters_outside_count_as_a_difference_of_letter_keys(
    search_index: SearchIndex,
) -> None:
    """Letters matched in the letter scope and not in the decision scope, counted per
    segment, equal the set difference of the two searches' letter keys."""
    snap = search_index._current()
    counted = 0
    for q in ("tizanidine", "acupuncture", "pain", "omeprazole OR therapy", "zzzz", ""):
        narrow, _ = understood_request(SearchRequest(q=q))
        wide, _ = understood_request(SearchRequest(q=q, scope="letter"))
        deadline = time.monotonic() + 60
        _, n, _ = search_index._matches(snap, narrow, deadline)
        _, w, _ = search_index._matches(snap, wide, deadline)
        keys = np.setdiff1d(letter_rows(snap.leaves, w)[0][4], letter_rows(snap.leaves, n)[0][4])
        assert letters_outside(snap.leaves, w, n) == keys.size, q
        counted += keys.size
    assert counted  # some letters do mention a treatment none of their decisions is about


def test_bm25_by_table_gives_the_same_float32_scores_as_by_formula(
    search_index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The (term count, length code) table and the per-posting formula, over every list of
    real queries (table from the first posting on, or never): bit for bit the same."""
    snap = search_index._current()

    def scores(table_min: int) -> list[np.ndarray]:
        monkeypatch.setattr(evaluate, "TABLE_MIN", table_min)
        out = []
        for q in ("pain", "medical necessity", "tizanidine OR omeprazole", "the back"):
            parsed, _ = understood_request(SearchRequest(q=q, literal=True, scope="letter"))
            ev = evaluate.Evaluator(snap.reader, snap.leaves, time.monotonic() + 60)
            ev.prepare(parsed.query)
            out += [ev.evaluate(parsed.query, i)[1] for i in range(len(snap.leaves))]
        return out

    by_table, by_formula = scores(0), scores(1 << 40)
    assert sum(int(np.count_nonzero(s)) for s in by_table) > 500
    assert all(np.array_equal(a, b) for a, b in zip(by_table, by_formula, strict=True))


def test_a_search_does_not_import_the_parse_stages(built_index: Path) -> None:
    """A searcher needs the drug names of parse.drugs, not the section and item stages
    (importing their regexes cost ~60 ms of a server's start); parse_text still imports."""
    code = (
        "import sys\n"
        "from search.engine.searcher import SearchIndex\n"
        "from search.results import SearchRequest\n"
        f"index = SearchIndex.open({str(built_index)!r})\n"
        "assert index.search(SearchRequest(q='zanaflex')).total_decisions > 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('search.parse.')))\n"
        "from search.parse import parse_text\n"
        "assert 'search.parse.resolve' in sys.modules and callable(parse_text)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "search.parse.drugs" in out
    for stage in ("resolve", "sections", "find", "blocks"):
        assert f"search.parse.{stage}'" not in out


def test_column_codes_are_shared_across_segments() -> None:
    """A value keeps its code in every segment that has it; a multi facet's combination is
    the same whatever the order of its values; an empty value has none (-1)."""
    single, multi = segments.FacetTable(), segments.FacetTable()
    assert single.column_codes([b"", b"CA", b"NY"], False) == [-1, 0, 1]
    assert single.column_codes([b"NY", b"TX", b"", b"CA"], False) == [1, 2, -1, 0]
    assert single.values == ["CA", "NY", "TX"]
    sep = MULTI_SEP.encode()
    first = multi.column_codes([b"a" + sep + b"b", b"", b"b"], True)
    second = multi.column_codes([b"b", b"b" + sep + b"a", b"c" + sep + b"a"], True)
    assert first == [0, -1, 1] and second == [1, 0, 2]
    assert multi.combos == [(0, 1), (1,), (0, 2)] and multi.values == ["a", "b", "c"]


def test_values_spelled_the_same_but_for_case_count_as_the_first_spelling() -> None:
    """A facet's counts merge values that differ only in case, under the spelling seen first
    (a filter ignores case); the canonical codes grow with the table."""
    tables = {f: segments.FacetTable() for f in FACETS}
    table = tables["drug"]
    assert table.column_codes([b"Ibuprofen", b"naproxen", b"IBUPROFEN", b"ibuprofen"], False)
    counter = facets.FacetCounter(tables)
    counts = np.array([3, 5, 2, 1], dtype=np.int64)
    assert counter._canonical("drug").tolist() == [0, 1, 0, 0]
    assert counter._named("drug", counts) == {"Ibuprofen": 6, "naproxen": 5}
    table.column_codes([b"Naproxen", b"ketorolac"], False)
    assert counter._canonical("drug").tolist() == [0, 1, 0, 0, 1, 5]


def test_bench_start_times_every_stage_of_a_first_query(
    search_index: SearchIndex, built_index: Path, tmp_path: Path, capsys: Any
) -> None:
    from benchmarks import bench_start, querymix

    leaf = search_index._current().leaves[0]
    records = [search_index._record(leaf, int(s)) for s in leaf.data.starts[:30]]
    mix = tmp_path / "mix.jsonl"
    querymix.save(querymix.make_mix(records, 3, 5), mix)
    assert bench_start.main(["--index", str(built_index), "--mix", str(mix), "--runs", "1"]) == 0
    out = capsys.readouterr().out
    spent = {}
    for label, *_ in bench_start.STAGES:
        line = next(x for x in out.splitlines() if x.strip().startswith(label))
        spent[label] = float(line.split()[-2])
    # a stage whose wrapper a refactor bypassed would read 0: the ones every query runs
    for label in ("open: segments loaded", "values coded engine-wide", "facets counted"):
        assert spent[label] > 0, label
    assert spent["open: segments loaded"] >= spent["refs and values read"]
