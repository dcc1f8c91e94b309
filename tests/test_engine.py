"""SearchIndex on real indexes: facet counts checked against plain-Python counts of the parsed
records, the same-decision rule, synonyms, highlights, suggestions, similar, sort and pages."""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search.engine import searcher as engine_module
from search.engine.docs import drug_ingredients
from search.engine.searcher import SearchIndex
from search.fields import (
    ENGINE_MAX_PAGE_SIZE,
    FACETS,
    MAX_PAGE_SIZE,
    SORT_NEWEST,
    SORT_OLDEST,
    age_band,
)
from search.index import index_paths
from search.model import Decision, Determination
from search.parse import parse_text
from search.parse.load import load_file
from search.results import QueryError, SearchRequest, SearchResponse

Pred = Callable[[Determination, Decision | None], bool]
SAMPLES = Path(__file__).resolve().parent.parent / "search" / "samples"
ONLY_MARK = re.compile(r"<(?!/?mark>)")


@pytest.fixture(scope="module")
def records(corpus_paths: list[Path]) -> list[Determination]:
    """The corpus parsed independently of the index (distinct texts only)."""
    seen: set[str] = set()
    out = []
    for path in corpus_paths:
        loaded = load_file(path)
        if loaded.sha256 in seen:
            continue
        seen.add(loaded.sha256)
        out.append(parse_text(loaded.text, source=loaded.source, sha256=loaded.sha256))
    return out


def values_of(rec: Determination, d: Decision | None) -> dict[str, set[str]]:
    """Facet values of one decision, computed here without the engine."""
    out: dict[str, set[str]] = {f: set() for f in FACETS}
    if d is not None:
        out["outcome"] = {d.outcome} if d.outcome else set()
        out["drug"] = {d.drug} if d.drug else set()
        out["ingredient"] = set(drug_ingredients(d.drug)) if d.drug else set()
        out["drug_class"] = {d.drug_class} if d.drug_class else set()
        out["category"] = {d.category} if d.category else set()
        out["guideline"] = set(d.guideline_sources)
        out["ur_modified"] = {"yes" if d.ur_modified else "no"}
        out["region"] = set(d.regions)
    out["state"] = set(rec.reviewer.states)
    out["specialty"] = set(rec.reviewer.specialties)
    out["year"] = {str(rec.year)} if rec.year else set()
    out["sex"] = {rec.worker.sex} if rec.worker.sex else set()
    band = age_band(rec.worker.age)
    out["age"] = {band} if band else set()
    return out


def expected(records: list[Determination], pred: Pred) -> tuple[dict[str, Counter[str]], int, int]:
    """(facet counts, determinations, decisions) over decisions satisfying pred."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
    letters = decisions = 0
    for rec in records:
        items: list[Decision | None] = list(rec.decisions) or [None]
        hits = [d for d in items if pred(rec, d)]
        if hits:
            letters += 1
        decisions += sum(1 for d in hits if d is not None)
        for d in hits:
            for facet, values in values_of(rec, d).items():
                counts[facet].update(values)
    return counts, letters, decisions


Wanted = dict[str, set[str]]


def passes(rec: Determination, d: Decision | None, wanted: Wanted, skip: str = "") -> bool:
    """Whether a decision has one of the wanted values of every filtered facet but `skip`."""
    values = values_of(rec, d)
    for facet, allowed in wanted.items():
        if facet != skip and not {v.casefold() for v in values[facet]} & allowed:
            return False
    return True


def check(
    index: SearchIndex,
    records: list[Determination],
    request: SearchRequest,
    pred: Pred,
    wanted: Wanted | None = None,
) -> SearchResponse:
    """Run request and compare every count with the independent computation: pred is the
    text query's part; each facet is counted under the other facets' filters (wanted)."""
    wanted = {f: {v.casefold() for v in vs} for f, vs in (wanted or {}).items()}
    response = index.search(request)
    counts, letters, decisions = expected(records, lambda r, d: pred(r, d) and passes(r, d, wanted))
    assert response.total_determinations == letters
    assert response.total_decisions == decisions
    for facet in FACETS:
        if facet in wanted:
            counts[facet] = expected(
                records, lambda r, d, f=facet: pred(r, d) and passes(r, d, wanted, f)
            )[0][facet]
        assert dict(response.facets[facet]) == dict(counts[facet]), facet
    return response


def test_all_facets(search_index: SearchIndex, records: list[Determination]) -> None:
    check(search_index, records, SearchRequest(), lambda r, d: True)


def test_doc_count(search_index: SearchIndex, records: list[Determination]) -> None:
    assert search_index.doc_count() == (len(records), sum(len(r.decisions) for r in records))


def test_filter_case_insensitive(search_index: SearchIndex, records: list[Determination]) -> None:
    check(
        search_index,
        records,
        SearchRequest(filters={"outcome": ("overturned",)}),
        lambda r, d: True,
        {"outcome": {"Overturned"}},
    )


def test_same_decision_rule(search_index: SearchIndex, records: list[Determination]) -> None:
    drug = Counter(d.drug for r in records for d in r.decisions if d.drug).most_common(1)[0][0]
    response = check(
        search_index,
        records,
        SearchRequest(
            filters={"drug": (drug.upper(),), "outcome": ("Upheld",)}, size=MAX_PAGE_SIZE
        ),
        lambda r, d: True,
        {"drug": {drug}, "outcome": {"Upheld"}},
    )
    for hit in response.results:
        assert hit.decisions
        assert all(d.drug == drug and d.outcome == "Upheld" for d in hit.decisions)


def test_or_within_and_across(search_index: SearchIndex, records: list[Determination]) -> None:
    state = Counter(s for r in records for s in r.reviewer.states).most_common(1)[0][0]
    check(
        search_index,
        records,
        SearchRequest(filters={"outcome": ("Upheld", "OVERTURNED"), "state": (state.lower(),)}),
        lambda r, d: True,
        {"outcome": {"Upheld", "Overturned"}, "state": {state}},
    )


def test_multi_valued_guideline(search_index: SearchIndex, records: list[Determination]) -> None:
    check(
        search_index,
        records,
        SearchRequest(filters={"guideline": ("odg", "acoem")}),
        lambda r, d: True,
        {"guideline": {"ODG", "ACOEM"}},
    )


def test_facet_in_query_text(search_index: SearchIndex, records: list[Determination]) -> None:
    check(
        search_index,
        records,
        SearchRequest(q="outcome:overturned OR outcome:upheld"),
        lambda r, d: d is not None and d.outcome is not None,
    )


def test_facet_values_helper(search_index: SearchIndex, records: list[Determination]) -> None:
    counts, _, _ = expected(records, lambda r, d: True)
    assert search_index.facet_values("outcome") == dict(counts["outcome"])
    with pytest.raises(QueryError):
        search_index.facet_values("colour")


# --- a small index of hand-made variants of the sample letters -----------------------------


def _sample(name: str) -> str:
    return next(SAMPLES.glob(f"{name}_*.txt")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """Letters that isolate one behaviour each."""
    folder = tmp_path_factory.mktemp("variants")
    tiz = _sample("000")
    norco_tiz = _sample("002")
    (folder / "tiz_only.txt").write_text(tiz)
    # The same letter naming only the brand.
    (folder / "zanaflex_only.txt").write_text(
        re.sub("tizanidine", "Zanaflex", tiz, flags=re.I).replace("Overturned", "Upheld")
    )
    # Norco upheld, tizanidine overturned: one letter, two decisions.
    (folder / "mixed.txt").write_text(
        norco_tiz.replace("Tizanidine 4 mg #30:  Upheld", "Tizanidine 4 mg #30:  Overturned")
    )
    # Only "hydrocodone", never "Norco".
    (folder / "hydrocodone_only.txt").write_text(
        norco_tiz.replace("Norco", "Hydrocodone").replace("norco", "hydrocodone")
    )
    # Markup and a word hyphenated across a line break.
    (folder / "markup.txt").write_text(
        tiz.replace(
            "Review of the submitted documentation",
            "<script>alert('x')</script> & <b>bold</b> non-\nopioid therapy. "
            "Review of the submitted documentation",
        )
    )
    summary = index_paths(folder / "ix", [folder], workers=1)
    assert summary.failed == 0 and summary.added == 5
    index = SearchIndex.open(folder / "ix")
    yield index
    index.close()


def _ids(response: SearchResponse) -> set[str]:
    return {h.id for h in response.results}


def test_same_decision_on_one_letter(variants: SearchIndex) -> None:
    upheld = variants.search(
        SearchRequest(filters={"drug": ("tizanidine",), "outcome": ("Upheld",)})
    )
    assert "mixed" not in _ids(upheld)
    over = variants.search(
        SearchRequest(filters={"drug": ("tizanidine",), "outcome": ("Overturned",)})
    )
    hit = next(h for h in over.results if h.id == "mixed")
    assert [d.drug for d in hit.decisions] == ["tizanidine"]
    assert over.facets["drug"] == {"tizanidine": 3}  # tiz_only, markup and mixed's #2


def test_synonyms_both_ways(variants: SearchIndex) -> None:
    assert "tiz_only" in _ids(variants.search(SearchRequest(q="rationale:zanaflex")))
    assert "zanaflex_only" in _ids(variants.search(SearchRequest(q="rationale:tizanidine")))
    assert "hydrocodone_only" in _ids(variants.search(SearchRequest(q="rationale:norco")))
    assert "mixed" in _ids(variants.search(SearchRequest(q="rationale:hydrocodone")))


def test_highlights_escaped(variants: SearchIndex) -> None:
    response = variants.search(SearchRequest(q="bold alert"))
    hit = next(h for h in response.results if h.id == "markup")
    passages = [p for d in hit.decisions for p in d.highlights] + list(hit.highlights)
    assert passages
    for passage in passages:
        assert not ONLY_MARK.search(passage), passage
    assert any("&lt;b&gt;<mark>bold</mark>" in p for p in passages)
    assert any("&lt;script&gt;<mark>alert</mark>" in p for p in passages)


def test_hyphenated_across_lines(variants: SearchIndex) -> None:
    assert "markup" in _ids(variants.search(SearchRequest(q="nonopioid")))
    assert "markup" in _ids(variants.search(SearchRequest(q="non-opioid")))
    assert "markup" in _ids(variants.search(SearchRequest(q='"non opioid therapy"')))


def test_phrase_and_boolean(variants: SearchIndex) -> None:
    assert "tiz_only" in _ids(variants.search(SearchRequest(q='"severe muscle spasms"')))
    assert not _ids(variants.search(SearchRequest(q='"spasms muscle severe"')))
    got = _ids(variants.search(SearchRequest(q="rationale:norco NOT request:tizanidine")))
    assert got == {"mixed"} or "tiz_only" not in got


def test_letter_text_and_decision_text(variants: SearchIndex) -> None:
    got = variants.search(SearchRequest(q="summary:buttock AND request:tizanidine"))
    assert _ids(got) == {"tiz_only", "markup", "zanaflex_only"}  # request also names the generic


def test_get(variants: SearchIndex) -> None:
    rec = variants.get("mixed")
    assert rec is not None and [d.outcome for d in rec.decisions] == ["Upheld", "Overturned"]
    assert variants.get("no-such-letter") is None


def test_similar(variants: SearchIndex) -> None:
    hits = variants.similar("tiz_only")
    assert hits is not None and hits
    assert "tiz_only" not in {h.id for h in hits}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    same = variants.similar("tiz_only", same_drug=True, same_outcome=True)
    assert same is not None
    for hit in same:
        assert all(d.drug == "tizanidine" and d.outcome == "Overturned" for d in hit.decisions)
    assert variants.similar("no-such-letter") is None


def test_suggestion(search_index: SearchIndex) -> None:
    # Searched as a word (read as a drug name, the vocabulary's misspelling finds the drug):
    # the hits are those of the corrected word, so there is nothing to suggest.
    response = search_index.search(SearchRequest(q="tizanadine", literal=True))
    assert response.total_determinations > 0 and response.suggestion is None
    # The drug name is found as written and as corrected: the same hits, so no "did you mean".
    response = search_index.search(SearchRequest(q="tizanadine"))
    corrected = search_index.search(SearchRequest(q="tizanidine"))
    assert response.total_determinations == corrected.total_determinations > 0
    assert response.suggestion is None
    response = search_index.search(SearchRequest(q="tizanadine OR physcal"))
    assert response.total_determinations > 0  # hits, but the correction finds more
    assert response.suggestion == "tizanidine OR physical"
    response = search_index.search(SearchRequest(q="lumbr spine"))
    assert response.suggestion == "lumbar spine"
    assert search_index.search(SearchRequest(q="tizanidine")).suggestion is None


def test_sorts(search_index: SearchIndex) -> None:
    newest = search_index.search(SearchRequest(sort=SORT_NEWEST, size=200))
    # The sort key: the decision date where the letter states it, else the date assigned.
    dates = [d for h in newest.results if (d := h.decision_date or h.date_assigned)]
    assert dates == sorted(dates, reverse=True)
    oldest = search_index.search(SearchRequest(sort=SORT_OLDEST, size=200))
    dates = [d for h in oldest.results if (d := h.decision_date or h.date_assigned)]
    assert dates == sorted(dates)
    relevant = search_index.search(SearchRequest(q="tizanidine", size=200, literal=True))
    scores = [h.score for h in relevant.results]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


def test_pages(search_index: SearchIndex) -> None:
    first = search_index.search(SearchRequest(q="pain", size=5, page=1))
    second = search_index.search(SearchRequest(q="pain", size=5, page=2))
    both = search_index.search(SearchRequest(q="pain", size=10, page=1))
    assert [h.id for h in both.results] == [h.id for h in first.results + second.results]
    assert first.total_determinations == both.total_determinations
    last = first.pages
    assert not search_index.search(SearchRequest(q="pain", size=5, page=last + 1)).results
    everything = search_index.search(SearchRequest(size=MAX_PAGE_SIZE))
    assert len(everything.results) == everything.total_determinations
    assert len({h.id for h in everything.results}) == len(everything.results)


@pytest.mark.parametrize(
    "request_",
    [
        SearchRequest(size=ENGINE_MAX_PAGE_SIZE + 1),
        SearchRequest(size=0),
        SearchRequest(page=0),
        SearchRequest(sort="alphabetical"),
        SearchRequest(filters={"colour": ("red",)}),
        SearchRequest(q="a AND OR b"),
        SearchRequest(q="*"),
    ],
)
def test_bad_requests(search_index: SearchIndex, request_: SearchRequest) -> None:
    with pytest.raises(QueryError):
        search_index.search(request_)


HOSTILE = [
    "*",
    "*a*",
    "rationale:[a TO]",
    "x" * 40_000,
    "(" * 2000 + "a" + ")" * 2000,
    " OR ".join(f"w{i}" for i in range(20_000)),
    "pai* OR med* OR tre*",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    '"the" OR "of" OR "and" OR "to"',
    "NOT the",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: f"{t[:12]!r}x{len(t)}")
def test_hostile_queries(search_index: SearchIndex, text: str) -> None:
    started = time.monotonic()
    with contextlib.suppress(QueryError):
        search_index.search(SearchRequest(q=text))
    assert time.monotonic() - started < 2.0


def test_time_limit(search_index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "TIME_LIMIT", -1.0)
    with pytest.raises(QueryError, match="too long"):
        search_index.search(SearchRequest(q="pain"))


def test_refresh(tmp_path: Path, sample_paths: list[Path]) -> None:
    index_paths(tmp_path, sample_paths[:2], workers=1)
    with SearchIndex.open(tmp_path) as index:
        assert index.doc_count()[0] == 2
        assert index.refresh() is False
        index_paths(tmp_path, sample_paths, workers=1)
        assert index.refresh() is True
        assert index.doc_count()[0] == len(sample_paths)
        assert index.search(SearchRequest(q="rheumatology")).total_determinations == 1


def test_pinned_view_keeps_its_snapshot_across_commits(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    index_paths(tmp_path, sample_paths[:2], workers=1)
    with SearchIndex.open(tmp_path) as index:
        pinned = index.pinned()
        index_paths(tmp_path, sample_paths, workers=1)
        assert index.refresh() is True
        assert pinned.refresh() is False
        assert index.doc_count()[0] == len(sample_paths)
        assert pinned.doc_count()[0] == 2
        every = SearchRequest(q="", size=100)
        assert index.search(every).total_determinations == len(sample_paths)
        assert pinned.search(every).total_determinations == 2
        assert {h.id for h in pinned.search(every).results} < {
            h.id for h in index.search(every).results
        }


def test_missing_index(tmp_path: Path) -> None:
    from search.index import IndexMissing

    with pytest.raises(IndexMissing, match="no index"):
        SearchIndex.open(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError):
        SearchIndex.open(tmp_path)
