"""The parse stages: load/extract -> clean -> sections -> items -> normalize -> resolve."""

from __future__ import annotations

from .resolve import make_id, parse_date, parse_loaded, parse_text

__all__ = ["make_id", "parse_date", "parse_loaded", "parse_text"]
