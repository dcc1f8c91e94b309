"""Stage 2, find: recognise the layout and split a letter's lines into keyed sections."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..fields import (
    LAYOUT_IMR,
    LAYOUT_MAXIMUS,
    LAYOUT_NOTICE_2013,
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
from .clean import Line, fold, lower_in_place, places


class RawSection(NamedTuple):
    """A section as found: key, heading as written, its lines (heading excluded)."""

    key: str
    heading: str
    lines: tuple[Line, ...]
    titled: bool = False  # found by its title's words, not a known heading (_titled_sections)


# (key, pattern, strong). A strong heading is recognised in any letter case; a weak one
# only when written in capitals, because its words also occur in ordinary sentences.
_HEADINGS: tuple[tuple[str, str, bool], ...] = (
    (SECTION_HOW_MADE, r"how the (?:imr )?(?:final )?determination was made", True),
    (SECTION_DECISIONS, r"imr issues?,? decisions? and rationales?", True),
    (SECTION_DECISIONS, r"imr decision(?:\(s\)|s)? and rationale(?:\(s\)|s)?", True),
    (
        SECTION_DECISIONS,
        r"independent medical review decision(?:\(s\)|s)? and rationale(?:\(s\)|s)?",
        True,
    ),
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
    (SECTION_QUALIFICATIONS, r"(?:medical )?qualifications of the (?:expert )?reviewer", True),
    (SECTION_OTHER, r"(?:appeal|appeal rights|notice of appeal rights|important notice)", False),
)
_NUMERAL = r"^\s*(?:[IVX]+\.|\d{1,2}\.)?\s*"
_HEADING_RE = [
    (key, re.compile(rf"{_NUMERAL}({pat})\s*(?::\s*(.*))?$", re.I), strong)
    for key, pat, strong in _HEADINGS
]
# All of them in one: the alternative that matches is the first pattern that does (a numeral
# never begins a heading's words), with the same groups; one regex call per line finds or
# rules out a heading. A line is matched in lowercase without re.I where it can be (see
# lower_in_place): the regex engine then skips each alternative at its first letter.
_ALTERNATIVES = "|".join(rf"({pat})\s*(?::\s*(.*))?$" for _, pat, _ in _HEADINGS)
_ANY_HEADING = re.compile(f"{_NUMERAL}(?:{_ALTERNATIVES})", re.I)
_ANY_HEADING_LOWER = re.compile(rf"^\s*(?:[ivx]+\.|\d{{1,2}}\.)?\s*(?:{_ALTERNATIVES})")


# Lines that open a letter's closing matter: nothing after them belongs to a decision.
_CLOSING = re.compile(
    r"^(?:cc|c\.c\.|bcc)\s*:|^sincerely\b|^respectfully\b|^/[a-z]{1,4}$|"
    r"^this (?:determination|decision) is (?:final|binding)\b|^effect of (?:the|this) decision\b",
    re.IGNORECASE,
)
# Sections that a closing line ("cc:", "Sincerely") ends.
_CLOSABLE = (SECTION_DECISIONS, SECTION_RATIONALE, SECTION_QUALIFICATIONS, SECTION_GUIDELINES)
# (layout, words every match contains, pattern): the regexes are tried only where the words
# occur.
_LAYOUT_MARKERS = (
    (
        LAYOUT_NOTICE_2013,
        "independent medical review decision",
        re.compile(
            r"^\s*independent medical review decision(?:\(s\)|s)? and rationale", re.I | re.M
        ),
    ),
    (
        LAYOUT_PROFESSIONAL,
        "medical professional review",
        re.compile(r"^\s*medical professional review\s*$", re.I | re.M),
    ),
    (
        LAYOUT_MAXIMUS,
        "maximus federal services",
        re.compile(r"maximus federal services,? inc\b", re.I),
    ),
    (
        LAYOUT_MAXIMUS,
        "imr decision(s) and rationale(s)",
        re.compile(r"^\s*imr decision\(s\) and rationale\(s\)", re.I | re.M),
    ),
    (LAYOUT_PROFESSIONAL, "at dispute", re.compile(r"^\s*issues? at dispute\s*:", re.I | re.M)),
    (
        LAYOUT_IMR,
        "how the imr final determination was made",
        re.compile(r"^\s*how the imr final determination was made", re.I | re.M),
    ),
    (
        LAYOUT_IMR,
        "imr issue",
        re.compile(r"^\s*imr issues?,? decisions? and rationales?", re.I | re.M),
    ),
)


def detect_layout(text: str) -> str:
    """Which of the known layouts a letter follows (by its distinctive headings)."""
    low = lower_in_place(text)
    if low is None:  # rare (see lower_in_place): a plain search, where the words occur
        low = fold(text)
        for layout, words, pattern in _LAYOUT_MARKERS:
            if words in low and pattern.search(text):
                return layout
        return LAYOUT_UNKNOWN
    for layout, words, pattern in _LAYOUT_MARKERS:
        # Each match holds the words; it opens with them, or where their line starts ("^\s*"):
        # if there is a match, the regex matches at one of those places.
        for at in places(low, words):
            if pattern.match(text, at) or pattern.match(text, text.rfind("\n", 0, at) + 1):
                return layout
    return LAYOUT_UNKNOWN


def _mostly_upper(text: str) -> bool:
    """True when the letters of `text` are (nearly) all capitals."""
    letters = list(filter(str.isalpha, text))
    return bool(letters) and sum(map(str.isupper, letters)) >= 0.85 * len(letters)


# The prefilters are derived from _HEADINGS (a heading added there is found without more):
# a line is worth match_heading only where one of the heading patterns opens it.
_OPENERS = "|".join(f"(?:{pat})" for _, pat, _ in _HEADINGS)
_HEADING_START = re.compile(rf"{_NUMERAL}(?:{_OPENERS})", re.I)


_SMALL_WORDS = frozenset(("of", "the", "and", "for", "to", "a", "an", "in", "by", "or"))


def _title_label(text: str, heading: str, end: int) -> bool:
    """True for a weak heading written as a title that ends its line with a colon ("Case
    Summary:"), which a sentence never is."""
    if text[end:].strip() != ":":
        return False
    words = heading.split()
    return all(w[:1].isupper() or w in _SMALL_WORDS for w in words) and words[0][:1].isupper()


def match_heading(text: str) -> tuple[str, str, str] | None:
    """(key, heading, text after the heading's colon) when the line is a section heading."""
    tail = ""
    if len(text) > 160:  # a long line is a heading only as "HEADING: text ..."
        colon = text.find(":", 0, 160)
        if colon < 0:
            return None
        text, tail = text[: colon + 1], text[colon + 1 :]
    low = lower_in_place(text)
    m = _ANY_HEADING.match(text) if low is None else _ANY_HEADING_LOWER.match(low)
    if m is None:
        return None
    k = ((m.lastindex or 1) - 1) // 2  # alternative k: groups 2k+1 (heading), 2k+2 (rest)
    key, _, strong = _HEADINGS[k]
    heading = text[m.start(2 * k + 1) : m.end(2 * k + 1)]  # as written (same places)
    titled = not tail and _title_label(text, heading, m.end(2 * k + 1))
    if strong or titled or _mostly_upper(heading):
        rest = text[m.start(2 * k + 2) : m.end(2 * k + 2)] if m.start(2 * k + 2) >= 0 else ""
        return key, heading, f"{rest}{tail}".strip()
    # A weak heading in lowercase is a sentence: on to the patterns after it, one by one.
    for key, pattern, strong in _HEADING_RE[k + 1 :]:
        m = pattern.match(text)
        if not m:
            continue
        heading, rest = m.group(1), f"{m.group(2) or ''}{tail}".strip()
        if not strong and not _mostly_upper(heading):
            continue
        return key, heading, rest
    return None


# What a heading (_HEADING_START) or closing line (_CLOSING) opens with, over the lowercase
# lines of a letter joined by "\n": one scan finds the few lines worth those tests.
_CANDIDATE = re.compile(
    rf"\n(?:[^\S\n]*(?:[ivx]+\.|\d{{1,2}}\.)?[^\S\n]*(?:{_OPENERS})|cc|c\.c\.|bcc|sincerely"
    r"|respectfully|/|this (?:determination|decision) is|effect of)"
)


def _candidates(texts: list[str]) -> list[int]:
    """Indexes of the lines that may be a heading or closing line."""
    joined = "\n" + "\n".join(texts)
    low = lower_in_place(joined)
    if low is None or joined.count("\n") != len(texts):  # (a "\n" in a line: a line more)
        return [i for i, t in enumerate(texts) if _HEADING_START.match(t) or _CLOSING.match(t)]
    out: list[int] = []
    i = at = 0
    for m in _CANDIDATE.finditer(low):
        i += low.count("\n", at, m.start())  # the line opens after the match's "\n"
        at = m.start()
        out.append(i)
    return out


# A letter of no known heading titles its sections in words of their own: a short line
# standing alone in capitals or title case, named by the words sections are named by.
_TITLE_KEYS = (
    (SECTION_CASE_SUMMARY, frozenset(("summary", "history", "background"))),
    (SECTION_DOCUMENTS, frozenset(("records", "documents", "materials"))),
    (
        SECTION_DECISIONS,
        frozenset(("findings", "outcomes", "decisions", "determinations", "disputed", "issues")),
    ),
    (SECTION_QUALIFICATIONS, frozenset(("reviewer", "credentials", "qualifications"))),
)


def _title_key(line: Line) -> str | None:
    """The section a title line opens ("PATIENT HISTORY", "Physician Reviewer"), or None."""
    text = line.text.rstrip(":").strip()
    if not line.para or not text or len(text) > 50 or text[-1] in ".,;!?" or ":" in text:
        return None
    words = text.split()
    if len(words) > 6 or any(c.isdigit() for c in text):
        return None
    if not all(w[:1].isupper() or w in _SMALL_WORDS for w in words):
        return None
    low = {w.lower() for w in words}
    return next((key for key, names in _TITLE_KEYS if low & names), None)


def _titled_sections(lines: tuple[Line, ...]) -> list[RawSection]:
    """A header-only letter split at its own title lines; the letter's first lines (its own
    title, before any text) stay in the header."""
    sections: list[RawSection] = []
    key, heading, start = SECTION_HEADER, "", 0
    for i, line in enumerate(lines):
        found = _title_key(line) if i > 0 else None
        if found is None or all(_title_key(ln) for ln in lines[:i]):
            continue
        sections.append(RawSection(key, heading, lines[start:i], bool(heading)))
        key, heading, start = found, line.text.rstrip(":").strip(), i + 1
    sections.append(RawSection(key, heading, lines[start:], True))
    return sections if len(sections) > 1 else []


def split_sections(lines: list[Line]) -> list[RawSection]:
    """Sections in reading order; text before the first heading is the header section."""
    sections = _split_by_headings(lines)
    if len(sections) == 1 and sections[0].key == SECTION_HEADER:
        return _titled_sections(sections[0].lines) or sections
    return sections


def _split_by_headings(lines: list[Line]) -> list[RawSection]:
    """Sections at the known headings; text before the first is the header section."""
    sections: list[RawSection] = []
    key, heading, body = SECTION_HEADER, "", []
    done = 0  # lines before this one are placed
    for i in _candidates([ln.text for ln in lines]):
        body += lines[done:i]
        done = i + 1
        line = lines[i]
        text = line.text
        found = match_heading(text)
        if found is None and key in _CLOSABLE and _CLOSING.match(text):
            found = (SECTION_OTHER, "", text)
        if found is None:
            body.append(line)
            continue
        if body or heading:
            sections.append(RawSection(key, heading, tuple(body)))
        key, heading, rest = found
        body = [Line(rest, True)] if rest else []
    body += lines[done:]
    if body or heading:
        sections.append(RawSection(key, heading, tuple(body)))
    return sections
