"""imr-search: parse, index and search California IMR final determination letters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fields import FACETS, LAYOUTS, OUTCOMES, SECTION_KEYS
from .lazy import lazy_attribute
from .model import Decision, Determination, Reviewer, Section, Worker
from .results import DecisionHit, Hit, QueryError, SearchRequest, SearchResponse

if TYPE_CHECKING:  # for type checkers; at run time these load lazily (see __getattr__)
    from .engine import SearchIndex
    from .index import IndexLocked, IndexMissing, IndexSummary, create_or_open_index, index_paths
    from .understand import Understood, understand

__all__ = [
    "FACETS",
    "LAYOUTS",
    "OUTCOMES",
    "SECTION_KEYS",
    "Decision",
    "DecisionHit",
    "Determination",
    "Hit",
    "IndexLocked",
    "IndexMissing",
    "IndexSummary",
    "QueryError",
    "Reviewer",
    "SearchIndex",
    "SearchRequest",
    "SearchResponse",
    "Section",
    "Understood",
    "Worker",
    "create_or_open_index",
    "index_paths",
    "understand",
]

# The engine's names load lazily, so `import search` (and `imr-search parse`) never pays
# for Whoosh and numpy.
_ENGINE_NAMES = {
    "IndexLocked": "index",
    "IndexMissing": "index",
    "IndexSummary": "index",
    "create_or_open_index": "index",
    "index_paths": "index",
    "SearchIndex": "engine",
    "Understood": "understand",
    "understand": "understand",
}


def __getattr__(name: str) -> object:
    """search.SearchIndex and friends, imported on first use."""
    return lazy_attribute(__name__, _ENGINE_NAMES, name)
