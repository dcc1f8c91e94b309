"""Stage 3, resolve: a letter's header facts (case number, dates, priority) and its id."""

from __future__ import annotations

import re
from pathlib import PurePath

from .clean import ifinditer, ifinditer_low, lower_in_place, matches_at, places

CASE_NUMBER = re.compile(r"\b([A-Z]{2}\d{2}-\d{7})\b")
_CASE_NUMBER_TAIL = re.compile(r"-\d{7}")  # found fast (it opens with a plain character)
_CASE_LABEL = re.compile(r"case\s*(?:number|no\.?|#)\s*:?\s*([A-Z]{2}\d{2}-\d{7})", re.I)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
         "jul july", "aug august", "sep sept september", "oct october", "nov november",
         "dec december")
    )
    for m in names.split()
}  # fmt: skip
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4})"
)
# One pass finds every labelled date; the group that matched names the field.
_LABELLED_DATES = re.compile(
    r"(?=[dDuU])(?:(?P<date_assigned>date\s+assigned)"
    r"|(?P<ur_denial_date>ur\s+denial\s+date|date\s+of\s+(?:the\s+)?ur\s+(?:decision|denial)"
    r"|utilization\s+review\s+(?:denial\s+)?dated?)"
    r"|(?P<date_of_injury>date\s+of\s+injury|\bDOI\b))"
    rf"\s*(?:\(doi\)\s*)?(?:of|was|on|is|:)?\s*(?P<date>{_DATE})",
    re.I,
)
# In lowercase text, where labels may open: a fast search for each (plain first letters).
_DATE_LABEL = re.compile(r"date\s+(?:assigned|of\s)")
_UR_DENIAL = re.compile(r"ur\s+denial")
DATE_FIELDS = ("date_assigned", "ur_denial_date", "date_of_injury")
_INJURY_PROSE = re.compile(
    rf"\b(?:injur(?:y|ies|ed)|accident|hurt)\b[^.]{{0,40}}?\b(?:on|of|dated)\s+({_DATE})", re.I
)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})")
_MONTH_FIRST = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})")
_DAY_FIRST = re.compile(r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})")


def parse_date(text: str) -> str | None:
    """An ISO date for "5/15/11", "2-1-2009", "2014-01-31", "January 5, 2012"; None if invalid."""
    text = text.strip().rstrip(".,")
    try:
        if m := _ISO_DATE.fullmatch(text):
            y, mo, d = map(int, m.groups())
        elif m := _NUMERIC_DATE.fullmatch(text):
            mo, d, y = map(int, m.groups())
            if y < 100:
                y += 2000 if y <= 30 else 1900
        elif m := _MONTH_FIRST.fullmatch(text):
            mo, d, y = _MONTHS.get(m.group(1).lower(), 0), int(m.group(2)), int(m.group(3))
        elif m := _DAY_FIRST.fullmatch(text):
            d, mo, y = int(m.group(1)), _MONTHS.get(m.group(2).lower(), 0), int(m.group(3))
        else:
            return None
    except ValueError:
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31 and 1900 <= y <= 2100):
        return None
    days = (31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30,
            31, 31, 30, 31, 30, 31)  # fmt: skip
    return f"{y:04d}-{mo:02d}-{d:02d}" if d <= days[mo - 1] else None


def injury_date(text: str) -> str | None:
    """The first valid date of an injury told in prose ("injured on 5/15/11")."""
    for m in ifinditer(_INJURY_PROSE, text, "injur", "accident", "hurt"):
        if date := parse_date(m.group(1)):
            return date
    return None


def labelled_dates(*texts: tuple[str, str | None]) -> dict[str, str | None]:
    """The first valid date after each label (Date Assigned, UR Denial Date, Date of Injury),
    in texts given with their lower_in_place."""
    found: dict[str, str | None] = dict.fromkeys(DATE_FIELDS)
    for text, low in texts:
        if low is not None:  # try only where a label opens (see ifinditer)
            starts = places(low, "utilization", "doi")
            starts += [m.start() for m in _DATE_LABEL.finditer(low)]
            starts += [m.start() for m in _UR_DENIAL.finditer(low)]
            found_here = matches_at(_LABELLED_DATES, text, sorted(starts))
        else:
            found_here = _LABELLED_DATES.finditer(text)
        for m in found_here:
            key = next(k for k in DATE_FIELDS if m.group(k))
            if found[key] is None:
                found[key] = parse_date(m.group("date"))
        if all(found.values()):
            break
    return found


def find_case_number(text: str, low: str | None) -> str | None:
    """The IMR case number (labelled first, else the first one in the letter), given the
    text's lower_in_place."""
    m = next(ifinditer_low(_CASE_LABEL, text, low, "case"), None)
    if m is None:  # a number opens four characters before its "-1234567"
        starts = (t.start() - 4 for t in _CASE_NUMBER_TAIL.finditer(text) if t.start() >= 4)
        m = next(matches_at(CASE_NUMBER, text, starts), None)
    return m.group(1).upper() if m else None


def make_id(case_number: str | None, source: str) -> str:
    """The case number when present, else the file stem limited to [A-Za-z0-9._-]."""
    if case_number:
        return case_number
    stem = PurePath(source).stem if source else ""
    return _ID_UNSAFE.sub("_", stem).strip("._-")[:100] or "letter"


_DECISION_DATE = re.compile(rf"decision\s+date\s*:?\s*({_DATE})", re.I)
_APPLICATION_RECEIVED = re.compile(rf"application\s+received\s*:?\s*({_DATE})", re.I)
_PRIORITY = re.compile(r"priority\s*:?\s*(standard|regular|routine|normal|expedited|urgent)", re.I)
_EXPEDITED = ("expedited", "urgent")
_DATED = re.compile(r"^\s*(?:date|dated|letter date)\s*:\s*", re.I)


def header_fields(head: str) -> tuple[str | None, str | None, str | None]:
    """Decision date (else the letter's own date line), priority and application received,
    from a letter's header."""
    flat = " ".join(head.split())
    low = flat.lower()
    decision = received = priority = None
    at = lower_in_place(flat, low)
    # (Each label found by str.find, its regex tried there: a re.I search tries every place.)
    if m := next(ifinditer_low(_DECISION_DATE, flat, at, "decision"), None):
        decision = parse_date(m.group(1))
    if m := next(ifinditer_low(_APPLICATION_RECEIVED, flat, at, "application"), None):
        received = parse_date(m.group(1))
    if m := next(ifinditer_low(_PRIORITY, flat, at, "priority"), None):
        priority = "expedited" if m.group(1).lower() in _EXPEDITED else "regular"
    if decision is None:  # a line that is only a date ("Dated:" at most): the letter's own
        # (A date line is short: the longest date, "September 30, 2013", with "Dated: ".)
        lines = [_DATED.sub("", ln) for ln in head.splitlines()[:40] if len(ln) <= 48]
        decision = next(filter(None, map(parse_date, lines)), None)
    return decision, priority, received
