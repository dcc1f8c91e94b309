"""The search engine: Whoosh-format segments evaluated over numpy arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .searcher import SearchIndex

__all__ = ["SearchIndex"]


def __getattr__(name: str) -> object:
    """search.engine.SearchIndex, imported on first use (index.py imports the codec only)."""
    if name != "SearchIndex":
        raise AttributeError(f"module 'search.engine' has no attribute {name!r}")
    from .searcher import SearchIndex

    return SearchIndex
