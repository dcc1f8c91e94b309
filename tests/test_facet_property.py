"""Property: a facet value's count is what its filter returns, for every value, under
generated queries, scopes and filters, on a real index of sample and generated letters."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.engine.searcher import SearchIndex
from search.fields import FACETS, SCOPES
from search.results import SearchRequest, SearchResponse

QUERIES = (
    "",
    "pain",
    "chronic",
    "tizanidine",
    "knee OR shoulder",
    "medically NOT lumbar",
    "opioid*",
)
VALUES_CHECKED = 6  # values per facet checked for each generated request


@pytest.fixture(scope="module")
def all_values(search_index: SearchIndex) -> dict[str, list[str]]:
    """Every facet's values over the whole index."""
    facets = search_index.search(SearchRequest(size=1)).facets
    return {f: list(facets[f]) for f in FACETS if facets[f]}


def alone(request: SearchRequest, facet: str, value: str) -> SearchRequest:
    """The request with the facet's filter replaced by this one value, first page."""
    filters = {**request.filters, facet: (value,)}
    return SearchRequest(q=request.q, filters=filters, scope=request.scope, literal=True, size=1)


def check_counts(index: SearchIndex, request: SearchRequest, resp: SearchResponse) -> None:
    for facet, counts in resp.facets.items():
        for value, count in list(counts.items())[:VALUES_CHECKED]:
            got = index.search(alone(request, facet, value)).total_decisions
            assert got == count, (facet, value, request)


@st.composite
def requests(draw: st.DrawFn, values: Mapping[str, list[str]]) -> SearchRequest:
    q = draw(st.sampled_from(QUERIES))
    scope = draw(st.sampled_from(SCOPES))
    facets = draw(st.lists(st.sampled_from(sorted(values)), max_size=3, unique=True))
    filters = {
        f: tuple(draw(st.lists(st.sampled_from(values[f]), min_size=1, max_size=2, unique=True)))
        for f in facets
    }
    return SearchRequest(q=q, filters=filters, scope=scope, literal=True, size=1)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_facet_count_equals_filter_count(
    search_index: SearchIndex, all_values: dict[str, list[str]]
) -> None:
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(requests(all_values))
    def run(request: SearchRequest) -> None:
        resp = search_index.search(request)
        check_counts(search_index, request, resp)

    run()


def test_every_value_without_filters(
    search_index: SearchIndex, all_values: dict[str, list[str]]
) -> None:
    """On the whole index, every value of every facet (ingredient included)."""
    request = SearchRequest(size=1, literal=True)
    resp = search_index.search(request)
    for facet, counts in resp.facets.items():
        for value, count in counts.items():
            assert search_index.search(alone(request, facet, value)).total_decisions == count


def test_ingredient_widens_drug(search_index: SearchIndex) -> None:
    """oxycodone as a drug: the plain generic; as an ingredient: combinations too."""
    facets = search_index.search(SearchRequest(size=1)).facets
    combos = [d for d in facets["drug"] if "/" in d]
    assert combos
    first = combos[0].split("/")[0]
    drug = search_index.search(SearchRequest(filters={"drug": (first,)}, size=1))
    ingredient = search_index.search(SearchRequest(filters={"ingredient": (first,)}, size=1))
    with_first = sum(n for d, n in facets["drug"].items() if first in d.split("/"))
    assert ingredient.total_decisions == with_first == facets["ingredient"][first]
    assert drug.total_decisions == facets["drug"].get(first, 0) < ingredient.total_decisions


FACET_HTML = re.compile(
    r'<section class="facet" aria-labelledby="facet-(\w+)">(.*?)</section>', re.S
)
OPTION_HTML = re.compile(
    r'<span class="facet-value">(.*?)</span>\s*<span class="facet-count">(\d+)</span>', re.S
)


def html_facets(page: str) -> dict[str, dict[str, int]]:
    """Facet counts as the search page lists them (values with a count)."""
    out: dict[str, dict[str, int]] = {}
    for facet, body in FACET_HTML.findall(page):
        pairs = OPTION_HTML.findall(body)
        values = {html.unescape(v).replace("\u200b", ""): int(n) for v, n in pairs}
        out[facet] = {v: n for v, n in values.items() if n}
    return out


@pytest.mark.parametrize(
    ("q", "pairs"),
    [
        ("tizanidine overturned for chronic low back pain", []),
        ("pain", [("outcome", "Upheld")]),
        ("", [("outcome", "Upheld"), ("outcome", "Overturned"), ("guideline", "MTUS")]),
        ("chronic", [("drug", "tizanidine"), ("outcome", "Overturned")]),
    ],
)
def test_same_counts_html_json_cli(
    built_index: Path, capsys: pytest.CaptureFixture[str], q: str, pairs: list[tuple[str, str]]
) -> None:
    from search.cli import main
    from web.app import create_app

    client = create_app({"INDEX_PATH": str(built_index)}).test_client()
    query = urlencode([("q", q), *pairs])
    api = client.get(f"/api/search?{query}").get_json()["facets"]
    page = client.get(f"/search?{query}").get_data(as_text=True)
    filters = [x for f, v in pairs for x in ("--filter", f"{f}={v}")]
    assert main(["search", q, "--index", str(built_index), "--json", *filters]) == 0
    cli = json.loads(capsys.readouterr().out)["facets"]
    assert api == cli
    assert html_facets(page) == {f: v for f, v in api.items() if v}


@pytest.mark.parametrize(
    "q", ["tizanidine overturned for chronic low back pain", "Norco denied", "acupuncture upheld"]
)
def test_counts_under_words_read_as_filters(search_index: SearchIndex, q: str) -> None:
    """With words read as filters, every other facet's value count is what ticking it returns;
    a read facet's value count is what the query returns with its words replaced by it."""
    resp = search_index.search(SearchRequest(q=q, size=1))
    assert resp.interpreted is not None
    chips = {c.facet: c for c in resp.interpreted.chips}
    for facet, counts in resp.facets.items():
        for value, count in counts.items():
            if facet in chips:
                request = SearchRequest(q=chips[facet].without, filters={facet: (value,)}, size=1)
            else:
                request = SearchRequest(q=q, filters={facet: (value,)}, size=1)
            assert search_index.search(request).total_decisions == count, (facet, value)


def test_a_filter_of_several_values_is_the_union_of_each_ones(
    search_index: SearchIndex, all_values: dict[str, list[str]]
) -> None:
    """Per segment, the mask of a filter on values (a, b) is a's mask or b's, for single and
    multi facets (a multi facet's filter picks every combination holding a or b)."""
    checked = 0
    for facet, values in all_values.items():
        pairs = list(zip(values[::2], values[1::2], strict=False))[:8]
        for a, b in pairs:
            for leaf in search_index._current().leaves:
                both = search_index._filter_mask(leaf, facet, (a.casefold(), b.casefold()))
                one = search_index._filter_mask(leaf, facet, (a.casefold(),))
                other = search_index._filter_mask(leaf, facet, (b.casefold(),))
                assert (both == (one | other)).all(), (facet, a, b)
                checked += int(one.any() and other.any())
    assert checked > 20
