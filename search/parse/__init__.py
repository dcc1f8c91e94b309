"""The parse stages: load/extract -> clean -> sections -> items -> normalize -> resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..lazy import lazy_attribute

if TYPE_CHECKING:
    from .header import make_id, parse_date
    from .resolve import parse_loaded, parse_text

__all__ = ["make_id", "parse_date", "parse_loaded", "parse_text"]

# name -> its stage module, imported on first use: a searcher needs only the drug names
# (parse.drugs), not the section and item stages' hundred-odd regexes (~60 ms to compile)
_HOMES = {
    "make_id": "header",
    "parse_date": "header",
    "parse_loaded": "resolve",
    "parse_text": "resolve",
}


def __getattr__(name: str) -> Any:
    """The public parse functions, from their stage modules on first use."""
    return lazy_attribute(__name__, _HOMES, name)
