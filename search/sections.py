"""Stage 2, find: recognise the layout and split a letter's lines into keyed sections."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import Line
from .fields import (
    LAYOUT_IMR,
    LAYOUT_MAXIMUS,
    LAYOUT_PROFESSIONAL,
    LAYOUT_UNKNOWN,
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_DOCUMENTS,
    SECTION_GUIDELINES,
    SECTION_HEADER,
    SECTION_HOW_MADE,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_OTHER,
    SECTION_QUALIFICATIONS,
    SECTION_RATIONALE,
)


@dataclass(frozen=True, slots=True)
class RawSection:
    """A section as found: key, heading as written, its lines (heading excluded)."""

    key: str
    heading: str
    lines: tuple[Line, ...]


# (key, pattern, strong). A strong heading is recognised in any letter case; a weak one
# only when written in capitals, because its words also occur in ordinary sentences.
_HEADINGS: tuple[tuple[str, str, bool], ...] = (
    (SECTION_HOW_MADE, r"how the (?:imr )?(?:final )?determination was made", True),
    (SECTION_DECISIONS, r"imr issues?,? decisions? and rationales?", True),
    (SECTION_DECISIONS, r"imr decision(?:\(s\)|s)? and rationale(?:\(s\)|s)?", True),
    (SECTION_DECISIONS, r"(?:issues?,? )?decisions? and rationales?", False),
    (SECTION_CASE_SUMMARY, r"(?:clinical|expert reviewer(?:'s)?) case summary", True),
    (SECTION_CASE_SUMMARY, r"(?:clinical |case )?summary(?: of (?:the )?case)?", False),
    (SECTION_DOCUMENTS, r"(?:list of )?documents reviewed for determination", True),
    (SECTION_DOCUMENTS, r"(?:list of )?(?:documents|records|medical records) reviewed", False),
    (SECTION_ISSUE_AT_DISPUTE, r"issues? (?:at|in) dispute", True),
    (
        SECTION_GUIDELINES,
        r"medical treatment guideline(?:\(s\)|s)? relied upon[a-z ]*(?: and why)?",
        True,
    ),
    (SECTION_GUIDELINES, r"guideline(?:\(s\)|s)? relied upon[a-z ]*(?: and why)?", False),
    (
        SECTION_RATIONALE,
        r"rationale for why the requested (?:treatment|service|treatment/service)"
        r"(?: is| was| is/was)*(?: not)? medically necessary",
        True,
    ),
    (SECTION_RATIONALE, r"rationale", False),
    (SECTION_QUALIFICATIONS, r"(?:medical |expert )?reviewer(?:'s)? qualifications", True),
    (SECTION_OTHER, r"(?:appeal|appeal rights|notice of appeal rights|important notice)", False),
)
_HEADING_RE = [
    (key, re.compile(rf"^\s*(?:[IVX]+\.|\d{{1,2}}\.)?\s*({pat})\s*(?::\s*(.*))?$", re.I), strong)
    for key, pat, strong in _HEADINGS
]
# Lines that open a letter's closing matter: nothing after them belongs to a decision.
_CLOSING = re.compile(
    r"^(?:cc|c\.c\.|bcc)\s*:|^sincerely\b|^respectfully\b|^/[a-z]{1,4}$|"
    r"^this (?:determination|decision) is (?:final|binding)\b|^effect of (?:the|this) decision\b",
    re.IGNORECASE,
)
# Sections that a closing line ("cc:", "Sincerely") ends.
_CLOSABLE = (SECTION_DECISIONS, SECTION_RATIONALE, SECTION_QUALIFICATIONS, SECTION_GUIDELINES)
_LAYOUT_MARKERS = (
    (LAYOUT_PROFESSIONAL, re.compile(r"^\s*medical professional review\s*$", re.I | re.M)),
    (LAYOUT_MAXIMUS, re.compile(r"maximus federal services,? inc\b", re.I)),
    (LAYOUT_MAXIMUS, re.compile(r"^\s*imr decision\(s\) and rationale\(s\)", re.I | re.M)),
    (LAYOUT_PROFESSIONAL, re.compile(r"^\s*issues? at dispute\s*:", re.I | re.M)),
    (LAYOUT_IMR, re.compile(r"^\s*how the imr final determination was made", re.I | re.M)),
    (LAYOUT_IMR, re.compile(r"^\s*imr issues?,? decisions? and rationales?", re.I | re.M)),
)


def detect_layout(text: str) -> str:
    """Which of the known layouts a letter follows (by its distinctive headings)."""
    for layout, pattern in _LAYOUT_MARKERS:
        if pattern.search(text):
            return layout
    return LAYOUT_UNKNOWN


def _mostly_upper(text: str) -> bool:
    """True when the letters of `text` are (nearly) all capitals."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.85 * len(letters)


# Every heading opens with one of these words: a cheap test that most lines fail.
_HEADING_START = re.compile(
    r"^\s*(?:[IVX]+\.|\d{1,2}\.)?\s*(?:how|imr|issue|decision|clinical|expert|case|summary|list|"
    r"documents|records|medical|treatment|guideline|rationale|reviewer|appeal|important|notice)",
    re.I,
)


def match_heading(text: str) -> tuple[str, str, str] | None:
    """(key, heading, text after the heading's colon) when the line is a section heading."""
    if not _HEADING_START.match(text):
        return None
    tail = ""
    if len(text) > 160:  # a long line is a heading only as "HEADING: text ..."
        colon = text.find(":", 0, 160)
        if colon < 0:
            return None
        text, tail = text[: colon + 1], text[colon + 1 :]
    for key, pattern, strong in _HEADING_RE:
        m = pattern.match(text)
        if not m:
            continue
        heading, rest = m.group(1), f"{m.group(2) or ''}{tail}".strip()
        if not strong and not _mostly_upper(heading):
            continue
        return key, heading, rest
    return None


def split_sections(lines: list[Line]) -> list[RawSection]:
    """Sections in reading order; text before the first heading is the header section."""
    sections: list[RawSection] = []
    key, heading, body = SECTION_HEADER, "", []
    for line in lines:
        found = match_heading(line.text)
        if found is None and key in _CLOSABLE and _CLOSING.match(line.text):
            found = (SECTION_OTHER, "", line.text)
        if found is None:
            body.append(line)
            continue
        if body or heading:
            sections.append(RawSection(key, heading, tuple(body)))
        key, heading, rest = found
        body = [Line(rest, True)] if rest else []
    if body or heading:
        sections.append(RawSection(key, heading, tuple(body)))
    return sections
