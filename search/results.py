"""The search API's request and response types, shared by the engine, the CLI and the web app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .understand import Understood

from .fields import DEFAULT_PAGE_SIZE, SCOPE_AUTO, SORT_RELEVANCE


class QueryError(ValueError):
    """A query or parameter the engine refuses; the message is short and meant for the user."""


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What to search: query text, facet filters {facet: (values...)}, sort and page.

    scope: where words match (fields.SCOPES); literal: do not read words of q as filters.
    """

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = SORT_RELEVANCE
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    scope: str = SCOPE_AUTO
    literal: bool = False
    # Also count the letters that name the query's treatment words only outside their
    # decisions (SearchResponse.also_mentioned): a second evaluation of the query.
    count_elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class DecisionHit:
    """A decision that matched, with its highlighted passages (escaped HTML, <mark> only)."""

    ordinal: int
    request: str
    outcome: str | None
    drug: str | None
    highlights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """One determination in the results and the decisions of it that matched."""

    id: str
    url: str  # "/determinations/<id>"
    source: str
    score: float
    decisions: tuple[DecisionHit, ...]
    case_number: str | None = None
    date_assigned: str | None = None
    ur_denial_date: str | None = None
    decision_date: str | None = None  # the date "newest"/"oldest" sort by, when stated
    states: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    highlights: tuple[str, ...] = ()  # passages from other sections (summary, ...) that matched
    other_decisions: tuple[DecisionHit, ...] = ()  # the letter's decisions that did not match

    @property
    def decision_count(self) -> int:
        """All decisions of the letter, matching or not."""
        return len(self.decisions) + len(self.other_decisions)


@dataclass(frozen=True, slots=True)
class SearchResponse:
    """Totals over all matches, facet counts {facet: {value: count}}, and one page of hits."""

    query: str
    total_determinations: int
    total_decisions: int
    facets: Mapping[str, Mapping[str, int]]
    suggestion: str | None
    results: tuple[Hit, ...]
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    sort: str = SORT_RELEVANCE
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    scope: str = SCOPE_AUTO
    literal: bool = False
    interpreted: Understood | None = None  # when words of q were read as filters
    also_mentioned: int = 0  # letters naming the query's treatment words only elsewhere

    @property
    def pages(self) -> int:
        """Number of pages of determinations."""
        return max(1, -(-self.total_determinations // self.size))

    def to_json(self) -> dict[str, Any]:
        """The body of `search --json` and /api/search."""
        return {
            "query": self.query,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "scope": self.scope,
            "literal": self.literal,
            "interpreted": self.interpreted.to_json() if self.interpreted else None,
            "also_mentioned": self.also_mentioned,
            "sort": self.sort,
            "page": self.page,
            "size": self.size,
            "total_determinations": self.total_determinations,
            "total_decisions": self.total_decisions,
            "facets": {k: dict(v) for k, v in self.facets.items()},
            "suggestion": self.suggestion,
            "results": [
                {
                    "id": h.id,
                    "url": h.url,
                    "source": h.source,
                    "score": h.score,
                    "case_number": h.case_number,
                    "date_assigned": h.date_assigned,
                    "decision_date": h.decision_date,
                    "states": list(h.states),
                    "specialties": list(h.specialties),
                    "highlights": list(h.highlights),
                    "decisions": [
                        {
                            "ordinal": d.ordinal,
                            "request": d.request,
                            "outcome": d.outcome,
                            "drug": d.drug,
                            "highlights": list(d.highlights),
                        }
                        for d in h.decisions
                    ],
                    "decision_count": h.decision_count,
                    "other_decisions": [
                        {
                            "ordinal": d.ordinal,
                            "request": d.request,
                            "outcome": d.outcome,
                            "drug": d.drug,
                        }
                        for d in h.other_decisions
                    ],
                }
                for h in self.results
            ],
        }
