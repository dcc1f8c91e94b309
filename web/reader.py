"""Pure view model of a determination read as precedent: marked text, each decision once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from search.engine.highlight import Terms, mark_all
from search.fields import (
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_QUALIFICATIONS,
    SECTION_RATIONALE,
)
from search.model import Decision, Determination

from .app import paragraphs

# Sections whose text the decision items carry (as the index does, search/engine/docs.py):
# shown once, as the decisions, where the first of them stands in the letter.
DECISION_SECTIONS: Final = (SECTION_DECISIONS, SECTION_RATIONALE)
# The text field whose query words are marked in a section (the same fields the index uses).
SECTION_FIELDS: Final = {
    SECTION_ISSUE_AT_DISPUTE: "summary",
    SECTION_CASE_SUMMARY: "summary",
    SECTION_QUALIFICATIONS: "reviewer",
}
NO_TERMS: Final = Terms()
MIN_INTRO_WORDS: Final = 3
MAX_ITEM_LINE: Final = 600  # characters: longer "lines" are merged paragraphs, not item lines


@dataclass(frozen=True, slots=True)
class ReaderDecision:
    """One decision with its texts as escaped HTML (query words in <mark>)."""

    decision: Decision
    matched: bool  # matched the search the reader came from
    request: str
    rationale: tuple[str, ...]  # paragraphs
    claims_administrator_guideline: str
    maximus_guideline: str
    item_line: str = ""  # the item line as written when it says more than the request

    @property
    def anchor(self) -> str:
        """The decision's permalink anchor."""
        return f"decision-{self.decision.ordinal}"


@dataclass(frozen=True, slots=True)
class ReaderSection:
    """A letter section as escaped HTML paragraphs; `decisions` marks where they are shown."""

    anchor: str
    key: str
    heading: str
    paragraphs: tuple[str, ...]
    decisions: bool = False


@dataclass(frozen=True, slots=True)
class Reader:
    """The letter in reading order, its decisions, and what matched the search (if any)."""

    sections: tuple[ReaderSection, ...]
    decisions: tuple[ReaderDecision, ...]
    matched: tuple[int, ...] | None  # None when not arriving from a search

    @property
    def first_anchor(self) -> str | None:
        """Anchor of the first matching decision in letter order."""
        if not self.matched:
            return None
        return f"decision-{min(self.matched)}"

    @property
    def marks(self) -> int:
        """How many query words are marked on the page."""
        texts = [p for s in self.sections for p in s.paragraphs]
        for d in self.decisions:
            texts += [d.request, *d.rationale, d.claims_administrator_guideline]
            texts += [d.maximus_guideline, d.item_line]
        return sum(t.count("<mark>") for t in texts)


def _fold(text: str) -> str:
    """Whitespace folded and lowercased, to compare a request with the letter's text."""
    return " ".join(text.split()).lower()


def lead_in(text: str, decisions: tuple[Decision, ...]) -> list[str]:
    """Paragraphs of a decisions section before its first decision item (its introduction).

    Structure only: the first paragraph that contains a decision's request starts the items
    (text before the request in that paragraph is kept); when none does, nothing is kept
    (never repeat a decision).
    """
    requests = [_fold(d.request) for d in decisions if d.request.strip()]
    paras = paragraphs(text)
    for i, para in enumerate(paras):
        folded = para.lower()  # paragraphs() already folded the whitespace
        starts = [folded.find(r) for r in requests if r in folded]
        if starts:
            head = para[: min(starts)].strip()
            # an item number or a short label before the request is not an introduction
            keep = len(re.findall(r"[^\W\d_]+", head)) >= MIN_INTRO_WORDS
            return [*paras[:i], head] if keep else paras[:i]
    return []


def item_line(text: str, d: Decision) -> str:
    """The decision's item line as written, when it says more than the request and outcome.

    E.g. a partly authorized request ("X was the original request. Y was authorized ...
    The remaining portion, Z: Upheld"). Structure only: the paragraph of the decisions
    section holding the request and ending with the outcome; "" when there is none.
    """
    request = _fold(d.request)
    if not request or not d.outcome:
        return ""
    outcome = re.compile(re.escape(d.outcome.lower()) + r"\W*$")
    for para in paragraphs(text):
        folded = para.lower()
        if request in folded and outcome.search(folded) and len(para) <= MAX_ITEM_LINE:
            rest = folded.replace(request, " ", 1)
            if len(re.findall(r"[^\W\d_]+", rest)) > 1:  # words beyond the outcome
                return para
    return ""


def _marked(paras: list[str], terms: Terms) -> tuple[str, ...]:
    """Paragraphs as escaped HTML with the terms marked."""
    return tuple(mark_all(p, terms) for p in paras)


def reader_decision(
    d: Decision, terms: Mapping[str, Terms], matched: bool, section_text: str = ""
) -> ReaderDecision:
    """A decision's texts marked with the request and rationale fields' terms."""
    req, why = terms.get("request", NO_TERMS), terms.get("rationale", NO_TERMS)
    return ReaderDecision(
        decision=d,
        matched=matched,
        request=mark_all(d.request, req),
        rationale=_marked(paragraphs(d.rationale), why),
        claims_administrator_guideline=mark_all(d.claims_administrator_guideline, why),
        maximus_guideline=mark_all(d.maximus_guideline, why),
        item_line=mark_all(item_line(section_text, d), req),
    )


def build_reader(
    record: Determination,
    terms: Mapping[str, Terms] | None = None,
    matched: tuple[int, ...] | None = None,
) -> Reader:
    """The reader of a record: sections (anchors unique), each decision once, marks, matches."""
    terms = terms or {}
    matched_set = set(matched or ())
    items = "\n\n".join(s.text for s in record.sections if s.key == SECTION_DECISIONS)
    decisions = tuple(
        reader_decision(d, terms, d.ordinal in matched_set, items) for d in record.decisions
    )
    seen: dict[str, int] = {}
    sections: list[ReaderSection] = []
    placed = False
    for section in record.sections:
        seen[section.key] = seen.get(section.key, 0) + 1
        n = seen[section.key]
        anchor = f"section-{section.key}" + (f"-{n}" if n > 1 else "")
        field_terms = terms.get(SECTION_FIELDS.get(section.key, "other"), NO_TERMS)
        if decisions and section.key in DECISION_SECTIONS:
            if placed:
                continue  # a second decisions/rationale section: its text is in the items
            placed = True
            intro = lead_in(section.text, record.decisions)
            sections.append(
                ReaderSection(
                    anchor, section.key, section.heading, _marked(intro, field_terms), True
                )
            )
            continue
        paras = _marked(paragraphs(section.text), field_terms)
        sections.append(ReaderSection(anchor, section.key, section.heading, paras))
    if decisions and not placed:  # a letter whose items came from elsewhere: show them last
        anchor = f"section-{SECTION_DECISIONS}"
        sections.append(ReaderSection(anchor, SECTION_DECISIONS, "", (), True))
    return Reader(tuple(sections), decisions, None if matched is None else tuple(sorted(matched)))
