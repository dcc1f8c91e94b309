"""Stage 2, find: where a heading's line goes on into the next one though a blank line, a
page gap or its own capitals set that line apart."""

from __future__ import annotations

import re

from .clean import Line
from .grammar import ANY_OUTCOME, BARE_OUTCOME, OUTCOME_ENDINGS, OWN_SUBJECT, is_label
from .sentences import NECESSITY


def ends_in_outcome(text: str) -> bool:
    """Whether a line ends in an outcome word ("X - Upheld", "... is upheld.")."""
    return text.rstrip(" .!").lower().endswith(OUTCOME_ENDINGS)


def wraps_into(previous: str) -> bool:
    """True when a line of prose runs on into the next line."""
    return len(previous) >= 60 and previous[-1:] not in '.:!?;"'


def capitals_go_on(last: str, line: Line) -> bool:
    """Whether a heading in capitals wraps into a short line in capitals that its case alone
    set off as a title ("VISCOSUPPLEMENTATION INJECTIONS TO THE RIGHT" / "KNEE X 3")."""
    text = line.text
    return (
        line.para
        and len(text) <= 60
        and last[-1:] not in '.:;!?")'
        and ":" not in text
        and mostly_capitals(last)
        and mostly_capitals(text)
        and BARE_OUTCOME.match(text) is None
        and not ends_in_outcome(last)
    )


# The verb of a decision sentence: "... is not medically necessary", "... is upheld".
_VERDICT_VERB = re.compile(
    r"\s(?:is|are|was|were)\s+(?:not\s+)?(?:medically|upheld|overturned)", re.I
)


def verdict_wraps(last: str, text: str) -> bool:
    """Whether a line ends the decision sentence a heading left open, where a page gap or the
    heading's capitals set it apart ("1. ... of Atarax 25MG" / "#180 is not medically
    necessary ..."; "4) TOPICAL COMPOUND ..." / "TOPICAL CREAM is not medically ..."): its
    words before the verb go on with the heading (lowercase, a count, or capitals as it is),
    and the line opens no subject, label or number of its own."""
    m = _VERDICT_VERB.search(text, 0, 160) if " is " in text or " are " in text else None
    if m is None or last[-1:] in ".:;!?" or OWN_SUBJECT.match(text):
        return False
    if is_label(text) or (text[:1] in "(#" and text[1:2].isdigit() and text[2:3] in ".)"):
        return False
    if ANY_OUTCOME.search(last) or NECESSITY.search(last):
        return False
    front = text[: m.start()]
    first = front[:1]
    return (
        (not first.isalpha() and not first.isdigit())
        or first.islower()
        or (mostly_capitals(last) and front.isupper())
    )


def mostly_capitals(text: str) -> bool:
    """Whether the letters of a line are capitals (at least three of them)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)
