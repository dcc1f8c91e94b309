"""Query understanding (pure, table-tested) and decision-scoped matching on a real index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.engine.searcher import SearchIndex
from search.fields import SECTION_DECISIONS, SECTION_RATIONALE
from search.model import Decision, Determination
from search.parse import parse_text
from search.parse.load import load_file
from search.results import QueryError, SearchRequest
from search.schema import tokenize
from search.understand import understand, without_facet

# query -> (words left, filters read)
TABLE: list[tuple[str, str, dict[str, tuple[str, ...]]]] = [
    (
        "tizanidine overturned for chronic low back pain",
        "chronic low back pain",
        {"drug": ("tizanidine",), "outcome": ("Overturned",)},
    ),
    ("Zanaflex upheld", "", {"drug": ("tizanidine",), "outcome": ("Upheld",)}),
    ("Norco denied", "", {"drug": ("hydrocodone/acetaminophen",), "outcome": ("Upheld",)}),
    (
        "approved acupuncture",
        "",
        {"outcome": ("Overturned",), "category": ("physical medicine/acupuncture",)},
    ),
    (
        "physical therapy for the knee",
        "knee",
        {"category": ("physical medicine/physical therapy",)},
    ),
    # A drug name that is an everyday word stays a word.
    ("soma back pain", "soma back pain", {}),
    # "back" names no facet value: a word.
    ("back", "back", {}),
    ("low back pain", "low back pain", {}),
    # A particular service stays words (decision-scoped), its category name is read.
    ("MRI lumbar spine denied", "MRI lumbar spine", {"outcome": ("Upheld",)}),
    ("epidural steroid injection", "epidural steroid", {"category": ("injections",)}),
    # Words only: nothing read, nothing dropped.
    ("pain for the knee", "pain for the knee", {}),
    # A state name inside a phrase is left alone; outside, it is the reviewer state.
    ('"new york" tizanidine', '"new york"', {"drug": ("tizanidine",)}),
    ("baclofen new york", "", {"drug": ("baclofen",), "state": ("New York",)}),
    ("orthopedic surgery reviewer", "reviewer", {"specialty": ("Orthopedic Surgery",)}),
    # field:value terms are left as written.
    ("drug:baclofen overturned", "drug:baclofen", {"outcome": ("Overturned",)}),
    ("rationale:tizanidine pain", "rationale:tizanidine pain", {}),
    # Boolean operators: OR changes what a filter would mean, so nothing is read.
    ("tizanidine OR baclofen", "tizanidine OR baclofen", {}),
    (
        "tizanidine AND overturned AND pain",
        "pain",
        {"drug": ("tizanidine",), "outcome": ("Overturned",)},
    ),
    ("pain AND tizanidine", "pain", {"drug": ("tizanidine",)}),
    # Negated words and words in parentheses are not read.
    ("-tizanidine pain", "-tizanidine pain", {}),
    ("NOT overturned tizanidine", "NOT overturned", {"drug": ("tizanidine",)}),
    ("(tizanidine pain) upheld", "(tizanidine pain)", {"outcome": ("Upheld",)}),
    ("tizan* overturned", "tizan*", {"outcome": ("Overturned",)}),
    # Two drugs: either (a decision names one drug).
    ("tizanidine baclofen", "", {"drug": ("tizanidine", "baclofen")}),
    ("", "", {}),
    ('unclosed "quote', 'unclosed "quote', {}),
]


@pytest.mark.parametrize(("query", "words", "filters"), TABLE)
def test_understand_table(query: str, words: str, filters: dict[str, tuple[str, ...]]) -> None:
    u = understand(query)
    assert u.text == words
    assert dict(u.filters) == filters
    assert u.interpreted == bool(filters)


def test_without_facet() -> None:
    assert (
        without_facet("tizanidine overturned upheld for pain", "outcome") == "tizanidine for pain"
    )
    assert without_facet('"overturned" pain', "outcome") == '"overturned" pain'
    assert without_facet("overturned", "outcome") == ""
    assert without_facet("tizanidine pain", "outcome") == "tizanidine pain"


def test_charts_leave_the_outcome_words_out(built_index: Path) -> None:
    """Charts compare both outcomes: an outcome word of the query is left out like the filter."""
    from web.app import create_app

    client = create_app({"INDEX_PATH": str(built_index)}).test_client()
    read = client.get("/api/charts", query_string={"q": "tizanidine overturned"}).get_json()
    plain = client.get("/api/charts", query_string={"q": "tizanidine"}).get_json()
    read.pop("query"), plain.pop("query")
    assert read == plain


def test_summary_and_chips() -> None:
    u = understand("tizanidine overturned for chronic low back pain")
    assert u.summary == "drug tizanidine, outcome Overturned; words: chronic low back pain"
    assert [(c.facet, c.value, c.words) for c in u.chips] == [
        ("drug", "tizanidine", "tizanidine"),
        ("outcome", "Overturned", "overturned"),
    ]
    # Removing a chip drops its words and keeps the rest as typed.
    assert u.chips[0].without == "overturned for chronic low back pain"
    assert understand("new york baclofen").chips[0].words == "new york"


# --- on a real index: the sample letters and generated letters --------------------------


@pytest.fixture(scope="module")
def records(corpus_paths: list[Path]) -> list[Determination]:
    seen: set[str] = set()
    out = []
    for path in corpus_paths:
        loaded = load_file(path)
        if loaded.sha256 not in seen:
            seen.add(loaded.sha256)
            out.append(parse_text(loaded.text, source=loaded.source, sha256=loaded.sha256))
    return out


def own_words(d: Decision) -> set[str]:
    """Words of a decision's own text: request, drug names, rationale, guidelines."""
    parts = [d.request, d.drug_as_written, d.drug, d.rationale]
    parts += [d.claims_administrator_guideline, d.maximus_guideline]
    return set(tokenize(" ".join(p for p in parts if p)))


def letter_words(rec: Determination, d: Decision) -> set[str]:
    """Words a decision's letter offers it: the decision's own, and the letter's sections
    other than the decisions (each decision's own text belongs to that decision only)."""
    skip = {SECTION_DECISIONS, SECTION_RATIONALE}
    text = " ".join(s.text for s in rec.sections if s.key not in skip)
    return own_words(d) | set(tokenize(text))


def _all(index: SearchIndex, **kw: object) -> tuple[set[tuple[str, int]], int]:
    resp = index.search(SearchRequest(size=5000, **kw))  # type: ignore[arg-type]
    assert resp.total_determinations <= 5000
    found = {(h.id, d.ordinal) for h in resp.results for d in h.decisions}
    assert len(found) == resp.total_decisions
    return found, resp.total_decisions


def test_readme_example_exact(search_index: SearchIndex, records: list[Determination]) -> None:
    """`tizanidine overturned for chronic low back pain`: exactly the overturned tizanidine
    decisions whose letters mention chronic, low, back and pain."""
    wanted = {"chronic", "low", "back", "pain"}
    expected = {
        (r.id, d.ordinal)
        for r in records
        for d in r.decisions
        if d.drug == "tizanidine" and d.outcome == "Overturned" and wanted <= letter_words(r, d)
    }
    assert expected  # the corpus has such decisions
    found, _ = _all(search_index, q="tizanidine overturned for chronic low back pain")
    assert found == expected
    resp = search_index.search(SearchRequest(q="tizanidine overturned for chronic low back pain"))
    assert resp.interpreted is not None
    assert resp.interpreted.summary.startswith("drug tizanidine, outcome Overturned")


def test_treatment_words_match_decisions_only(
    search_index: SearchIndex, records: list[Determination]
) -> None:
    """A drug word, searched literally, counts only decisions whose own text names it."""
    names = {"tizanidine", "zanaflex"}
    expected = {(r.id, d.ordinal) for r in records for d in r.decisions if names & own_words(d)}
    found, _ = _all(search_index, q="tizanidine", literal=True)
    assert found == expected
    # scope=letter: every decision of a letter that names it anywhere.
    wide = {(r.id, d.ordinal) for r in records for d in r.decisions if names & letter_words(r, d)}
    found_wide, _ = _all(search_index, q="tizanidine", literal=True, scope="letter")
    assert found_wide == wide
    assert expected < wide  # this corpus has letters that mention it outside the decision
    # Letters that name it only outside their decisions are reported apart, not counted.
    resp = search_index.search(
        SearchRequest(q="tizanidine", literal=True, size=1, count_elsewhere=True)
    )
    assert search_index.search(SearchRequest(q="tizanidine", literal=True)).also_mentioned == 0
    assert resp.also_mentioned == len({i for i, _ in wide} - {i for i, _ in expected}) > 0
    # A field overrides the scope rule.
    found_summary, _ = _all(search_index, q="summary:tizanidine", literal=True)
    assert found_summary and not found_summary <= expected


def test_other_words_match_the_letter(
    search_index: SearchIndex, records: list[Determination]
) -> None:
    expected = {
        (r.id, d.ordinal) for r in records for d in r.decisions if "chronic" in letter_words(r, d)
    }
    found, _ = _all(search_index, q="chronic")
    assert found == expected
    own = {(r.id, d.ordinal) for r in records for d in r.decisions if "chronic" in own_words(d)}
    found_decision, _ = _all(search_index, q="chronic", scope="decision")
    assert found_decision == own


def test_own_text_ranks_first(search_index: SearchIndex, records: list[Determination]) -> None:
    """Letters whose decisions' own text matches come before letter-text-only matches."""
    by_id = {r.id: r for r in records}
    resp = search_index.search(SearchRequest(q="chronic", size=5000))
    tiers = [
        any(
            "chronic" in own_words(d)
            for d in by_id[h.id].decisions
            if d.ordinal in {x.ordinal for x in h.decisions}
        )
        for h in resp.results
    ]
    assert True in tiers and False in tiers
    assert tiers == sorted(tiers, reverse=True)


def test_unknown_scope(search_index: SearchIndex) -> None:
    with pytest.raises(QueryError, match="scope"):
        search_index.search(SearchRequest(q="pain", scope="everywhere"))


def test_web_chips_literal_and_scope(built_index: Path) -> None:
    """The page shows the interpretation with removable chips, a literal link, the scope
    switch and the letters that mention a treatment elsewhere; the JSON twin says the same."""
    from web.app import create_app

    client = create_app({"INDEX_PATH": str(built_index)}).test_client()
    q = "tizanidine overturned for chronic low back pain"
    page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
    assert (
        "Interpreted as: drug tizanidine, outcome Overturned; words: chronic low back pain" in page
    )
    assert "literal=1" in page and "Search the words literally instead" in page
    assert 'href="/search?q=overturned+for+chronic+low+back+pain"' in page  # drug chip removed
    # In the facet list the read values are ticked, and unticking one removes its words.
    ticked = re.findall(r'class="facet-option is-active" href="([^"]*)"', page)
    assert sorted(ticked) == sorted(  # facet links land back on the filter panel
        [
            "/search?q=overturned+for+chronic+low+back+pain#filters",
            "/search?q=tizanidine+for+chronic+low+back+pain#filters",
        ]
    )
    body = client.get("/api/search", query_string={"q": q}).get_json()
    assert body["interpreted"]["filters"] == {"drug": ["tizanidine"], "outcome": ["Overturned"]}
    literal = client.get("/search", query_string={"q": "tizanidine", "literal": "1"})
    text = literal.get_data(as_text=True)
    assert "Searching the words literally" in text
    assert "Also mentioned in" in text and "scope=letter" in text
    api = client.get("/api/search", query_string={"q": "tizanidine", "literal": "1"}).get_json()
    assert api["interpreted"] is None and api["also_mentioned"] > 0
    wide = client.get(
        "/api/search", query_string={"q": "tizanidine", "literal": "1", "scope": "letter"}
    ).get_json()
    assert wide["total_decisions"] > api["total_decisions"]
    assert client.get("/search", query_string={"q": "x", "scope": "nowhere"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"q": "tizanidine", "literal": "1"},
        {"q": "tizanidine overturned for chronic low back pain"},
        {"q": "chronic", "scope": "decision"},
    ],
)
def test_determination_page_matches_like_the_search(
    built_index: Path, params: dict[str, str]
) -> None:
    """Opening a result keeps the same reading and scope: the same decisions are flagged."""
    from web.app import create_app

    client = create_app({"INDEX_PATH": str(built_index)}).test_client()
    hits = client.get("/api/search", query_string=params).get_json()["results"]
    assert hits
    for hit in hits[:5]:
        body = client.get(f"/api/determinations/{hit['id']}", query_string=params).get_json()
        assert body["search"]["matching_decisions"] == [d["ordinal"] for d in hit["decisions"]]


def test_service_words_match_decisions_only(
    search_index: SearchIndex, records: list[Determination]
) -> None:
    expected = {(r.id, d.ordinal) for r in records for d in r.decisions if "mri" in own_words(d)}
    found, _ = _all(search_index, q="MRI")
    assert expected and found == expected
