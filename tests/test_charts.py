"""Charts that tell the truth about small numbers: Wilson intervals, small values, the trend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from test_web_support import web_index_dir

from search.engine.searcher import SearchIndex
from search.results import SearchRequest
from web.charts import (
    MIN_COUNT,
    TREND_H,
    TREND_LEFT,
    TREND_TOP,
    TREND_W,
    Bar,
    build_chart,
    build_trend,
    build_view,
    make_bar,
    wilson,
)

# --- pure ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (score interval)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # symmetric and extreme cases
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (0, 10, 0.0, 0.2775),
        (1, 1, 0.2065, 1.0),
        (0, 0, 0.0, 1.0),  # no data: anything is possible
    ],
)
def test_wilson(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)
    assert 0.0 <= lo <= hi <= 1.0


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_refuses_impossible_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(k, n)


def test_wilson_contains_the_rate() -> None:
    for n in range(1, 60):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert lo <= k / n <= hi


def test_wilson_narrows_with_more_data() -> None:
    widths = [wilson(n // 4, n)[1] - wilson(n // 4, n)[0] for n in (4, 40, 400, 4000)]
    assert widths == sorted(widths, reverse=True)


def test_bar_numbers_and_text() -> None:
    bar = make_bar("tizanidine", 8, 2)
    assert bar.small and (bar.upheld, bar.percent, bar.percent_range) == (6, "25%", "7–59%")
    assert (bar.low_x, bar.high_x) == ("7.15", "59.07")
    assert bar.summary == (
        "tizanidine: 2 of 8 overturned (25%, 95% interval 7–59%), too few decisions to compare"
    )
    assert bar.to_json() == {
        "value": "tizanidine",
        "total": 8,
        "overturned": 2,
        "upheld": 6,
        "rate": 0.25,
        "low": 0.0715,
        "high": 0.5907,
        "small": True,
    }
    assert not make_bar("x", MIN_COUNT, 0).small and make_bar("x", MIN_COUNT - 1, 0).small
    assert make_bar("x", 3, 99).overturned == 3 and make_bar("x", 3, -1).overturned == 0


def test_small_values_are_listed_after_the_rest() -> None:
    totals = {"a": 4, "b": 30, "c": 12, "d": 2, "e": 0}
    chart = build_chart("drug", totals, {"a": 4, "b": 3, "c": 6}, min_count=10)
    assert [(b.value, b.small) for b in chart.bars] == [
        ("b", False),
        ("c", False),
        ("a", True),
        ("d", True),
    ]
    years = build_chart("year", {"2013": 3, "2014": 20, "2015": 11, "2016": 1}, {}, min_count=10)
    assert [b.value for b in years.bars] == ["2014", "2015", "2013", "2016"]
    limited = build_chart("drug", totals, {}, max_bars=2, min_count=10)
    assert [b.value for b in limited.bars] == ["b", "c"] and limited.omitted == 2


def test_trend_geometry() -> None:
    trend = build_trend({"2015": 20, "2013": 10, "2014": 3, "x": 5}, {"2015": 5, "2013": 10})
    assert [p.bar.value for p in trend.points] == ["2013", "2014", "2015"]
    xs = [p.x for p in trend.points]
    assert TREND_LEFT < xs[0] < xs[1] < xs[2] < TREND_W
    full, empty = trend.points[0], trend.points[1]
    assert full.y == TREND_TOP  # 100% at the top
    assert empty.y == pytest.approx(TREND_H - 22)  # 0% at the bottom of the plot
    for p in trend.points:
        assert p.y_high <= p.y <= p.y_low
    assert empty.bar.small and "2014" not in trend.polyline.split(" ")
    assert trend.polyline.count(",") == 2  # the line joins only years with enough decisions
    assert trend.summary.startswith("Overturn rate by year from 2013 to 2015: 2013: 10 of 10")
    assert build_trend({}, {}).points == () and build_trend({}, {}).summary == "No year to show."


def test_view_json() -> None:
    totals = {"outcome": {"Upheld": 15, "Overturned": 5}, "year": {"2014": 20}, "drug": {"a": 20}}
    over = {"outcome": {"Overturned": 5}, "year": {"2014": 5}, "drug": {"a": 5}}
    data = build_view(totals, over, "Overturned").to_json()
    assert data["overall"]["total"] == 20 and data["overall"]["overturned"] == 5
    assert data["min_count"] == MIN_COUNT and data["interval"].startswith("95% Wilson")
    assert [b["value"] for b in data["trend"]] == ["2014"]
    assert [c["facet"] for c in data["charts"]] == ["drug", "year"]


# --- the real app on a real index -----------------------------------------------------------


@pytest.fixture(scope="module")
def index_path() -> Path:
    return web_index_dir()


@pytest.fixture(scope="module")
def idx(index_path: Path) -> Any:
    index = SearchIndex.open(str(index_path))
    yield index
    index.close()


def test_api_charts_counts_match_the_engine(web_client: FlaskClient, idx: SearchIndex) -> None:
    data = web_client.get("/api/charts").get_json()
    everything = idx.search(SearchRequest(size=1)).facets
    over = idx.search(SearchRequest(size=1, filters={"outcome": ("Overturned",)})).facets
    assert data["overall"]["overturned"] == everything["outcome"]["Overturned"]
    for chart in data["charts"]:
        smalls = [b["small"] for b in chart["bars"]]
        assert smalls == sorted(smalls)  # small values after the rest
        for bar in chart["bars"]:
            assert bar["total"] == everything[chart["facet"]][bar["value"]]
            assert bar["overturned"] == over.get(chart["facet"], {}).get(bar["value"], 0)
            low, high = wilson(bar["overturned"], bar["total"])
            assert (bar["low"], bar["high"]) == (round(low, 4), round(high, 4))
            assert bar["small"] == (bar["total"] < data["min_count"])
    years = [b["value"] for b in data["trend"]]
    assert years == sorted(everything["year"]) and len(years) >= 2


def test_charts_page_shows_counts_intervals_and_trend(web_client: FlaskClient) -> None:
    html = web_client.get("/charts").get_data(as_text=True)
    data = web_client.get("/api/charts").get_json()
    assert 'id="chart-trend"' in html and '<svg class="trend"' in html
    assert '<title id="trend-t">' in html and '<desc id="trend-d">Overturn rate by year' in html
    for chart in data["charts"]:
        for bar in chart["bars"]:
            b = Bar(bar["value"], bar["total"], bar["overturned"], bar["small"])
            assert f"{b.percent_range}</span>" in html
            assert f"{b.overturned} of {b.total} overturned ({b.percent}; 95% interval" in html
    smalls = sum(b["small"] for c in data["charts"] for b in c["bars"])
    assert len(re.findall(r'<tr class="is-small[ "]', html)) >= smalls > 0
    assert 'href="/api/charts"' in html


def test_charts_follow_the_query_and_ignore_outcome(
    web_client: FlaskClient, idx: SearchIndex
) -> None:
    params = {"q": "pain", "outcome": "Upheld"}
    data = web_client.get("/api/charts?" + urlencode(params)).get_json()
    assert data["query"] == "pain" and data["outcome_filter_ignored"] is True
    assert data["filters"] == {}
    facets = idx.search(SearchRequest(q="pain", size=1)).facets
    assert data["overall"]["total"] == sum(facets["outcome"].values())
    assert sum(b["total"] for b in data["trend"]) == sum(facets["year"].values())
    html = web_client.get("/charts?" + urlencode(params)).get_data(as_text=True)
    assert 'href="/api/charts?q=pain&amp;outcome=Upheld"' in html
    drug = next(iter(idx.search(SearchRequest(q="pain", size=1)).facets["drug"]))
    marked = web_client.get("/charts?" + urlencode({"q": "pain", "drug": drug})).get_data(
        as_text=True
    )
    assert re.search(r'<tr class="(is-small )?is-active">', marked)  # the filtered value
    assert re.search(r"Overturn rates for <q>pain</q>", html)


def test_api_charts_errors_are_json(web_client: FlaskClient) -> None:
    response = web_client.get("/api/charts?" + urlencode({"q": '"unclosed AND'}))
    assert response.status_code in (200, 400)  # the query language closes quotes itself
    bad = web_client.get("/api/charts?page=0")
    assert bad.status_code == 400 and "page" in bad.get_json()["error"]
    typo = web_client.get("/api/charts?qq=pain")
    assert typo.status_code == 400 and "qq" in typo.get_json()["error"]
    broken = web_client.get("/api/charts?" + urlencode({"q": "pain AND"}))
    assert broken.status_code == 400 and "error" in broken.get_json()
