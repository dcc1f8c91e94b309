"""Pure chart data: overturn rates per facet value with counts and 95% Wilson intervals.

Small numbers are told as such: every rate carries its count and interval, and values with
fewer than MIN_COUNT decisions are flagged `small` (greyed) and listed after the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from search.fields import (
    AGE_BANDS,
    FACET_AGE,
    FACET_LABELS,
    FACET_OUTCOME,
    FACET_YEAR,
    FACETS,
    OUTCOMES,
)

MAX_BARS: Final = 15
BAR_WIDTH: Final = 100  # the SVG viewBox width of a full bar
MIN_COUNT: Final = 10  # fewer decisions than this: the rate is too uncertain to compare
Z95: Final = 1.959963984540054  # standard normal quantile of 0.975
INTERVAL: Final = "95% Wilson score interval"
# The trend's SVG viewBox and plot area (y grows downwards in SVG).
TREND_W: Final = 320
TREND_H: Final = 150
TREND_LEFT: Final = 34
TREND_RIGHT: Final = 10
TREND_TOP: Final = 8
TREND_BOTTOM: Final = 22


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials ((0, 1) when n is 0)."""
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # At k = 0 and k = n the bounds are exactly 0 and 1; rounding must not move them.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def _pct(x: float) -> str:
    """A share as a whole percentage ("42%")."""
    return f"{round(x * 100)}%"


@dataclass(frozen=True, slots=True)
class Bar:
    """One facet value: how many matched, how many of those were overturned, and if too few."""

    value: str
    total: int
    overturned: int
    small: bool = False  # fewer than the minimum count: greyed, listed last

    @property
    def upheld(self) -> int:
        """Matches not overturned."""
        return self.total - self.overturned

    @property
    def rate(self) -> float:
        """Share overturned, 0..1 (0 when there are no matches)."""
        return self.overturned / self.total if self.total else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% Wilson interval of the rate."""
        return wilson(self.overturned, self.total)

    @property
    def percent(self) -> str:
        """The overturn rate as a whole percentage ("42%")."""
        return _pct(self.rate)

    @property
    def percent_range(self) -> str:
        """The interval as whole percentages ("18–52%")."""
        low, high = self.interval
        return f"{round(low * 100)}–{_pct(high)}"

    @property
    def overturned_width(self) -> str:
        """Width of the overturned part of the bar in viewBox units."""
        return f"{self.rate * BAR_WIDTH:.2f}"

    @property
    def upheld_width(self) -> str:
        """Width of the upheld part of the bar in viewBox units."""
        return f"{BAR_WIDTH - self.rate * BAR_WIDTH:.2f}"

    @property
    def low_x(self) -> str:
        """Left end of the interval whisker in viewBox units."""
        return f"{self.interval[0] * BAR_WIDTH:.2f}"

    @property
    def high_x(self) -> str:
        """Right end of the interval whisker in viewBox units."""
        return f"{self.interval[1] * BAR_WIDTH:.2f}"

    @property
    def interval_width(self) -> str:
        """Length of the interval whisker in viewBox units."""
        low, high = self.interval
        return f"{(high - low) * BAR_WIDTH:.2f}"

    @property
    def summary(self) -> str:
        """The numbers in words, for the bar's SVG description."""
        text = (
            f"{self.value}: {self.overturned} of {self.total} overturned ({self.percent}, "
            f"95% interval {self.percent_range})"
        )
        return text + (", too few decisions to compare" if self.small else "")

    def to_json(self) -> dict[str, Any]:
        """The bar's numbers for the JSON twin."""
        low, high = self.interval
        return {
            "value": self.value,
            "total": self.total,
            "overturned": self.overturned,
            "upheld": self.upheld,
            "rate": round(self.rate, 4),
            "low": round(low, 4),
            "high": round(high, 4),
            "small": self.small,
        }


@dataclass(frozen=True, slots=True)
class Chart:
    """The bars of one facet, in display order, and how many values did not fit."""

    facet: str
    title: str
    bars: tuple[Bar, ...]
    omitted: int = 0

    @property
    def total(self) -> int:
        """Sum of the bars' totals."""
        return sum(b.total for b in self.bars)

    def to_json(self) -> dict[str, Any]:
        """The chart for the JSON twin."""
        return {
            "facet": self.facet,
            "title": self.title,
            "omitted": self.omitted,
            "bars": [b.to_json() for b in self.bars],
        }


def _order(facet: str, counts: Mapping[str, int]) -> list[str]:
    """Values in display order: years and age bands in their own order, the rest by count."""
    if facet == FACET_YEAR:
        return sorted(counts, key=lambda v: (not v.isdigit(), v))
    if facet == FACET_AGE:
        rank = {label: i for i, (label, _, _) in enumerate(AGE_BANDS)}
        return sorted(counts, key=lambda v: (rank.get(v, len(rank)), v))
    return sorted(counts, key=lambda v: (-counts[v], v.lower()))


def make_bar(value: str, total: int, overturned: int, min_count: int = MIN_COUNT) -> Bar:
    """A bar with its overturned count clamped to 0..total and its small-number flag."""
    total = max(0, total)
    return Bar(value, total, min(total, max(0, overturned)), total < min_count)


def build_chart(
    facet: str,
    totals: Mapping[str, int],
    overturned: Mapping[str, int],
    max_bars: int = MAX_BARS,
    min_count: int = MIN_COUNT,
) -> Chart:
    """The chart of one facet: the most frequent values in display order, small ones last."""
    present = {v: n for v, n in totals.items() if n > 0}
    keep = set(sorted(present, key=lambda v: (-present[v], v))[:max_bars])
    bars = [
        make_bar(v, present[v], overturned.get(v, 0), min_count)
        for v in _order(facet, present)
        if v in keep
    ]
    bars.sort(key=lambda b: b.small)  # stable: each group keeps the display order
    return Chart(
        facet=facet,
        title=f"Overturn rate by {FACET_LABELS.get(facet, facet).lower()}",
        bars=tuple(bars),
        omitted=len(present) - len(bars),
    )


def build_charts(
    totals: Mapping[str, Mapping[str, int]],
    overturned: Mapping[str, Mapping[str, int]],
    max_bars: int = MAX_BARS,
    min_count: int = MIN_COUNT,
) -> list[Chart]:
    """Charts for every facet but outcome that has counts, in FACETS order."""
    charts = []
    for facet in FACETS:
        if facet == FACET_OUTCOME or not totals.get(facet):
            continue
        chart = build_chart(facet, totals[facet], overturned.get(facet, {}), max_bars, min_count)
        if chart.bars:
            charts.append(chart)
    return charts


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One year of the trend and its place in the SVG (rate and interval ends as y)."""

    bar: Bar
    x: float
    y: float
    y_low: float  # y of the interval's lower end (larger y: lower on screen)
    y_high: float


@dataclass(frozen=True, slots=True)
class Trend:
    """The overturn rate year by year, with the axes' geometry."""

    points: tuple[TrendPoint, ...]
    width: int = TREND_W
    height: int = TREND_H

    @property
    def polyline(self) -> str:
        """The SVG points of the line through the years that have enough decisions."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points if not p.bar.small)

    @property
    def grid(self) -> list[tuple[float, str]]:
        """(y, label) of the horizontal grid lines at 0, 25, 50, 75 and 100%."""
        return [(_rate_y(r / 100), f"{r}%") for r in (0, 25, 50, 75, 100)]

    @property
    def left(self) -> int:
        """x of the plot's left edge."""
        return TREND_LEFT

    @property
    def right(self) -> int:
        """x of the plot's right edge."""
        return TREND_W - TREND_RIGHT

    @property
    def label_y(self) -> int:
        """Baseline of the year labels."""
        return TREND_H - 6

    @property
    def summary(self) -> str:
        """The trend in words, for the SVG's description."""
        if not self.points:
            return "No year to show."
        first, last = self.points[0].bar, self.points[-1].bar
        return (
            f"Overturn rate by year from {first.value} to {last.value}: "
            + "; ".join(p.bar.summary for p in self.points)
            + "."
        )

    def label_every(self) -> int:
        """Label every n-th year so that the labels do not collide."""
        return max(1, math.ceil(len(self.points) / 8))


def _rate_y(rate: float) -> float:
    """The y of a rate in the plot area (100% at the top)."""
    return TREND_TOP + (1 - rate) * (TREND_H - TREND_TOP - TREND_BOTTOM)


def build_trend(
    totals: Mapping[str, int], overturned: Mapping[str, int], min_count: int = MIN_COUNT
) -> Trend:
    """The overturn-rate trend over the years that have decisions, oldest first."""
    years = sorted(v for v, n in totals.items() if n > 0 and v.isdigit())
    span = TREND_W - TREND_LEFT - TREND_RIGHT
    step = span / len(years) if years else 0.0
    points = []
    for i, year in enumerate(years):
        bar = make_bar(year, totals[year], overturned.get(year, 0), min_count)
        low, high = bar.interval
        x = TREND_LEFT + step * (i + 0.5)
        points.append(TrendPoint(bar, x, _rate_y(bar.rate), _rate_y(low), _rate_y(high)))
    return Trend(tuple(points))


@dataclass(frozen=True, slots=True)
class ChartsView:
    """Everything the charts page and its JSON twin show."""

    overall: Bar
    charts: tuple[Chart, ...]
    trend: Trend
    min_count: int = MIN_COUNT

    def to_json(self) -> dict[str, Any]:
        """The body of /api/charts (besides the echoed query and filters)."""
        return {
            "interval": INTERVAL,
            "min_count": self.min_count,
            "overall": self.overall.to_json(),
            "trend": [p.bar.to_json() for p in self.trend.points],
            "charts": [c.to_json() for c in self.charts],
        }


def build_view(
    totals: Mapping[str, Mapping[str, int]],
    overturned: Mapping[str, Mapping[str, int]],
    overturned_value: str,
    min_count: int = MIN_COUNT,
) -> ChartsView:
    """The charts of facet counts over all matches and over the overturned ones."""
    outcomes = totals.get(FACET_OUTCOME, {})
    total = sum(outcomes.get(o, 0) for o in OUTCOMES)
    overall = make_bar("All matches", total, outcomes.get(overturned_value, 0), min_count)
    return ChartsView(
        overall=overall,
        charts=tuple(build_charts(totals, overturned, min_count=min_count)),
        trend=build_trend(totals.get(FACET_YEAR, {}), overturned.get(FACET_YEAR, {}), min_count),
        min_count=min_count,
    )
