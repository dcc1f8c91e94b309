"""Stage 2, find: a letter's items by its layout's structure, else by the fallback."""

from __future__ import annotations

from ..fields import (
    LAYOUT_PROFESSIONAL,
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_DOCUMENTS,
    SECTION_GUIDELINES,
    SECTION_HOW_MADE,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_OTHER,
    SECTION_QUALIFICATIONS,
    SECTION_RATIONALE,
)
from .clean import Line, join_lines
from .fallback import fallback_items
from .items import RawDecision, scan_items
from .partial import split_partial
from .professional import professional_items
from .sections import RawSection
from .sentences import necessity_outcome

# Sections where an item's repetition never stands.
_NOT_REPEATED = (SECTION_QUALIFICATIONS, SECTION_CASE_SUMMARY, SECTION_HOW_MADE, SECTION_OTHER)
# Sections that never hold an item: the fallback does not read them.
_NO_ITEMS = (SECTION_DOCUMENTS, SECTION_QUALIFICATIONS, SECTION_OTHER)


def _lines_of(sections: list[RawSection], *keys: str) -> list[Line]:
    """All lines of the sections with these keys, in order."""
    return [ln for s in sections if s.key in keys for ln in s.lines]


def _rationales_by_order(items: list[RawDecision], sections: list[RawSection]) -> list[RawDecision]:
    """Items stated as sentences in the decisions section (2013) whose rationales follow
    later, one rationale section per item, in order: each item gets its own."""
    if not items or any(i.rationale for i in items):
        return items
    reasons = [s for s in sections if s.key == SECTION_RATIONALE]
    if len(reasons) != len(items):
        return items
    return [
        i._replace(
            rationale=join_lines(r.lines),
            outcome=i.outcome or necessity_outcome(join_lines(r.lines)),
        )
        for i, r in zip(items, reasons, strict=True)
    ]


def _repeated_items(items: list[RawDecision], sections: list[RawSection]) -> list[RawDecision]:
    """Items stated as sentences in the decisions section (2013) and repeated after it, one
    by one in the same order, with their labelled guidelines and reasons: each decision
    gets the parts of its repetition (the count must agree)."""
    if not items or any(i.rationale or i.maximus_guideline for i in items):
        return items
    at = next((k for k, s in enumerate(sections) if s.key == SECTION_DECISIONS), len(sections))
    after = [ln for s in sections[at + 1 :] if s.key not in _NOT_REPEATED for ln in s.lines]
    # (Each names its request: "1) The request for X:", "Item 2: Y", a partial's part.)
    named = [p for i in items for p in _request_parts(i.request)]
    again = fallback_items(after, named) if after else []
    if len(again) != len(items):
        return items
    return [
        i._replace(
            outcome=i.outcome or r.outcome,
            outcome_stated=i.outcome_stated or (i.outcome is None and r.outcome_stated),
            claims_administrator_guideline=r.claims_administrator_guideline,
            maximus_guideline=r.maximus_guideline,
            rationale=r.rationale,
        )
        for i, r in zip(items, again, strict=True)
    ]


def _request_parts(request: str) -> tuple[str, ...]:
    """A request as a repetition may name it: whole, or a partial approval's decided part and
    original request."""
    part = split_partial(request)
    return (request, part.request, part.original_request) if part.ur_modified else (request,)


def find_items(
    layout: str, sections: list[RawSection], lines: list[Line]
) -> tuple[list[RawDecision], bool]:
    """Items by the layout's structure, else by the fallback (True with them when it found
    them): openers with decision sentences, or a scan of the letter after its summary."""
    items: list[RawDecision] = []
    if layout == LAYOUT_PROFESSIONAL or any(s.key == SECTION_ISSUE_AT_DISPUTE for s in sections):
        items = professional_items(
            _lines_of(sections, SECTION_ISSUE_AT_DISPUTE),
            _lines_of(sections, SECTION_GUIDELINES),
            _lines_of(sections, SECTION_RATIONALE),
        )
    if not items:  # (a section found by its title's words is the fallback's to read)
        items, _ = scan_items(_lines_of([s for s in sections if not s.titled], SECTION_DECISIONS))
        items = _rationales_by_order(items, sections)
        items = _repeated_items(items, sections)
    if items:
        return items, False
    summary_at = next((i for i, s in enumerate(sections) if s.key == SECTION_CASE_SUMMARY), -1)
    after = sections[summary_at + 1 :]
    rest = [ln for s in after for ln in s.lines]
    structured = fallback_items([ln for s in after if s.key not in _NO_ITEMS for ln in s.lines])
    scanned, _ = scan_items(rest or lines)
    # The openers' items unless the plain scan finds more ("X: Upheld" lines, no numbering)
    # with an outcome (a numbered list of criteria it took for items has none).
    decided = sum(1 for i in structured if i.outcome), sum(1 for i in scanned if i.outcome)
    return (structured if decided[0] >= decided[1] else scanned), True
