"""The determination page as a precedent reader: pure view model, URLs, and the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from test_web_support import web_index_dir

from search.engine.highlight import Terms, mark_all
from search.engine.searcher import SearchIndex
from search.fields import SECTION_CASE_SUMMARY, SECTION_DECISIONS, SECTION_HOW_MADE
from search.model import Decision, Determination, Section
from search.results import SearchRequest
from web import urls
from web.reader import build_reader, item_line, lead_in
from web.urls import SearchState

# --- pure: marking, lead-in, the reader -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        ("Zanaflex 4 mg", Terms.of(["zanaflex"]), "<mark>Zanaflex</mark> 4 mg"),
        ("no match here", Terms.of(["zanaflex"]), "no match here"),
        ("a <b> & zanaflex", Terms.of(["zanaflex"]), "a &lt;b&gt; &amp; <mark>zanaflex</mark>"),
        ("<mark>x</mark> pain", Terms.of(["pain"]), "&lt;mark&gt;x&lt;/mark&gt; <mark>pain</mark>"),
        ("chronic low back pain", Terms.of(["low back"]), "chronic <mark>low back</mark> pain"),
        ("the low road, back", Terms.of(["low back"]), "the low road, back"),
        ("spasms and spasm", Terms.of(["spasm*"]), "<mark>spasms</mark> and <mark>spasm</mark>"),
        ("<i>", Terms(), "&lt;i&gt;"),
        ("", Terms.of(["x"]), ""),
    ],
)
def test_mark_all(text: str, terms: Terms, expected: str) -> None:
    assert mark_all(text, terms) == expected


def _decision(n: int, request: str, rationale: str = "", drug: str | None = None) -> Decision:
    return Decision(n, request, "Upheld", False, drug=drug, rationale=rationale)


@pytest.mark.parametrize(
    ("text", "requests", "expected"),
    [
        ("Intro line.\n\n1 Norco 10/325: Upheld\n\nrationale", ["1 Norco 10/325"], ["Intro line."]),
        ("A.\n\nB.\n\n1  NORCO\n 10/325: Upheld", ["1 Norco 10/325"], ["A.", "B."]),
        ("1 Norco: Upheld", ["1 Norco"], []),
        ("Text that names no item.", ["1 Norco"], []),  # never repeat: keep nothing
        ("Intro.\n\n2 MRI: Overturned", ["1 Norco", "2 MRI"], ["Intro."]),
        ("Set forth below: 1 Norco: Upheld Rationale", ["1 Norco"], ["Set forth below:"]),
        ("Intro.\n\n1. Norco: Upheld", ["Norco"], ["Intro."]),  # an item number is no intro
        ("Item a) Norco: Upheld", ["Norco"], []),
    ],
)
def test_lead_in(text: str, requests: list[str], expected: list[str]) -> None:
    decisions = tuple(_decision(i + 1, r) for i, r in enumerate(requests))
    assert lead_in(text, decisions) == expected


@pytest.mark.parametrize(
    ("text", "asked", "outcome", "expected"),
    [
        # a partly authorized request: the item line says more than the request
        (
            "Intro.\n\nPT x12 was the original request. PT x4 was authorized. The rest, PT x8: "
            "Upheld\n\nRationale.",
            "PT x8",
            "Upheld",
            "PT x12 was the original request. PT x4 was authorized. The rest, PT x8: Upheld",
        ),
        ("Intro.\n\n1 Norco 10/325: Upheld\n\nWhy.", "1 Norco 10/325", "Upheld", ""),
        ("1  NORCO\n10/325:  Upheld.", "1 Norco 10/325", "Upheld", ""),
        (
            "1 NORCO 10/325 (retro): Upheld.",
            "1 Norco 10/325",
            "Upheld",
            "1 NORCO 10/325 (retro): Upheld.",
        ),
        (
            "Norco was asked (retro): Overturned",
            "Norco",
            "Overturned",
            "Norco was asked (retro): Overturned",
        ),
        ("Norco, more words, Upheld, then rationale text", "Norco", "Upheld", ""),  # not a line
        ("Norco, more: Upheld", "Norco", None, ""),  # no outcome stated
        ("Other item, more: Upheld", "Norco", "Upheld", ""),
    ],
)
def test_item_line(text: str, asked: str, outcome: str | None, expected: str) -> None:
    d = Decision(1, asked, outcome, None)
    assert item_line(text, d) == expected


def _record() -> Determination:
    decisions = (
        _decision(1, "Norco 10/325 #60", "Opioids need <b>documented</b> pain relief.", "norco"),
        _decision(2, "Zanaflex 4 mg", "Tizanidine helps spasm.\n\nSecond paragraph.", "tizanidine"),
    )
    decisions_text = (
        "The decisions follow:\n\n1 Norco 10/325 #60: Upheld\n\nOpioids need documented pain "
        "relief.\n\n2 Zanaflex 4 mg: Upheld\n\nTizanidine helps spasm."
    )
    return Determination(
        id="T1",
        source="t1.txt",
        sha256="0",
        layout="test",
        sections=(
            Section(SECTION_HOW_MADE, "How", "Made by a reviewer."),
            Section(SECTION_CASE_SUMMARY, "Summary", "Chronic low back pain <script>x</script>."),
            Section(SECTION_DECISIONS, "Decisions", decisions_text),
            Section("rationale", "Rationale", "Tizanidine helps spasm."),
        ),
        decisions=decisions,
    )


def test_reader_shows_each_decision_once() -> None:
    reader = build_reader(_record())
    keys = [s.key for s in reader.sections]
    assert keys == [SECTION_HOW_MADE, SECTION_CASE_SUMMARY, SECTION_DECISIONS]
    slot = reader.sections[2]
    assert slot.decisions and slot.paragraphs == ("The decisions follow:",)
    texts = " ".join(p for s in reader.sections for p in s.paragraphs)
    assert "Tizanidine" not in texts and "Norco" not in texts  # only in the decision items
    assert [d.anchor for d in reader.decisions] == ["decision-1", "decision-2"]
    assert reader.matched is None and reader.first_anchor is None and reader.marks == 0
    assert reader.decisions[0].rationale == (
        "Opioids need &lt;b&gt;documented&lt;/b&gt; pain relief.",
    )


def test_reader_marks_by_field_and_flags_matches() -> None:
    terms = {
        "request": Terms.of(["zanaflex"]),
        "rationale": Terms.of(["spasm"]),
        "summary": Terms.of(["low back"]),
    }
    reader = build_reader(_record(), terms, (2,))
    assert reader.matched == (2,) and reader.first_anchor == "decision-2"
    assert [d.matched for d in reader.decisions] == [False, True]
    assert reader.decisions[1].request == "<mark>Zanaflex</mark> 4 mg"
    assert reader.decisions[1].rationale[0] == "Tizanidine helps <mark>spasm</mark>."
    summary = reader.sections[1].paragraphs[0]
    assert summary == "Chronic <mark>low back</mark> pain &lt;script&gt;x&lt;/script&gt;."
    assert "<mark>" not in reader.sections[0].paragraphs[0]  # "other" field: no terms given
    assert reader.marks == 3


def test_reader_without_matching_decision() -> None:
    reader = build_reader(_record(), {"summary": Terms.of(["pain"])}, ())
    assert reader.matched == () and reader.first_anchor is None
    assert not any(d.matched for d in reader.decisions)


def test_reader_letter_without_decisions_keeps_its_text() -> None:
    record = Determination(
        id="T2",
        source="t2.txt",
        sha256="0",
        layout="test",
        sections=(Section(SECTION_DECISIONS, "Decisions", "Unreadable items."),),
    )
    reader = build_reader(record)
    assert reader.sections[0].paragraphs == ("Unreadable items.",)
    assert not reader.sections[0].decisions


@pytest.mark.parametrize(
    ("state", "anchor", "expected"),
    [
        (SearchState(), None, "/determinations/A1"),
        (SearchState(), "decision-2", "/determinations/A1#decision-2"),
        (SearchState(q="pain"), "decision-1", "/determinations/A1?q=pain#decision-1"),
        (
            SearchState(q="a&b", filters={"drug": ("x y",)}, page=2, sort="newest"),
            "decision-3",
            "/determinations/A1?q=a%26b&drug=x+y&sort=newest&page=2#decision-3",
        ),
        (SearchState(filters={"outcome": ("Upheld",)}), None, "/determinations/A1?outcome=Upheld"),
    ],
)
def test_reader_url(state: SearchState, anchor: str | None, expected: str) -> None:
    assert urls.reader_url("A1", state, anchor) == expected


def test_similar_url_keeps_the_search() -> None:
    state = SearchState(q="pain")
    assert (
        urls.similar_url("A1", True, False, state)
        == "/determinations/A1?q=pain&same_drug=1#similar"
    )


# --- the real app on a real index -----------------------------------------------------------


@pytest.fixture(scope="module")
def index_path() -> Path:
    return web_index_dir()


@pytest.fixture(scope="module")
def idx(index_path: Path) -> Iterator[SearchIndex]:
    index = SearchIndex.open(str(index_path))
    yield index
    index.close()


@pytest.fixture(scope="module")
def partial(idx: SearchIndex) -> tuple[str, str, int]:
    """(letter id, a drug of one of its later decisions, that ordinal): a filter matching part."""
    for hit in idx.search(SearchRequest(size=100)).results:
        record = idx.get(hit.id)
        assert record is not None
        drugs = [d.drug for d in record.decisions]
        for d in record.decisions[1:]:
            if d.drug and drugs.count(d.drug) == 1:
                return record.id, d.drug, d.ordinal
    pytest.fail("the test index has no letter with a distinct drug after its first decision")


def body(response: Any) -> str:
    text: str = response.get_data(as_text=True)
    return text


def test_result_cards_link_into_the_reader(
    web_client: FlaskClient, partial: tuple[str, str, int]
) -> None:
    det_id, drug, ordinal = partial
    query = urlencode({"q": "", "drug": drug})
    html = body(web_client.get(f"/search?{query}"))
    reader = urls.reader_url(det_id, SearchState(filters={"drug": (drug,)}), f"decision-{ordinal}")
    assert f'href="{reader.replace("&", "&amp;")}"' in html
    cards = html.split('<li class="hit">')[1:]
    card = next(c for c in cards if f"/determinations/{det_id}?" in c)
    assert re.search(r"1 of \d+ decisions match", card)
    assert '<details class="other-decisions">' in card


def test_reader_page_marks_and_matches(
    web_client: FlaskClient, idx: SearchIndex, partial: tuple[str, str, int]
) -> None:
    det_id, drug, ordinal = partial
    record = idx.get(det_id)
    assert record is not None
    word = next(
        w for w in re.findall(r"[a-z]{5,}", record.decisions[ordinal - 1].rationale.lower())
    )
    state = SearchState(q=word, filters={"drug": (drug,)}, page=1)
    response = web_client.get(urls.reader_url(det_id, state))
    assert response.status_code == 200
    html = body(response)
    back = urls.state_url(state).replace("&", "&amp;")
    assert f'class="back-link" href="{back}"' in html
    assert "<mark>" in html
    assert f'class="decision-card is-match" id="decision-{ordinal}"' in html
    assert html.count('class="decision-card is-match"') == 1  # the drug filter scopes to one
    # each decision appears once: a run of its rationale's words is on the page one time
    plain = re.sub(r"</?mark>", "", html)
    for d in record.decisions:
        assert html.count(f'id="decision-{d.ordinal}"') == 1
        run = re.search(r"[A-Za-z][A-Za-z ]{30,}", " ".join(d.rationale.split()))
        if run:
            assert plain.count(run.group()) == 1, run.group()


def test_reader_json_twin(
    web_client: FlaskClient, idx: SearchIndex, partial: tuple[str, str, int]
) -> None:
    det_id, drug, ordinal = partial
    data = web_client.get(f"/api/determinations/{det_id}?{urlencode({'drug': drug})}").get_json()
    assert data["id"] == det_id
    assert data["search"]["matching_decisions"] == [ordinal]
    assert data["search"]["first_match"] == f"decision-{ordinal}"
    assert (data["search"]["scope"], data["search"]["literal"]) == ("auto", False)
    assert data["search"]["results_url"] == f"/search?{urlencode({'drug': drug})}"
    expected = idx.matching_ordinals(det_id, SearchRequest(filters={"drug": (drug,)}))
    assert tuple(data["search"]["matching_decisions"]) == expected
    plain = web_client.get(f"/api/determinations/{det_id}").get_json()
    assert "search" not in plain


@pytest.mark.parametrize(
    "params",
    [
        {"q": "pain"},
        {"q": "tizanidine"},
        {"q": "tizanidine overturned"},  # words read as filters
        {"q": "tizanidine pain", "literal": "1"},
        {"q": "pain", "outcome": "Upheld"},
        {"q": "pain", "scope": "letter"},
        {"q": "mri OR therapy", "sort": "newest"},
    ],
)
def test_reader_matches_what_the_search_matched(
    web_client: FlaskClient, params: dict[str, str]
) -> None:
    """For every hit, the reader flags exactly the decisions the search listed."""
    query = urlencode(params)
    results = web_client.get(f"/api/search?{query}").get_json()["results"]
    assert results
    for hit in results:
        data = web_client.get(f"/api/determinations/{hit['id']}?{query}").get_json()
        expected = sorted(d["ordinal"] for d in hit["decisions"])
        assert data["search"]["matching_decisions"] == expected, hit["id"]
        html = body(web_client.get(f"/determinations/{hit['id']}?{query}"))
        assert html.count('class="decision-card is-match"') == len(expected)


def test_reader_query_is_escaped_and_bad_query_still_reads(
    web_client: FlaskClient, partial: tuple[str, str, int]
) -> None:
    det_id = partial[0]
    html = body(
        web_client.get(f"/determinations/{det_id}?{urlencode({'q': '<script>x</script>'})}")
    )
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    response = web_client.get(f"/determinations/{det_id}?{urlencode({'q': 'pain AND'})}")
    assert response.status_code == 200
    assert 'class="back-link"' in body(response)
    assert web_client.get(f"/determinations/{det_id}?page=0").status_code == 400


REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters" / "text"
# Words the page shows as labels of a decision card, and the outcomes (see decision_card).
CARD_LABELS = frozenset(
    {"outcome", "upheld", "overturned", "claims", "administrator"}
    | {"guideline", "maximus", "decision", "rationale"}
)


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real letters are not here ({REAL})")
def test_real_letters_lose_no_decision_text() -> None:
    """Every word of a real letter's decisions sections is on the reader page, once placed."""
    from search.parse import parse_text
    from web.reader import DECISION_SECTIONS

    letters = sorted(REAL.glob("*.txt"))
    assert letters
    for path in letters:
        record = parse_text(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
        reader = build_reader(record)
        if not record.decisions:
            continue
        original = " ".join(s.text for s in record.sections if s.key in DECISION_SECTIONS)
        shown = [p for s in reader.sections if s.decisions for p in s.paragraphs]
        for d in reader.decisions:
            shown += [d.request, *d.rationale, d.item_line]
            shown += [d.claims_administrator_guideline, d.maximus_guideline]
        words = set(re.findall(r"[a-z]+", " ".join(shown).lower())) | CARD_LABELS
        missing = [w for w in re.findall(r"[a-z]+", original.lower()) if w not in words]
        assert not missing, (path.name, missing[:20])
