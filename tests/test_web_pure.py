"""Unit tests of the web app's pure parts: CSV escaping, chart data, highlight sanitising."""

from __future__ import annotations

import csv
import io

import pytest

from search.model import Decision, Determination
from search.results import DecisionHit, Hit
from web.app import paragraphs, safe_highlight
from web.charts import Bar, build_chart, build_charts
from web.export import COLUMNS, csv_lines, csv_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tizanidine", "tizanidine"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (3, "3"),
    ],
)
def test_csv_safe(value: object, expected: str) -> None:
    assert csv_safe(value) == expected


def _hit(det_id: str, *decisions: DecisionHit) -> Hit:
    return Hit(
        id=det_id,
        url=f"/determinations/{det_id}",
        source=f"{det_id}.txt",
        score=1.0,
        decisions=decisions,
        case_number="CM13-0000001",
        date_assigned="2014-01-31",
        states=("California",),
        specialties=("Anesthesiology", "Pain Medicine"),
    )


def _record(det_id: str) -> Determination:
    return Determination(
        id=det_id,
        source="x.txt",
        sha256="0",
        layout="imr",
        decisions=(
            Decision(1, "Tizanidine 4mg", "Overturned", True, guideline_sources=("MTUS", "ODG")),
            Decision(2, "=cmd|' /C calc'!A0", "Upheld", False, maximus_guideline="ACOEM ch. 12"),
        ),
    )


def test_csv_lines_rows_escaping_and_cap() -> None:
    hits = [
        _hit(
            "a1",
            DecisionHit(1, "Tizanidine 4mg", "Overturned", "tizanidine"),
            DecisionHit(2, "=cmd|' /C calc'!A0", "Upheld", None),
        ),
        _hit("b2", DecisionHit(1, "@MRI", "Upheld", None)),
    ]
    text = "".join(csv_lines(hits, lambda i: _record(i) if i == "a1" else None, "http://h/"))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 4
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert first["url"] == "http://h/determinations/a1#decision-1"
    assert first["guideline"] == "MTUS; ODG"
    assert first["state"] == "California"
    assert first["specialty"] == "Anesthesiology; Pain Medicine"
    second = dict(zip(COLUMNS, rows[2], strict=True))
    assert second["request"] == "'=cmd|' /C calc'!A0"
    assert second["guideline"] == "ACOEM ch. 12"
    third = dict(zip(COLUMNS, rows[3], strict=True))
    assert third["request"] == "'@MRI"
    assert third["guideline"] == ""  # record missing: row still written
    capped = "".join(csv_lines(hits, _record, "http://h", max_rows=2))
    assert len(list(csv.reader(io.StringIO(capped.lstrip("\ufeff"))))) == 3


def test_bar_geometry() -> None:
    bar = Bar("tizanidine", 8, 2)
    assert (bar.upheld, bar.rate, bar.percent) == (6, 0.25, "25%")
    assert (bar.overturned_width, bar.upheld_width) == ("25.00", "75.00")
    assert bar.summary == "tizanidine: 2 of 8 overturned (25%, 95% interval 7–59%)"
    assert Bar("none", 0, 0).percent == "0%"


def test_build_chart_orders_clamps_and_limits() -> None:
    chart = build_chart("drug", {"a": 2, "b": 9, "c": 5, "d": 0}, {"b": 3, "c": 99, "x": 1}, 2)
    assert [(b.value, b.total, b.overturned) for b in chart.bars] == [("b", 9, 3), ("c", 5, 5)]
    assert chart.omitted == 1
    assert chart.title == "Overturn rate by drug"
    years = build_chart("year", {"2015": 1, "2013": 5, "2014": 2}, {}, 2)
    assert [b.value for b in years.bars] == ["2013", "2014"]
    ages = build_chart("age", {"60 and over": 1, "30-39": 4, "under 30": 2}, {})
    assert [b.value for b in ages.bars] == ["under 30", "30-39", "60 and over"]


def test_build_charts_skips_outcome_and_empty() -> None:
    totals = {"outcome": {"Upheld": 3}, "drug": {"a": 1}, "state": {}, "year": {"2014": 0}}
    charts = build_charts(totals, {"drug": {"a": 1}})
    assert [c.facet for c in charts] == ["drug"]


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        ("plain", "plain"),
        ("the <mark>tizanidine</mark> dose", "the <mark>tizanidine</mark> dose"),
        ("a &lt;b&gt; &amp; <mark>c</mark>", "a &lt;b&gt; &amp; <mark>c</mark>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<mark onclick=x>y</mark>", "&lt;mark onclick=x&gt;y"),
        ("</mark>a<mark>b<mark>c</mark></mark>", "a<mark>bc</mark>"),
        ("<mark>open", "<mark>open</mark>"),
        ('it\'s "quoted"', "it&#39;s &#34;quoted&#34;"),
    ],
)
def test_safe_highlight(passage: str, expected: str) -> None:
    assert str(safe_highlight(passage)) == expected


def test_paragraphs() -> None:
    assert paragraphs("one\nline\n\n two  \n \n\nthree") == ["one line", "two", "three"]
    assert paragraphs("") == []
