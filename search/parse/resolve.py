"""Stage 3, resolve: a letter's text into a typed Determination record."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from ..fields import (
    OUTCOME_OVERTURNED,
    SECTION_CASE_SUMMARY,
    SECTION_HEADER,
    SECTION_HOW_MADE,
    SECTION_OTHER,
    SECTION_QUALIFICATIONS,
)
from ..model import PARSER_VERSION, Decision, Determination, Reviewer, Section
from . import normalize
from .clean import (
    clean_lines,
    ifinditer,
    ifinditer_low,
    join_lines,
    lower_in_place,
)
from .find import find_items
from .grammar import outcome_word
from .header import find_case_number, header_fields, injury_date, labelled_dates, make_id
from .items import RawDecision
from .partial import split_partial
from .people import credential_lines, reviewer_of, worker_of
from .sections import detect_layout, split_sections

if TYPE_CHECKING:
    from .load import LoadedText

_INFERRED = "no outcome label or sentence; read from its statement of medical necessity"
_FINAL_DETERMINATION = re.compile(r"final determination\s*:?\s*(uphold|overturn)\w*\b", re.I)


def _regions(text: str) -> tuple[str, ...]:
    """Body regions of a text, by the vocabulary's table when it has one."""
    return tuple(normalize.body_regions(text))


_DIAGNOSIS = re.compile(r"\bdiagnos", re.I)


def _diagnosis(summary: str) -> str:
    """The summary's first sentence that gives a diagnosis ("" when none does)."""
    # The word first, then its sentence's bounds: a `[^.]*diagnos[^.]*` search retries
    # from every start of a long sentence (quadratic, and 15% of all parse time).
    text = summary[:4000]
    m = next(ifinditer(_DIAGNOSIS, text, "diagnos"), None)
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
    items, by_fallback = find_items(layout, raw_sections, lines)
    plain_low = lower_in_place(plain)
    final = next(ifinditer_low(_FINAL_DETERMINATION, plain, plain_low, "final determination"), None)
    if final and items and all(i.outcome is None for i in items):
        word = outcome_word(final.group(1))
        items = [RawDecision(i.request, word, True, *_guidelines_and_rationale(i)) for i in items]
    summary_regions = _regions(_diagnosis(by_key.get(SECTION_CASE_SUMMARY, "")))
    decisions = tuple(_decision(n, raw, summary_regions) for n, raw in enumerate(items, start=1))
    if not decisions:
        warnings.append("no decisions found: the letter is indexed by its text only")
    elif by_fallback:
        warnings.append(f"decisions found by the fallback: no known decisions section ({layout})")
    for d in decisions:
        if d.outcome is None:
            warnings.append(f"decision {d.ordinal}: no outcome stated")
        elif not items[d.ordinal - 1].outcome_stated:
            warnings.append(f"decision {d.ordinal}: outcome inferred: {_INFERRED}")
        if not d.request:
            warnings.append(f"decision {d.ordinal}: no request text")
    if not any(s.key != SECTION_HEADER for s in sections) and plain:
        warnings.append("no known section headings: kept as one block of text")
    head = by_key.get(SECTION_HEADER, "")
    # Line by line, so that "State(s) of Licensure:" ends where its line ends.
    credentials = credential_lines(
        [
            ln
            for s in raw_sections
            if s.key in (SECTION_HOW_MADE, SECTION_QUALIFICATIONS, SECTION_HEADER)
            for ln in s.lines
        ]
    )
    reviewer = reviewer_of(credentials)
    if not reviewer.states or not reviewer.specialties:
        fallback = reviewer_of("\n".join([ln.text for ln in lines]))
        reviewer = Reviewer(
            reviewer.states or fallback.states, reviewer.specialties or fallback.specialties
        )
    if not reviewer.states:
        warnings.append("reviewer's state of licensure not found")
    summary = by_key.get(SECTION_CASE_SUMMARY, "") or plain
    head_low = lower_in_place(head)
    case_number = find_case_number(head, head_low) or find_case_number(plain, plain_low)
    # Labelled dates stand in the letter's head, before its first few sections.
    top = (plain[:6000], None if plain_low is None else plain_low[:6000])
    dates = labelled_dates((head, head_low), top)
    if dates["date_of_injury"] is None:
        dates["date_of_injury"] = injury_date(summary)
    decision_date, priority, received = header_fields(head)
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
        worker=worker_of(summary),
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
