"""Engine highlight passages (escaped HTML with <mark>) as plain text with match offsets."""

from __future__ import annotations

import html
import re
from typing import Any, Final

_MARK_RE: Final = re.compile(r"(</?mark>)")


def plain_passage(passage: str) -> dict[str, Any]:
    """{"text": plain text, "matches": [[start, end], ...]} (offsets in characters of text)."""
    text: list[str] = []
    matches: list[list[int]] = []
    length = 0
    start: int | None = None
    for part in _MARK_RE.split(passage):
        if part == "<mark>":
            start = length if start is None else start
        elif part == "</mark>":
            if start is not None and length > start:
                matches.append([start, length])
            start = None
        else:
            plain = html.unescape(part)
            text.append(plain)
            length += len(plain)
    if start is not None and length > start:  # an unclosed mark runs to the end
        matches.append([start, length])
    return {"text": "".join(text), "matches": matches}


def plain_text(passage: str) -> str:
    """The passage's text without marks or entities."""
    text: str = plain_passage(passage)["text"]
    return text


def add_plain_highlights(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every "highlights" list of JSON results a "highlights_text" twin."""
    for result in results:
        result["highlights_text"] = [plain_passage(p) for p in result.get("highlights", ())]
        for decision in result.get("decisions", ()):
            decision["highlights_text"] = [plain_passage(p) for p in decision["highlights"]]
    return results
