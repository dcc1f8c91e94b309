"""Shared helpers of the vocabulary modules: lazy regexes and the data files they read."""

from __future__ import annotations

import re
from typing import Any

_DATA = __name__.rpartition(".")[0] + ".data"


class Rx:
    """A regular expression compiled on first use (keeps the modules quick to import)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __call__(self) -> re.Pattern[str]:
        """The compiled pattern."""
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled


WORD = Rx(r"[A-Za-z0-9]+")


def alternation(parts: list[str]) -> str:
    """The alternation of regex parts, in order, for a case-insensitive pattern, grouped by
    their first letter: "new york|nevada|ohio" -> "n(?:ew york|evada)|o(?:hio)"."""
    # Under re.I, re tries every alternative at each place (no first-character skip), so a
    # list of hundreds of names was 2-5x slower than one test per group. Within a group the
    # order is kept; groups open with different letters, so at most one can match.
    groups: dict[str, list[str]] = {}
    for part in parts:
        first = part[:1]
        # (A part that opens with a regex construct, or a letter under a quantifier: as is.)
        if not (first.isascii() and first.isalnum()) or part[1:2] in ("*", "+", "?", "{"):
            return "|".join(parts)
        groups.setdefault(first.lower(), []).append(part[1:])
    return "|".join(f"{first}(?:{'|'.join(rest)})" for first, rest in groups.items())


def wordset(words: str) -> frozenset[str]:
    """The set of the space-separated words."""
    return frozenset(words.split())


def read_data(name: str) -> str:
    """Text of a data file of the package (imported here: keeps the module quick to import)."""
    from importlib import resources

    return resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")


def read_json(name: str) -> Any:
    """A JSON data file of the package."""
    import json

    return json.loads(read_data(name))
