"""Stage 2, find: items of the MEDICAL PROFESSIONAL REVIEW layout, whose requests, guidelines
and rationales stand in three separate sections."""

from __future__ import annotations

import itertools
import re

from .clean import Line, join_lines
from .grammar import (
    ANY_OUTCOME,
    BARE_OUTCOME,
    ITEM_LINE,
    NUMBERED_LINE,
    SERVICE_DATE_END,
    outcome_word,
)
from .heads import partial_continues
from .items import RawDecision, scan_items
from .partial import split_partial
from .sentences import clean_request, necessity_outcome, request_key, stated_outcome
from .wraps import ends_in_outcome

_SUBHEADING_MAX = 200
# (At a line's end too: "Upon independent review, the denial of" / "X is overturned.")
_SUBJECT = re.compile(r"\b(?:denial|request|non-?certification)\s+(?:of|for)(?:\s|$)", re.I)
_key = request_key


def _opens_with(text: str, key: str) -> bool:
    """_key(text).startswith(key), reducing no more of a long text than it takes."""
    head = _key(text[: 4 * len(key) + 8])  # the key of a prefix is a prefix of the key
    if len(head) >= len(key) or len(text) <= 4 * len(key) + 8:
        return head.startswith(key)
    return _key(text).startswith(key)


def _subheading(text: str) -> bool:
    """Whether a line is a part's sub-heading ("Purchase of a TENS unit:"): short, ending in a
    colon, no sentence in it ("... page(s) 63-66. Official ... Section(s):" is text)."""
    return text.endswith(":") and len(text) < _SUBHEADING_MAX and ". " not in text


def _unnumbered(text: str) -> str:
    """A line without its numbering ("1. Norco" -> "Norco")."""
    m = NUMBERED_LINE.match(text)
    return m.group("body") + text[m.end() :] if m else text


def _text(unit: list[Line]) -> str:
    """A unit's lines as one line."""
    return " ".join(ln.text for ln in unit)


def _open_sentence(unit: list[Line]) -> bool:
    """Whether a unit opens a decision sentence ("Upon review, the denial of X") that has not
    yet reached its end."""
    text = _text(unit)
    return (
        len(text) < 300
        and (text[-1:] not in ".;:!?" or SERVICE_DATE_END.search(text) is not None)
        and not ends_in_outcome(text)  # "Retrospective request for X" / "- Upheld"
        and _SUBJECT.search(text) is not None
        and stated_outcome(text) is None
        and necessity_outcome(text) is None
    )


def _undecided(unit: list[Line]) -> bool:
    """Whether a unit states no outcome yet."""
    text = _text(unit)
    return ANY_OUTCOME.search(text) is None and necessity_outcome(text) is None


def _issue_items(lines: list[Line]) -> list[RawDecision]:
    """Requests under ISSUE AT DISPUTE: structured items, else one per sentence or line (and
    those where each decides its own request and they are more: "After review, the denial
    of X is upheld." / "Y - Upheld" / ...)."""
    items, _ = scan_items(lines)
    if len(lines) <= len(items):
        return items
    units = _units(lines)
    if len(units) > len(items) and all(u.outcome and u.request for u in units):
        return units
    return items or units


def _units(lines: list[Line]) -> list[RawDecision]:
    """One item per request sentence or line."""
    units: list[list[Line]] = []
    for line in lines:
        previous = units[-1][-1].text if units else ""
        # One request a line, unless a long line of prose runs on into this one, or a decision
        # sentence not yet at its verb ("the denial of X" / "ER 100 mg #90 is upheld.").
        # A line that ends in its outcome ("..., Z - Upheld") ends its unit, however long.
        runs_on = (
            len(previous) >= 60 and previous[-1:] not in ".;:" and not ends_in_outcome(previous)
        )
        # (A partial approval goes on over a page gap up to its outcome, which may stand on a
        # line of its own: "... the original request, X:" / "Upheld".)
        goes_on = bool(units) and (
            _open_sentence(units[-1])
            or partial_continues(_text(units[-1]), line)
            or (BARE_OUTCOME.match(line.text) is not None and _undecided(units[-1]))
        )
        if not units or ((line.para or not runs_on) and not goes_on):
            units.append([])
        units[-1].append(line)
    out = []
    for unit in units:
        text = " ".join(ln.text for ln in unit)
        if len(text) > 400 or not text.strip():
            continue
        outcome = stated_outcome(text)
        bare = BARE_OUTCOME.match(unit[-1].text) if len(unit) > 1 and not outcome else None
        if bare:  # "Anecream 4% 100gm" / "Decision: Upheld": the label is no part of it
            text = " ".join(ln.text for ln in unit[:-1])
            outcome = outcome_word(bare.group(1))
        elif ended := ITEM_LINE.match(text):  # "... the original request, X - Upheld"
            text, outcome = ended.group("req"), outcome_word(ended.group(2))
        request = clean_request(text)
        stated = outcome is not None
        out.append(RawDecision(request, outcome or necessity_outcome(text), stated, "", "", ""))
    return out


def _starts(lines: list[Line], requests: list[str]) -> list[int] | None:
    """Where each item's part begins: a line opening with its request ("Zantac 150mg:"), else
    as many numbered paragraphs or short "Heading:" lines as there are requests."""
    keys = [_key(r)[:24] for r in requests]
    starts: list[int] = []
    for i, line in enumerate(lines):
        k = len(starts)
        if k < len(keys) and keys[k] and _opens_with(_unnumbered(line.text), keys[k]):
            starts.append(i)
    if len(starts) == len(requests):
        return starts
    # (Not a list inside a part: "Section(s):" / "1. Weaning of Medications," / "2. ...".)
    numbered = [
        i
        for i, ln in enumerate(lines)
        if ln.para
        and NUMBERED_LINE.match(ln.text)
        and (i == 0 or lines[i - 1].text[-1:] not in ":,")
    ]
    if len(numbered) == len(requests):
        return numbered
    headed = [
        i
        for i, ln in enumerate(lines)
        if _subheading(ln.text) and (ln.para or i == 0 or lines[i - 1].text[-1:] in ".:")
    ]
    return headed if len(headed) == len(requests) else None


def _strip_heading(chunk: list[Line], key: str) -> str:
    """A chunk's text without its "Request:" sub-heading."""
    first = chunk[0].text
    if _subheading(first):
        return join_lines(chunk[1:])
    head, sep, rest = first.partition(": ")
    if sep and len(head) < _SUBHEADING_MAX and (NUMBERED_LINE.match(first) or _key(head) == key):
        return join_lines([Line(rest, True), *chunk[1:]])
    return join_lines(chunk)


def split_per_item(lines: list[Line], requests: list[str]) -> list[str] | None:
    """A section's text cut into one part per request, or None where it is not so divided."""
    if not lines or len(requests) < 1:
        return None
    if len(requests) == 1:  # one part: headed by its request, else the section is its part
        key = _key(requests[0])
        headed = _opens_with(_unnumbered(lines[0].text), key[:24])
        return [_strip_heading(lines, key)] if headed else None
    starts = _starts(lines, requests)
    if starts is None:
        return None
    bounds = [*starts, len(lines)]
    parts = itertools.pairwise(bounds)
    return [_strip_heading(lines[a:b], _key(r)) for (a, b), r in zip(parts, requests, strict=True)]


def professional_items(
    issue: list[Line], guidelines: list[Line], rationale: list[Line]
) -> list[RawDecision]:
    """One RawDecision per disputed request, with its own guideline text and rationale."""
    issues = _issue_items(issue)
    if not issues:
        items, _ = scan_items(rationale)
        return items
    # (A partial approval's part is headed by its decided request: "Acupuncture x 2 visits:".)
    requests = [split_partial(i.request).request for i in issues]
    reasons = split_per_item(rationale, requests)
    guides = split_per_item(guidelines, requests)
    shared_reason, shared_guide = join_lines(rationale), join_lines(guidelines)
    out = []
    for n, item in enumerate(issues):
        reason = reasons[n] if reasons else shared_reason
        outcome = item.outcome if item.outcome_stated else None
        stated = outcome is not None
        if outcome is None and (reasons or len(issues) == 1):
            outcome = stated_outcome(reason)
            stated = outcome is not None
            outcome = outcome or necessity_outcome(reason)
        out.append(
            RawDecision(
                request=item.request,
                outcome=outcome or item.outcome,
                outcome_stated=stated,
                claims_administrator_guideline=item.claims_administrator_guideline,
                maximus_guideline=guides[n] if guides else shared_guide,
                rationale=reason,
            )
        )
    return out
