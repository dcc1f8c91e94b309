"""build_query: the query language, its limits and its error messages (table-driven)."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.fields import MAX_QUERY_LENGTH
from search.query import MAX_CLAUSES, MAX_DEPTH, ParsedQuery, build_query
from search.results import QueryError

SYN = {"zanaflex": ("tizanidine", "zanaflex"), "tizanidine": ("tizanidine", "zanaflex")}


def terms(q: wq.Query) -> set[tuple[str, str]]:
    """(field, text) of every Term in a query."""
    out: set[tuple[str, str]] = set()
    for t in q.all_terms():
        text = t[1].decode() if isinstance(t[1], bytes) else t[1]
        out.add((t[0], text))
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tizanidine", {("request", "tizanidine"), ("rationale", "tizanidine")}),
        ("TIZANIDINE", {("summary", "tizanidine")}),
        ("rationale:norco", {("rationale", "norco")}),
        ("drug:Tizanidine", {("f_drug", "tizanidine")}),
        ("outcome:UPHELD", {("f_outcome", "upheld")}),
        ('state:"New York"', {("f_state", "new york")}),
        ('"low back pain"', {("rationale_2", "low back"), ("rationale_2", "back pain")}),
        ('summary:"back pain"', {("summary_2", "back pain")}),
        ("non-opioid", {("rationale_2", "non opioid"), ("rationale", "nonopioid")}),
        ("year:[2013 TO 2015]", {("f_year", "2013"), ("f_year", "2014"), ("f_year", "2015")}),
        ("(a OR b) AND c", {("request", "a"), ("request", "b"), ("request", "c")}),
        # control characters separate words; a stray "[" is punctuation, not a range
        ("pain\x07[", {("request", "pain")}),
        ("\x01[back", {("request", "back")}),
        ("a\x00b", {("request", "a"), ("request", "b")}),
    ],
)
def test_terms(text: str, expected: set[tuple[str, str]]) -> None:
    got = terms(build_query(text).query)
    assert expected <= got


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a b", wq.And),
        ("a AND b", wq.And),
        ("a OR b", wq.Or),
        ("a OR b c", wq.Or),  # AND binds tighter: a OR (b AND c)
        ("rationale:a -rationale:b", wq.And),
        ("NOT rationale:a", wq.And),  # everything except a
    ],
)
def test_structure(text: str, kind: type) -> None:
    assert isinstance(build_query(text).query, kind)


def test_and_binds_tighter_than_or() -> None:
    q = build_query("request:a OR request:b request:c").query
    assert isinstance(q, wq.Or)
    assert any(isinstance(sub, wq.And) for sub in q.subqueries)


def test_not_excludes() -> None:
    q = build_query("rationale:a NOT rationale:b").query
    assert isinstance(q, wq.And)
    assert any(isinstance(sub, wq.Not) for sub in q.subqueries)


def test_lowercase_operators_are_words() -> None:
    q = build_query("request:and request:or")
    assert ("request", "and") in terms(q.query)


def test_empty_query_matches_everything() -> None:
    p = build_query("   ")
    assert p.empty and isinstance(p.query, wq.Every)


def test_synonyms_both_ways() -> None:
    for word in ("zanaflex", "tizanidine"):
        got = terms(build_query(f"rationale:{word}", synonyms=SYN).query)
        assert {("rationale", "tizanidine"), ("rationale", "zanaflex")} <= got


def test_prefix_is_kept_for_the_engine() -> None:
    q = build_query("rationale:tizan*").query
    assert isinstance(q, wq.Prefix) and q.text == "tizan"


def test_highlight_terms_and_words() -> None:
    p = build_query('tizanidine "low back" -norco')
    assert ("rationale", "tizanidine") in p.highlight
    assert ("rationale", "low back") in p.highlight
    assert not any(t == "norco" for _, t in p.highlight)  # negated: nothing to mark
    assert p.words == ("tizanidine",)


def test_filters_normalized() -> None:
    p = build_query("", {"Outcome": ["UPHELD", "overturned"], "drug": ["Zanaflex"]}, synonyms=SYN)
    assert p.filters["outcome"] == ("upheld", "overturned")
    assert "tizanidine" in p.filters["drug"]


def test_filters_use_normalizers() -> None:
    p = build_query("", {"state": ["CA"]}, normalizers={"state": lambda v: "California"})
    assert "california" in p.filters["state"]


def test_combined_query_has_filters() -> None:
    p = build_query("norco", {"outcome": ["Upheld"]})
    assert ("f_outcome", "upheld") in terms(p.combined)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a AND OR b", "AND"),
        ("AND a", "AND"),
        ("a OR", "OR"),
        ("OR", "OR"),
        ("a AND", "AND"),
        ("NOT", "NOT"),
        ("a NOT", "NOT"),
        ("a)", "Unmatched"),
        (")", "Unmatched"),
        ("()", "Empty"),
        ("*", "Wildcard"),
        ("*a*", "Wildcard"),
        ("*zanidine", "Wildcard"),
        ("ti*", "Wildcard"),
        ("t?zanidine", "Wildcard"),
        ("rationale:[a TO]", "Ranges"),
        ("rationale:[a TO z]", "Ranges"),
        ("\x01[a TO z]", "Ranges"),  # a whole range, named as one, after a control character
        ("year:[2015 TO]", "both ends"),
        ("year:[2015 TO 1900]", "range"),
        ("year:abc", "number"),
        ("foo:bar", "Unknown field"),
        ("a:b:c", "Unknown field"),
        ("rationale:", "value"),
        ("drug:tiz*", "Wildcards"),
        ("rationale:(summary:x)", "cannot"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "nested"),
        (" ".join(["w"] * (MAX_CLAUSES + 1)), "Too many"),
        (" OR ".join(["w"] * (MAX_CLAUSES + 1)), "Too many"),
        ("x" * (MAX_QUERY_LENGTH + 1), "too long"),
        ("x" * 500, "too long"),
    ],
)
def test_refused(text: str, message: str | None) -> None:
    with pytest.raises(QueryError) as err:
        build_query(text)
    if message:
        assert message.lower() in str(err.value).lower()
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


@pytest.mark.parametrize(
    "text",
    [
        '"unclosed phrase',  # closed at the end
        "(a OR b",  # closed at the end
        "((a)",
        'rationale:"x',
        "a & b",  # punctuation only words vanish
        "-",
        "a -",
        "+a",
        "10:30",
        "\x00\x01",
        "ünïcödé ÄÖÜ",
        "NOT NOT a",
    ],
)
def test_repaired(text: str) -> None:
    assert isinstance(build_query(text), ParsedQuery)


def test_unknown_filter() -> None:
    with pytest.raises(QueryError, match="Unknown filter"):
        build_query("", {"colour": ["red"]})


def test_too_many_filter_values() -> None:
    with pytest.raises(QueryError):
        build_query("", {"drug": [f"d{i}" for i in range(1000)]})


HOSTILE = [
    "*",
    "*a*",
    "rationale:[a TO]",
    "x" * 40_000,
    "a" * 999,
    "(" * 2000 + "a" + ")" * 2000,
    " OR ".join(f"w{i}" for i in range(20_000)),
    '"' * 1000,
    "NOT " * 300,
    "a AND " * 200 + "b",
    ":" * 900,
    "[" * 900,
    "-" * 900,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: f"{t[:12]!r}x{len(t)}")
def test_hostile_fast_and_friendly(text: str) -> None:
    started = time.monotonic()
    with contextlib.suppress(QueryError):
        build_query(text)
    assert time.monotonic() - started < 0.5


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_only_query_errors(text: str) -> None:
    with contextlib.suppress(QueryError):
        build_query(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["a", "b", "AND", "OR", "NOT", "(", ")", '"', "-", "x*", "drug:", "year:", "[", "]"]
        ),
        max_size=30,
    )
)
def test_fuzz_operator_soup(parts: list[str]) -> None:
    with contextlib.suppress(QueryError):
        build_query(" ".join(parts))
