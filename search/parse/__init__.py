"""The parse stages: load/extract -> clean -> sections -> items -> normalize -> resolve."""

from __future__ import annotations

from .header import make_id, parse_date
from .resolve import parse_loaded, parse_text

__all__ = ["make_id", "parse_date", "parse_loaded", "parse_text"]
