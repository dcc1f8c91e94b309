"""Long facet lists: the search box (no-JS facet page), the open filter panel, the skip link."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from web import facetpage, views
from web.facetpage import matching_values


def test_matching_values() -> None:
    values = [("tizanidine", 5), ("Oxycodone/acetaminophen", 3), ("codeine", 1)]
    assert matching_values(values, "CODONE") == [("Oxycodone/acetaminophen", 3)]
    assert matching_values(values, "o a") == [("Oxycodone/acetaminophen", 3)]
    assert matching_values(values, "") == values
    assert matching_values(values, "zzz") == []


def test_long_facet_lists_get_a_search_box_that_keeps_the_search(web_client: FlaskClient) -> None:
    html = web_client.get("/search?" + urlencode({"q": "pain", "outcome": "Upheld"})).get_data(
        as_text=True
    )
    form = re.search(r'<form class="facet-search" action="/facets/drug".*?</form>', html, re.S)
    assert form is not None
    assert 'name="q" value="pain"' in form.group(0)
    assert 'name="outcome" value="Upheld"' in form.group(0)
    assert 'name="fq"' in form.group(0)
    assert 'action="/facets/outcome"' not in html  # short lists need no box


def test_facet_page_lists_matching_values_with_toggle_links(web_client: FlaskClient) -> None:
    all_drugs = web_client.get("/api/search?q=pain").get_json()["facets"]["drug"]
    page = web_client.get("/facets/drug?" + urlencode({"q": "pain", "fq": "done"}))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    expected = sorted(v for v in all_drugs if "done" in v.casefold())
    assert expected
    shown = re.findall(r'<span class="facet-value">([^<]*)</span>', html)
    assert sorted(v.replace("/\u200b", "/") for v in shown) == expected
    link = re.search(r'href="(/search\?[^"]*)"[^>]*>\s*<span class="check"', html)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert target.startswith("/search?q=pain&drug=") and target.endswith("#filters")
    assert "Back to the results" in html and 'value="done"' in html


def test_facet_page_errors(web_client: FlaskClient) -> None:
    assert web_client.get("/facets/nonsense").status_code == 404
    assert web_client.get("/facets/drug?q=(((").status_code == 400
    assert web_client.get("/facets/drug?" + urlencode({"fq": "x" * 201})).status_code == 400
    page = web_client.get("/facets/drug?fq=zzzzqqq").get_data(as_text=True)
    assert "No drug value matches" in page


def test_filter_panel_open_while_filtering_and_skip_link(web_client: FlaskClient) -> None:
    closed = web_client.get("/search?q=pain").get_data(as_text=True)
    assert re.search(r'<details class="filters" id="filters">', closed)
    ticked = web_client.get("/search?q=pain&outcome=Upheld").get_data(as_text=True)
    assert re.search(r'<details class="filters" id="filters" open>', ticked)
    assert closed.index('href="#hits"') < closed.index('href="#main"')
    assert 'id="hits" tabindex="-1"' in closed


def test_a_long_facet_lists_its_most_frequent_values_and_links_to_all(
    web_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A facet with more values than the page lists shows the most frequent ones (chosen
    values first) and a link to its own page, which has every value; a short one, all."""
    monkeypatch.setattr(views, "FACET_VISIBLE", 2)
    monkeypatch.setattr(views, "FACET_LISTED", 4)
    counts = web_client.get("/api/search?q=pain").get_json()["facets"]
    drugs = sorted(counts["drug"].items(), key=lambda kv: (-kv[1], kv[0].lower()))
    assert len(drugs) > 4 and len(counts["outcome"]) <= 4
    chosen = drugs[-1][0]  # the least frequent: listed first all the same
    html = web_client.get("/search?" + urlencode({"q": "pain", "drug": chosen})).get_data(
        as_text=True
    )
    section = re.search(
        r'<section class="facet" aria-labelledby="facet-drug".*?</section>', html, re.S
    )
    assert section is not None and "data-facet-truncated" in section.group(0)
    listed = [
        v.replace("\u200b", "")
        for v in re.findall(r'class="facet-value">([^<]*)<', section.group(0))
    ]
    assert len(listed) == 4 and listed[0] == chosen
    link = re.search(
        r'<p class="facet-all"><a href="([^"]+)">All (\d+) drug values</a>', section.group(0)
    )
    assert link is not None
    page = web_client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    everything = re.findall(r'class="facet-value">([^<]*)<', page)
    assert len(everything) == int(link.group(2)) > 4
    outcome = re.search(r'aria-labelledby="facet-outcome".*?</section>', html, re.S)
    assert outcome is not None
    assert "data-facet-truncated" not in outcome.group(0) and "facet-all" not in outcome.group(0)


def test_the_facet_page_lists_the_most_frequent_values_and_says_how_many_match(
    web_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A facet page lists at most PAGE_VALUES values, those with the most decisions, and
    says how many there are; a search box narrows to the others."""
    monkeypatch.setattr(facetpage, "PAGE_VALUES", 3)
    counts = web_client.get("/api/search?q=pain").get_json()["facets"]["drug"]
    html = web_client.get("/facets/drug?q=pain").get_data(as_text=True)
    shown = [v.replace("\u200b", "") for v in re.findall(r'class="facet-value">([^<]*)<', html)]
    assert len(shown) == 3 and len(counts) > 3
    assert [counts[v] for v in shown] == sorted(counts.values(), reverse=True)[:3]
    assert f"{len(counts)} of {len(counts)} drug values" in html
    assert "the 3 with the most decisions are listed" in html
    rare = min(counts, key=lambda v: (counts[v], v))
    narrowed = web_client.get("/facets/drug?" + urlencode({"q": "pain", "fq": rare}))
    assert rare in narrowed.get_data(as_text=True).replace("\u200b", "")


def test_facet_search_boxes_read_find_a_or_an(web_client: FlaskClient) -> None:
    html = web_client.get("/search?q=pain").get_data(as_text=True)
    found = re.findall(r'placeholder="Find (an?) ([^"]*)…"', html)
    assert found
    for article, label in found:
        assert article == ("an" if label[0] in "aeiou" else "a"), label


def test_the_json_search_lists_facet_size_values_and_says_how_many_there_are(
    web_client: FlaskClient,
) -> None:
    """/api/search?facet_size=N keeps each facet's N values with the most decisions (a
    selected one besides), and facet_values_total counts them all."""
    every = web_client.get("/api/search?q=pain&facet_size=all").get_json()
    drugs = every["facets"]["drug"]
    assert len(drugs) > 3 and every["facet_values_total"]["drug"] == len(drugs)
    cut = web_client.get("/api/search?q=pain&facet_size=3").get_json()
    assert cut["facet_values_total"] == every["facet_values_total"]
    assert (
        sorted(cut["facets"]["drug"].values(), reverse=True)
        == sorted(drugs.values(), reverse=True)[:3]
    )
    assert all(len(values) <= 3 for values in cut["facets"].values())
    rare = min(drugs, key=lambda v: (drugs[v], v))
    chosen = web_client.get(
        "/api/search?" + urlencode({"q": "pain", "drug": rare, "facet_size": 0})
    )
    assert chosen.get_json()["facets"]["drug"] == {rare: drugs[rare]}
    assert web_client.get("/api/search?q=pain").get_json()["facets"] == every["facets"]  # < 100
    for bad in ("-1", "x", "10001", "1.5"):
        response = web_client.get(f"/api/search?q=pain&facet_size={bad}")
        assert response.status_code == 400 and "facet_size" in response.get_json()["error"]


def test_the_facet_page_has_a_json_twin(web_client: FlaskClient) -> None:
    """/api/facets/<name> gives the facet page's values, counts and selection, all of them."""
    query = {"q": "pain", "fq": "done", "drug": "hydrocodone/acetaminophen"}
    body = web_client.get("/api/facets/drug?" + urlencode(query)).get_json()
    html = web_client.get("/facets/drug?" + urlencode(query)).get_data(as_text=True)
    shown = [v.replace("\u200b", "") for v in re.findall(r'class="facet-value">([^<]*)<', html)]
    assert [v["value"] for v in body["values"]] == shown and body["matching_values"] == len(shown)
    assert body["total_values"] >= len(shown) and body["fq"] == "done"
    assert [v["value"] for v in body["values"] if v["selected"]] == ["hydrocodone/acetaminophen"]
    assert 'href="/api/facets/drug?' in html
    missing = web_client.get("/api/facets/nonsense")
    assert (
        missing.status_code == 404 and "no filter called 'nonsense'" in missing.get_json()["error"]
    )
    assert web_client.get("/api/facets/drug?q=(((").status_code == 400
    assert web_client.get("/api/facets/drug?nope=1").status_code == 400


@pytest.mark.parametrize(
    ("size", "selected", "kept"),
    [
        (None, (), ["b", "a", "c", "d"]),
        (9, (), ["b", "a", "c", "d"]),
        (2, (), ["b", "a"]),  # a and c tie: the engine's order decides
        (1, ("d",), ["b", "d"]),  # a selected value stays, in its place
        (0, (), []),
    ],
)
def test_top_counts(size: int | None, selected: tuple[str, ...], kept: list[str]) -> None:
    from web.api import top_counts

    counts = {"b": 9, "a": 4, "c": 4, "d": 1}  # as the engine orders them
    assert list(top_counts(counts, selected, size)) == kept
