"""Stage 3, resolve: a partial approval's parts, from an item heading of several sentences.

"X was the original request. Y was authorized by the Claims Administrator. The remaining IMR
eligible portion of the original request, Z" -> original X, authorized Y, decided Z.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Partial(NamedTuple):
    """The parts of a heading: decided request, original request, what UR authorized."""

    request: str
    original_request: str
    authorized: str
    ur_modified: bool


# Sentences of a heading: a full stop, then a space and a capital or a count ("... the original
# request. 5 Tablets of ..."; not "7.5mg").
_SENTENCES = re.compile(r"(?<=[a-z0-9)\]])\.\s+(?=[A-Z0-9])")
_ORIGINAL = re.compile(
    r"^(?:the\s+)?(?:request\s+for\s+)?(?P<x>.+?)\s+(?:was|were|is)\s+the\s+original\s+request$",
    re.I,
)
_AUTHORIZED_PASSIVE = re.compile(
    r"^(?P<x>.+?)\s+(?:was|were|has\s+been|have\s+been)\s+(?:authorized|certified|approved)\b", re.I
)
_AUTHORIZED_ACTIVE = re.compile(
    r"\b(?:authorized|certified|approved)\s+(?P<x>.+?)(?:,\s*(?:leaving|and)\b.*)?$", re.I
)
# The decided part: "The remaining ... (original) request, Z" / "... request is Z" / "Z is".
_REMAINING = re.compile(
    r"^(?:the\s+)?(?:remaining\b[^,]*?|original)\s+request(?:\s+is\b|\s*,|\s*:)\s*(?P<x>.+)$",
    re.I,
)
_TRAILING_IS = re.compile(r"\s+(?:is|are)\s*$", re.I)


def _clean(text: str) -> str:
    """A part without trailing punctuation or a dangling "is"."""
    return _TRAILING_IS.sub("", text.strip().rstrip(".:;,").strip()).strip()


def split_partial(heading: str) -> Partial:
    """The parts of an item heading; a heading with no "original request" is not modified."""
    if "original request" not in heading.lower():  # every partial approval names it
        return Partial(heading, "", "", False)
    original = authorized = decided = ""
    for sentence in _SENTENCES.split(" ".join(heading.split())):
        if not original and (m := _ORIGINAL.match(_clean(sentence))):
            original = _clean(m.group("x"))
        elif not authorized and (
            (m := _AUTHORIZED_PASSIVE.match(sentence)) or (m := _AUTHORIZED_ACTIVE.search(sentence))
        ):
            authorized = _clean(m.group("x"))
        elif m := _REMAINING.match(sentence.strip()):
            decided = _clean(m.group("x"))
    if not original:
        return Partial(heading, "", "", False)
    return Partial(decided or original, original, authorized, True)
