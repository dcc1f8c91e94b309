"""Pure chart data: upheld/overturned split per facet value, as geometry for SVG bars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from search.fields import AGE_BANDS, FACET_AGE, FACET_LABELS, FACET_OUTCOME, FACET_YEAR, FACETS

MAX_BARS: Final = 15
BAR_WIDTH: Final = 100  # the SVG viewBox width of a full bar


@dataclass(frozen=True, slots=True)
class Bar:
    """One facet value: how many matched and how many of those were overturned."""

    value: str
    total: int
    overturned: int

    @property
    def upheld(self) -> int:
        """Matches not overturned."""
        return self.total - self.overturned

    @property
    def rate(self) -> float:
        """Share overturned, 0..1 (0 when there are no matches)."""
        return self.overturned / self.total if self.total else 0.0

    @property
    def percent(self) -> str:
        """The overturn rate as a whole percentage ("42%")."""
        return f"{round(self.rate * 100)}%"

    @property
    def overturned_width(self) -> str:
        """Width of the overturned part of the bar in viewBox units."""
        return f"{self.rate * BAR_WIDTH:.2f}"

    @property
    def upheld_width(self) -> str:
        """Width of the upheld part of the bar in viewBox units."""
        return f"{BAR_WIDTH - self.rate * BAR_WIDTH:.2f}"

    @property
    def summary(self) -> str:
        """The numbers in words, for the bar's SVG title."""
        return f"{self.value}: {self.overturned} of {self.total} overturned ({self.percent})"


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


def _order(facet: str, counts: Mapping[str, int]) -> list[str]:
    """Values in display order: years and age bands in their own order, the rest by count."""
    if facet == FACET_YEAR:
        return sorted(counts, key=lambda v: (not v.isdigit(), v))
    if facet == FACET_AGE:
        rank = {label: i for i, (label, _, _) in enumerate(AGE_BANDS)}
        return sorted(counts, key=lambda v: (rank.get(v, len(rank)), v))
    return sorted(counts, key=lambda v: (-counts[v], v.lower()))


def build_chart(
    facet: str,
    totals: Mapping[str, int],
    overturned: Mapping[str, int],
    max_bars: int = MAX_BARS,
) -> Chart:
    """The chart of one facet from its counts over all matches and over overturned matches."""
    present = {v: n for v, n in totals.items() if n > 0}
    if facet in (FACET_YEAR, FACET_AGE):
        keep = set(sorted(present, key=lambda v: -present[v])[:max_bars])
        values = [v for v in _order(facet, present) if v in keep]
    else:
        values = _order(facet, present)[:max_bars]
    bars = tuple(
        Bar(value=v, total=present[v], overturned=min(present[v], max(0, overturned.get(v, 0))))
        for v in values
    )
    return Chart(
        facet=facet,
        title=f"Overturn rate by {FACET_LABELS.get(facet, facet).lower()}",
        bars=bars,
        omitted=len(present) - len(bars),
    )


def build_charts(
    totals: Mapping[str, Mapping[str, int]],
    overturned: Mapping[str, Mapping[str, int]],
    max_bars: int = MAX_BARS,
) -> list[Chart]:
    """Charts for every facet but outcome that has counts, in FACETS order."""
    charts = []
    for facet in FACETS:
        if facet == FACET_OUTCOME or not totals.get(facet):
            continue
        chart = build_chart(facet, totals[facet], overturned.get(facet, {}), max_bars)
        if chart.bars:
            charts.append(chart)
    return charts
