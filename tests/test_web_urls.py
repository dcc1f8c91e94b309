"""Table tests of the pure URL and parameter helpers in web/urls.py."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from search.fields import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from web import urls
from web.urls import ParamError, SearchState, parse_params


def args(query: str) -> MultiDict[str, str]:
    """A query string as werkzeug's request.args."""
    return MultiDict(parse_qsl(query, keep_blank_values=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", SearchState()),
        ("q=tizanidine", SearchState(q="tizanidine")),
        ("q=++back+pain++", SearchState(q="back pain")),
        ("q=a%00b", SearchState(q="a b")),
        ("q=&q=second", SearchState(q="second")),
        ("drug=tizanidine", SearchState(filters={"drug": ("tizanidine",)})),
        (
            "drug=tizanidine&drug=baclofen&drug=tizanidine",
            SearchState(filters={"drug": ("tizanidine", "baclofen")}),
        ),
        (
            "outcome=Overturned&drug=tizanidine",
            SearchState(filters={"outcome": ("Overturned",), "drug": ("tizanidine",)}),
        ),
        ("drug=&state=", SearchState()),
        ("utm_source=mail&nonsense=1", SearchState()),  # unknown parameters are ignored
        ("sort=newest", SearchState(sort="newest")),
        ("sort=", SearchState()),
        ("page=3&size=50", SearchState(page=3, size=50)),
        ("page=+2+", SearchState(page=2)),
        (f"page={MAX_PAGE}&size={MAX_PAGE_SIZE}", SearchState(page=MAX_PAGE, size=MAX_PAGE_SIZE)),
        ("page=", SearchState()),
    ],
)
def test_parse_params(query: str, expected: SearchState) -> None:
    assert parse_params(args(query)) == expected


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("page=abc", "page"),
        ("page=\u0663", "page"),  # Arabic-Indic digit three: not ASCII
        (f"page={MAX_PAGE + 1}", "page"),
        ("page=99999999999999999999", "page"),
        ("size=0", "size"),
        (f"size={MAX_PAGE_SIZE + 1}", "size"),
        ("size=ten", "size"),
        ("sort=random", "sort"),
        ("q=" + "x" * (MAX_QUERY_LENGTH + 1), "q"),
        ("drug=" + "x" * 201, "drug"),
        ("&".join(f"state=s{i}" for i in range(51)), "state"),
    ],
)
def test_parse_params_errors_name_the_parameter(query: str, param: str) -> None:
    with pytest.raises(ParamError) as info:
        parse_params(args(query))
    assert info.value.param == param
    assert str(info.value).startswith(f"{param}: ")


def test_query_length_limit_is_inclusive() -> None:
    assert parse_params(args("q=" + "x" * MAX_QUERY_LENGTH)).q == "x" * MAX_QUERY_LENGTH


STATE = SearchState(q="low back", filters={"drug": ("tizanidine",)}, sort="newest", page=3)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (urls.state_url(SearchState()), "/search"),
        (urls.state_url(SearchState(q="a b")), "/search?q=a+b"),
        (urls.state_url(STATE), "/search?q=low+back&drug=tizanidine&sort=newest&page=3"),
        (urls.state_url(SearchState(size=50)), "/search?size=50"),
        (urls.state_url(SearchState(size=DEFAULT_PAGE_SIZE)), "/search"),
        (urls.state_url(STATE, "/charts"), "/charts?q=low+back&drug=tizanidine&sort=newest&page=3"),
        # toggling a facet on adds it and goes back to page 1
        (
            urls.toggle_url(STATE, "outcome", "Overturned"),
            "/search?q=low+back&outcome=Overturned&drug=tizanidine&sort=newest",
        ),
        (
            urls.toggle_url(STATE, "drug", "baclofen"),
            "/search?q=low+back&drug=tizanidine&drug=baclofen&sort=newest",
        ),
        # toggling a selected value removes it
        (urls.toggle_url(STATE, "drug", "tizanidine"), "/search?q=low+back&sort=newest"),
        (urls.remove_facet_url(STATE, "drug"), "/search?q=low+back&sort=newest"),
        (urls.clear_filters_url(STATE), "/search?q=low+back&sort=newest"),
        (urls.page_url(STATE, 1), "/search?q=low+back&drug=tizanidine&sort=newest"),
        (urls.page_url(STATE, 4), "/search?q=low+back&drug=tizanidine&sort=newest&page=4"),
        (urls.sort_url(STATE, "relevance"), "/search?q=low+back&drug=tizanidine"),
        (urls.query_url(STATE, "low bark"), "/search?q=low+bark&drug=tizanidine&sort=newest"),
        (urls.facet_url("state", "New York"), "/search?state=New+York"),
        (urls.facet_url("drug", "a&b=c#d"), "/search?drug=a%26b%3Dc%23d"),
        (urls.determination_url("CM13-0012345"), "/determinations/CM13-0012345"),
        (urls.determination_url("x.y_z", "decision-2"), "/determinations/x.y_z#decision-2"),
        (urls.similar_url("a1", False, False), "/determinations/a1#similar"),
        (
            urls.similar_url("a1", True, True),
            "/determinations/a1?same_drug=1&same_outcome=1#similar",
        ),
    ],
)
def test_urls(url: str, expected: str) -> None:
    assert url == expected


@pytest.mark.parametrize(
    "state",
    [
        SearchState(),
        STATE,
        SearchState(q='"quoted" <b>&amp;', filters={"specialty": ("Internal Medicine", "x&y")}),
        SearchState(filters={"year": ("2014", "2013"), "age": ("60 and over",)}, size=100),
    ],
)
def test_state_url_round_trips(state: SearchState) -> None:
    split = urlsplit(urls.state_url(state))
    assert parse_params(args(split.query)) == state


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("CM13-0012345", True),
        ("000_1c8ed2636274dfbf", True),
        ("a.b-c_d", True),
        ("x" * 100, True),
        ("x" * 101, False),
        ("", False),
        (".", False),
        ("..", False),
        ("../etc/passwd", False),
        ("a/b", False),
        ("a b", False),
        ("a%2Fb", False),
        ("é", False),
        ("a\x00", False),
        ("a\n", False),
    ],
)
def test_valid_id(value: str, ok: bool) -> None:
    assert urls.valid_id(value) is ok


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 10, [1, 2, 3, None, 10]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (10, 10, [1, None, 8, 9, 10]),
        (4, 10, [1, 2, 3, 4, 5, 6, None, 10]),
        (12, 10, [1, None, 10]),
    ],
)
def test_page_window(page: int, pages: int, expected: list[int | None]) -> None:
    assert urls.page_window(page, pages) == expected


def test_state_helpers() -> None:
    assert SearchState().is_browse
    assert not SearchState(q="x").is_browse
    assert not SearchState(filters={"drug": ("x",)}).is_browse
    assert STATE.is_active("drug", "tizanidine")
    assert not STATE.is_active("drug", "baclofen")
    assert SearchState(filters={"drug": ("a", "b"), "state": ("c",)}).active_count == 3
