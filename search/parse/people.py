"""Stage 3, resolve: the reviewer's states and specialties, and the injured worker."""

from __future__ import annotations

import re

from ..model import Reviewer, Worker
from . import normalize
from .clean import Line, ifinditer, ifinditer_low, lower_in_place

_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-|\s)?\s*(?:years?|yrs?|y)\s*(?:-|\s)?\s*(?:old|/o|o)\b"
    r"|\b(\d{1,2})\s*y\.?o\.?\b|\bage(?:d)?\s*:?\s*(\d{1,2})\b",
    re.I,
)
_SEX = re.compile(r"\b(male|female|man|woman|gentleman|lady)\b", re.I)
_OPENING = 1200  # characters of a summary searched first for the worker's age and sex
_SEX_WORDS = {"male": "male", "man": "male", "gentleman": "male"}
_LICENSURE = re.compile(
    r"state\(?s?\)?\s+of\s+licensure\s*:\s*([^\n]+?)\s*(?=certification|specialt|$)", re.I | re.M
)
_LICENSED_PROSE = re.compile(
    r"licensed\s+(?:to\s+practice\s+)?(?:medicine\s+)?in\s+(?:the\s+states?\s+of\s+)?"
    r"([A-Za-z .,&]+?)(?:\.\s|\.$|\s+(?:he|she|and\s+(?:has|is))\b|;|\n|$)",
    re.I,
)
_CERTIFICATION = re.compile(
    r"(?:certification\(?s?\)?\s*/\s*specialt(?:y|ies)|specialt(?:y|ies)|board certification)"
    r"\s*:\s*([^\n]+)",
    re.I,
)
_BOARD_PROSE = re.compile(
    r"board[- ]certified\s+(?:in\s+)?(.+?)(?=,|;|\.\s|\.$|\s+and\s+(?:is|has)\b|\s+with\b|\n|$)",
    re.I,
)
# "is Licensed in Psychology" (not a state), "is a Licensed Chiropractor". ("\bis" written
# "i(?<!\w.)s": a search skips from i to i, where a leading \b tries every position.)
_LICENSED_SPECIALTY = re.compile(
    r"i(?<!\w.)s\s+(?:a\s+)?(?i:licensed)\s+(?:in\s+)?"
    r"([A-Z][A-Za-z]+(?:\s+(?:of\s+)?[A-Z][A-Za-z]+)*)",  # "... in District of Columbia"
    re.M,
)
_SUBSPECIALTY = re.compile(
    r"sub-?specialty\s+(?:certification\s+)?in\s+(.+?)(?=,|;|\.\s|\.$|\s+and\s+(?:is|has)\b|\n|$)",
    re.I,
)
# (word in every match, pattern, the word that opens every match if it is case-insensitive)
_SPECIALTY_PROSE = (
    ("board", _BOARD_PROSE, "board"),
    ("licensed", _LICENSED_SPECIALTY, None),
    ("specialty", _SUBSPECIALTY, "sub"),
)
_LIST_SEPARATORS = re.compile(r"[,;/&]|\band\b")


_CREDENTIAL_LABEL = re.compile(r"(?:state|certification|specialt|board)[^:]{0,40}:", re.I)


def credential_lines(lines: list[Line]) -> str:
    """Credential lines joined by "\n", with a labelled line's wrapped tail joined back on
    ("Public Health &" / "General Preventive Medicine"): a short line of no label that goes
    on with the line ("& Pain Medicine") or, set off by a blank line, is words of specialty
    names only ("Internal" / "" / "Medicine, Gastroenterology")."""
    out: list[str] = []
    labelled = False
    for ln in lines:
        text = ln.text
        wrapped = (
            labelled
            and len(text) <= 80
            and ":" not in text
            and not text.endswith(".")
            and (text[:1].isupper() or text[:1] == "&")
            and (not ln.para or normalize.specialty_words(text))
        )
        if wrapped:
            out[-1] = f"{out[-1]} {text}"
            continue
        out.append(text)
        labelled = _CREDENTIAL_LABEL.match(text) is not None and not text.endswith(".")
    return "\n".join(out)


def reviewer_of(credentials: str) -> Reviewer:
    """States of licensure and specialties, from labelled lines or prose."""
    flat = " ".join(credentials.split())
    low = flat.lower()  # cheap substring tests before each regex
    flat_low = lower_in_place(flat, low)
    states: list[str] = []
    if "licensure" in low:
        for m in ifinditer(_LICENSURE, credentials, "state"):
            # A labelled list may use postal codes ("NV, Arizona"), which prose never does.
            parts = [normalize.normalize_state(p) for p in _LIST_SEPARATORS.split(m.group(1))]
            found = [p for p in parts if p]
            states += found if found else normalize.find_states(m.group(1))
    if not states and "licensed" in low:
        for m in ifinditer_low(_LICENSED_PROSE, flat, flat_low, "licensed"):
            states += normalize.find_states(m.group(1))
    specialties: list[str] = []
    if "specialt" in low or "certification" in low:
        for m in ifinditer(_CERTIFICATION, credentials, "certification", "specialt", "board"):
            specialties += normalize.split_specialties(m.group(1))
    if not specialties:
        for word, pattern, opening in _SPECIALTY_PROSE:
            if word not in low:
                continue
            prose = (
                ifinditer_low(pattern, flat, flat_low, opening)
                if opening
                else pattern.finditer(flat)
            )
            for m in prose:
                if pattern is _LICENSED_SPECIALTY and normalize.find_states(m.group(1)):
                    continue
                specialties += normalize.split_specialties(m.group(1))
    return Reviewer(tuple(dict.fromkeys(states)), tuple(dict.fromkeys(specialties)))


def worker_of(summary: str) -> Worker:
    """Age and sex of the injured worker, from the first such mention."""
    # Most summaries name both in their first lines: the opening words are searched first
    # (cut at a space, so a word is never split; a first match there is the first of all).
    cut = summary.rfind(" ", 0, _OPENING) if len(summary) > _OPENING else -1
    if cut > 0:
        found = _worker(" ".join(summary[:cut].split()), complete=False)
        if found is not None:
            return found
    return _worker(" ".join(summary.split()), complete=True) or Worker(None, None)


def _worker(flat: str, complete: bool) -> Worker | None:
    """Age and sex in flat text; None when the text may end before they do (not `complete`)."""
    age = sex = None
    m = _AGE.search(flat)
    if m:
        if not complete and m.end() + 60 > len(flat):
            return None  # the sex may be in the window after the age
        value = int(next(g for g in m.groups() if g))
        age = value if 14 <= value <= 99 else None
        window = flat[m.start() : m.end() + 60]
        s = _SEX.search(window)
        if s:
            sex = _SEX_WORDS.get(s.group(1).lower(), "female")
    elif not complete:
        return None
    if sex is None and (s := _SEX.search(flat)):
        sex = _SEX_WORDS.get(s.group(1).lower(), "female")
    if sex is None and not complete:
        return None
    return Worker(age, sex)
