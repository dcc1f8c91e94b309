"""imr-search: parse, index and search California IMR final determination letters."""

from __future__ import annotations

from .fields import FACETS, LAYOUTS, OUTCOMES, SECTION_KEYS
from .model import Decision, Determination, Reviewer, Section, Worker
from .results import DecisionHit, Hit, QueryError, SearchRequest, SearchResponse

__all__ = [
    "FACETS",
    "LAYOUTS",
    "OUTCOMES",
    "SECTION_KEYS",
    "Decision",
    "DecisionHit",
    "Determination",
    "Hit",
    "QueryError",
    "Reviewer",
    "SearchRequest",
    "SearchResponse",
    "Section",
    "Worker",
]
