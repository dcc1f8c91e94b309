"""Stage 3, resolve: a letter's text into a typed Determination record."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from typing import TYPE_CHECKING

from ..fields import (
    LAYOUT_PROFESSIONAL,
    OUTCOME_OVERTURNED,
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_GUIDELINES,
    SECTION_HEADER,
    SECTION_HOW_MADE,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_OTHER,
    SECTION_QUALIFICATIONS,
    SECTION_RATIONALE,
)
from ..model import PARSER_VERSION, Decision, Determination, Reviewer, Section, Worker
from . import normalize
from .clean import (
    Line,
    clean_lines,
    ifinditer,
    ifinditer_low,
    join_lines,
    lower_in_place,
    matches_at,
    places,
)
from .items import (
    RawDecision,
    necessity_outcome,
    outcome_word,
    scan_items,
)
from .partial import split_partial
from .professional import professional_items
from .sections import RawSection, detect_layout, split_sections

if TYPE_CHECKING:
    from .load import LoadedText

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
_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-|\s)?\s*(?:years?|yrs?|y)\s*(?:-|\s)?\s*(?:old|/o|o)\b"
    r"|\b(\d{1,2})\s*y\.?o\.?\b|\bage(?:d)?\s*:?\s*(\d{1,2})\b",
    re.I,
)
_SEX = re.compile(r"\b(male|female|man|woman|gentleman|lady)\b", re.I)
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
    r"i(?<!\w.)s\s+(?:a\s+)?(?i:licensed)\s+(?:in\s+)?([A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+)*)", re.M
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
_FINAL_DETERMINATION = re.compile(r"final determination\s*:?\s*(uphold|overturn)\w*\b", re.I)
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


def _injury_date(text: str) -> str | None:
    """The first valid date of an injury told in prose ("injured on 5/15/11")."""
    for m in ifinditer(_INJURY_PROSE, text, "injur", "accident", "hurt"):
        if date := parse_date(m.group(1)):
            return date
    return None


def _labelled_dates(*texts: tuple[str, str | None]) -> dict[str, str | None]:
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


def _case_number(text: str, low: str | None) -> str | None:
    """The IMR case number (labelled first, else the first one in the letter), given the
    text's lower_in_place."""
    m = next(ifinditer_low(_CASE_LABEL, text, low, "case"), None)
    if m is None:  # a number opens four characters before its "-1234567"
        starts = (t.start() - 4 for t in _CASE_NUMBER_TAIL.finditer(text) if t.start() >= 4)
        m = next(matches_at(CASE_NUMBER, text, starts), None)
    return m.group(1).upper() if m else None


_CREDENTIAL_LABEL = re.compile(r"(?:state|certification|specialt|board)[^:]{0,40}:", re.I)


def _credential_lines(lines: list[Line]) -> str:
    """Credential lines joined by "\n", with a labelled line's wrapped tail joined back on
    ("Public Health &" / "General Preventive Medicine")."""
    out: list[str] = []
    labelled = False
    for ln in lines:
        text = ln.text
        wrapped = (
            labelled
            and not ln.para
            and len(text) <= 80
            and ":" not in text
            and not text.endswith(".")
            and text[:1].isupper()
        )
        if wrapped:
            out[-1] = f"{out[-1]} {text}"
            continue
        out.append(text)
        labelled = _CREDENTIAL_LABEL.match(text) is not None and not text.endswith(".")
    return "\n".join(out)


def _reviewer(credentials: str) -> Reviewer:
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


def _worker(summary: str) -> Worker:
    """Age and sex of the injured worker, from the first such mention."""
    flat = " ".join(summary.split())
    age = sex = None
    m = _AGE.search(flat)
    if m:
        value = int(next(g for g in m.groups() if g))
        age = value if 14 <= value <= 99 else None
        window = flat[m.start() : m.end() + 60]
        s = _SEX.search(window)
        if s:
            sex = _SEX_WORDS.get(s.group(1).lower(), "female")
    if sex is None and (s := _SEX.search(flat)):
        sex = _SEX_WORDS.get(s.group(1).lower(), "female")
    return Worker(age, sex)


def make_id(case_number: str | None, source: str) -> str:
    """The case number when present, else the file stem limited to [A-Za-z0-9._-]."""
    if case_number:
        return case_number
    stem = PurePath(source).stem if source else ""
    return _ID_UNSAFE.sub("_", stem).strip("._-")[:100] or "letter"


def _regions(text: str) -> tuple[str, ...]:
    """Body regions of a text, by the vocabulary's table when it has one."""
    return tuple(normalize.body_regions(text))


_DECISION_DATE = re.compile(rf"decision\s+date\s*:?\s*({_DATE})", re.I)
_APPLICATION_RECEIVED = re.compile(rf"application\s+received\s*:?\s*({_DATE})", re.I)
_PRIORITY = re.compile(r"priority\s*:?\s*(standard|regular|routine|normal|expedited|urgent)", re.I)
_EXPEDITED = ("expedited", "urgent")
_DATED = re.compile(r"^\s*(?:date|dated|letter date)\s*:\s*", re.I)


def _header_fields(head: str) -> tuple[str | None, str | None, str | None]:
    """Decision date (else the letter's own date line), priority and application received,
    from a letter's header."""
    flat = " ".join(head.split())
    low = flat.lower()
    decision = received = priority = None
    if "decision" in low and (m := _DECISION_DATE.search(flat)):
        decision = parse_date(m.group(1))
    if "received" in low and (m := _APPLICATION_RECEIVED.search(flat)):
        received = parse_date(m.group(1))
    if "priority" in low and (m := _PRIORITY.search(flat)):
        priority = "expedited" if m.group(1).lower() in _EXPEDITED else "regular"
    if decision is None:  # a line that is only a date ("Dated:" at most): the letter's own
        lines = [_DATED.sub("", ln) for ln in head.splitlines()[:40]]
        decision = next(filter(None, map(parse_date, lines)), None)
    return decision, priority, received


_DIAGNOSIS = re.compile(r"\bdiagnos", re.I)


def _diagnosis(summary: str) -> str:
    """The summary's first sentence that gives a diagnosis ("" when none does)."""
    # The word first, then its sentence's bounds: a `[^.]*diagnos[^.]*` search retries
    # from every start of a long sentence (quadratic, and 15% of all parse time).
    text = summary[:4000]
    m = _DIAGNOSIS.search(text)
    if m is None:
        return ""
    end = text.find(".", m.end())
    return text[text.rfind(".", 0, m.start()) + 1 : end if end >= 0 else len(text)]


def _decision(ordinal: int, raw: RawDecision, summary_regions: tuple[str, ...]) -> Decision:
    """Normalize a found item: drug, class, strength, quantity, category, guidelines."""
    part = split_partial(raw.request)
    request = part.request
    match = normalize.find_drug(request)
    drug = match.generic if match else None
    guideline_text = f"{raw.claims_administrator_guideline}\n{raw.maximus_guideline}"
    sources = normalize.guideline_sources(f"{guideline_text}\n{raw.rationale}")
    pages = normalize.mtus_pages(raw.maximus_guideline) or normalize.mtus_pages(
        raw.claims_administrator_guideline
    )
    return Decision(
        ordinal=ordinal,
        request=request,
        outcome=raw.outcome,
        medically_necessary=None if raw.outcome is None else raw.outcome == OUTCOME_OVERTURNED,
        drug=drug,
        drug_as_written=match.as_written if match else None,
        drug_class=match.drug_class if match else None,
        strength=normalize.parse_strength(request),
        quantity=normalize.parse_quantity(request),
        category=normalize.categorize(request, drug),
        claims_administrator_guideline=raw.claims_administrator_guideline,
        maximus_guideline=raw.maximus_guideline,
        guideline_sources=sources,
        mtus_pages=pages,
        rationale=raw.rationale,
        original_request=part.original_request,
        authorized=part.authorized,
        ur_modified=part.ur_modified,
        regions=_regions(request) or summary_regions,
    )


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


def _find_items(layout: str, sections: list[RawSection], lines: list[Line]) -> list[RawDecision]:
    """Items by the layout's structure, falling back to a scan of the whole letter."""
    items: list[RawDecision] = []
    if layout == LAYOUT_PROFESSIONAL or any(s.key == SECTION_ISSUE_AT_DISPUTE for s in sections):
        items = professional_items(
            _lines_of(sections, SECTION_ISSUE_AT_DISPUTE),
            _lines_of(sections, SECTION_GUIDELINES),
            _lines_of(sections, SECTION_RATIONALE),
        )
    if not items:
        items, _ = scan_items(_lines_of(sections, SECTION_DECISIONS))
        items = _rationales_by_order(items, sections)
    if not items:
        summary_at = next((i for i, s in enumerate(sections) if s.key == SECTION_CASE_SUMMARY), -1)
        rest = [ln for s in sections[summary_at + 1 :] for ln in s.lines]
        items, _ = scan_items(rest or lines)
    return items


def parse_text(text: str, *, source: str = "<text>", sha256: str | None = None) -> Determination:
    """Parse one letter's text. Never raises on any input; problems become warnings."""
    digest = sha256 or hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    lines = clean_lines(text)
    plain = join_lines(lines)
    layout = detect_layout("\n".join([ln.text for ln in lines[:400]]))
    raw_sections = split_sections(lines)
    sections = tuple(
        Section(s.key, s.heading, join_lines(s.lines))
        for s in raw_sections
        if s.lines or s.key != SECTION_HEADER
    )
    by_key: dict[str, str] = {}
    for s in sections:
        by_key[s.key] = f"{by_key[s.key]}\n\n{s.text}" if s.key in by_key else s.text
    warnings: list[str] = []
    items = _find_items(layout, raw_sections, lines)
    plain_low = lower_in_place(plain)
    final = next(ifinditer_low(_FINAL_DETERMINATION, plain, plain_low, "final determination"), None)
    if final and items and all(i.outcome is None for i in items):
        word = outcome_word(final.group(1))
        items = [RawDecision(i.request, word, True, *_guidelines_and_rationale(i)) for i in items]
    summary_regions = _regions(_diagnosis(by_key.get(SECTION_CASE_SUMMARY, "")))
    decisions = tuple(_decision(n, raw, summary_regions) for n, raw in enumerate(items, start=1))
    if not decisions:
        warnings.append("no decisions found: the letter is indexed by its text only")
    for d in decisions:
        if d.outcome is None:
            warnings.append(f"decision {d.ordinal}: no outcome stated")
        if not d.request:
            warnings.append(f"decision {d.ordinal}: no request text")
    if not any(s.key != SECTION_HEADER for s in sections) and plain:
        warnings.append("no known section headings: kept as one block of text")
    head = by_key.get(SECTION_HEADER, "")
    # Line by line, so that "State(s) of Licensure:" ends where its line ends.
    credentials = _credential_lines(
        [
            ln
            for s in raw_sections
            if s.key in (SECTION_HOW_MADE, SECTION_QUALIFICATIONS, SECTION_HEADER)
            for ln in s.lines
        ]
    )
    reviewer = _reviewer(credentials)
    if not reviewer.states or not reviewer.specialties:
        fallback = _reviewer("\n".join([ln.text for ln in lines]))
        reviewer = Reviewer(
            reviewer.states or fallback.states, reviewer.specialties or fallback.specialties
        )
    if not reviewer.states:
        warnings.append("reviewer's state of licensure not found")
    summary = by_key.get(SECTION_CASE_SUMMARY, "") or plain
    head_low = lower_in_place(head)
    case_number = _case_number(head, head_low) or _case_number(plain, plain_low)
    # Labelled dates stand in the letter's head, before its first few sections.
    top = (plain[:6000], None if plain_low is None else plain_low[:6000])
    dates = _labelled_dates((head, head_low), top)
    if dates["date_of_injury"] is None:
        dates["date_of_injury"] = _injury_date(summary)
    decision_date, priority, received = _header_fields(head)
    return Determination(
        id=make_id(case_number, source),
        source=source,
        sha256=digest,
        layout=layout,
        case_number=case_number,
        date_assigned=dates["date_assigned"],
        ur_denial_date=dates["ur_denial_date"],
        date_of_injury=dates["date_of_injury"],
        decision_date=decision_date,
        priority=priority,
        application_received=received,
        reviewer=reviewer,
        worker=_worker(summary),
        sections=sections or (Section(SECTION_OTHER, "", plain),),
        decisions=decisions,
        warnings=tuple(warnings),
        parser_version=PARSER_VERSION,
    )


def _guidelines_and_rationale(item: RawDecision) -> tuple[str, str, str]:
    """The guideline and rationale fields of an item, to rebuild it with another outcome."""
    return item.claims_administrator_guideline, item.maximus_guideline, item.rationale


def parse_loaded(loaded: LoadedText) -> Determination:
    """Parse a loaded file (keeps its source path and raw-bytes sha256)."""
    return parse_text(loaded.text, source=loaded.source, sha256=loaded.sha256)
