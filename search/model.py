"""Typed, frozen records of a parsed determination letter."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Final

from .fields import OUTCOME_OVERTURNED

# The parser's version, stored with every parsed letter: raise it whenever a change to the
# parser changes what it reads, and `imr-search index` parses older letters again.
PARSER_VERSION: Final = 7


@dataclass(frozen=True, slots=True)
class Reviewer:
    """The expert reviewer: states of licensure (full names) and specialties."""

    states: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Worker:
    """The injured worker, as far as the letter says."""

    age: int | None = None
    sex: str | None = None  # "male" | "female"


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a letter: stable key, heading as written, de-noised text."""

    key: str
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    """One disputed item and the reviewer's decision on it."""

    ordinal: int
    request: str
    outcome: str | None  # "Upheld" | "Overturned" | None when not stated
    medically_necessary: bool | None
    drug: str | None = None  # generic, lowercase; "hydrocodone/acetaminophen"
    drug_as_written: str | None = None  # "Zanaflex"
    drug_class: str | None = None
    strength: str | None = None  # "4 mg", "10/325 mg", "1%"
    quantity: str | None = None  # "30"
    category: str = "other"
    claims_administrator_guideline: str = ""
    maximus_guideline: str = ""
    guideline_sources: tuple[str, ...] = ()  # subset of fields.GUIDELINE_SOURCES
    mtus_pages: tuple[str, ...] = ()  # ("66",), ("78", "91"), ("63-68",)
    rationale: str = ""
    # A partial approval: UR authorized part of the original request and IMR decided the
    # remaining portion (then `request`); both "" when UR did not modify the request.
    original_request: str = ""
    authorized: str = ""
    ur_modified: bool = False
    regions: tuple[str, ...] = ()  # body regions of the request and the letter's summary

    @property
    def overturned(self) -> bool:
        """True when the denial was overturned."""
        return self.outcome == OUTCOME_OVERTURNED


@dataclass(frozen=True, slots=True)
class Determination:
    """A parsed IMR final determination letter."""

    id: str
    source: str
    sha256: str
    layout: str
    case_number: str | None = None
    date_assigned: str | None = None  # ISO dates, "2014-01-31"
    ur_denial_date: str | None = None
    date_of_injury: str | None = None
    decision_date: str | None = None  # the header's Decision Date, else the letter's date
    priority: str | None = None  # "regular" | "expedited"
    application_received: str | None = None
    reviewer: Reviewer = field(default_factory=Reviewer)
    worker: Worker = field(default_factory=Worker)
    sections: tuple[Section, ...] = ()
    decisions: tuple[Decision, ...] = ()
    warnings: tuple[str, ...] = ()
    parser_version: int = 0  # PARSER_VERSION of the parser that read it (0: unknown, old)

    def section(self, key: str) -> str:
        """Text of the section with this key ("" when absent)."""
        return "\n\n".join(s.text for s in self.sections if s.key == key)

    @property
    def year(self) -> int | None:
        """Year of the determination: decision date, else date assigned, else the case
        number's (CM13 -> 2013)."""
        if self.decision_date:
            return int(self.decision_date[:4])
        if self.date_assigned:
            return int(self.date_assigned[:4])
        if self.case_number and len(self.case_number) >= 4 and self.case_number[2:4].isdigit():
            return 2000 + int(self.case_number[2:4])
        return None

    @property
    def text(self) -> str:
        """The whole de-noised text, section by section."""
        return "\n\n".join(s.text for s in self.sections)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: nested reviewer/worker, sections as {key: text}, decisions as a list."""
        # What asdict gives, built directly: asdict deep-copies every value through a
        # recursive generic walk (a tenth of an index worker's time per letter).
        data = {name: getattr(self, name) for name in _DETERMINATION_FIELDS}
        data["reviewer"] = _flat(self.reviewer)
        data["worker"] = _flat(self.worker)
        data["decisions"] = tuple(_flat(d) for d in self.decisions)
        sections: dict[str, str] = {}
        for s in self.sections:
            sections[s.key] = f"{sections[s.key]}\n\n{s.text}" if s.key in sections else s.text
        data["sections"] = sections
        data["year"] = self.year
        return data


def _flat(obj: Reviewer | Worker | Decision) -> dict[str, Any]:
    """A record whose fields are scalars or tuples of scalars, as a dict (as asdict)."""
    return {name: getattr(obj, name) for name in _FIELDS[type(obj)]}


_FIELDS: Final = {cls: tuple(f.name for f in fields(cls)) for cls in (Reviewer, Worker, Decision)}
_DETERMINATION_FIELDS: Final = tuple(f.name for f in fields(Determination))


def determination_from_dict(data: dict[str, Any]) -> Determination:
    """Inverse of Determination.to_dict (sections come back in key order)."""
    decisions = tuple(
        Decision(
            **{
                **d,
                "guideline_sources": tuple(d.get("guideline_sources", ())),
                "mtus_pages": tuple(d.get("mtus_pages", ())),
                "regions": tuple(d.get("regions", ())),
            }
        )
        for d in data.get("decisions", ())
    )
    rev = data.get("reviewer") or {}
    wrk = data.get("worker") or {}
    return Determination(
        id=data["id"],
        source=data["source"],
        sha256=data["sha256"],
        layout=data["layout"],
        case_number=data.get("case_number"),
        date_assigned=data.get("date_assigned"),
        ur_denial_date=data.get("ur_denial_date"),
        date_of_injury=data.get("date_of_injury"),
        decision_date=data.get("decision_date"),
        priority=data.get("priority"),
        application_received=data.get("application_received"),
        reviewer=Reviewer(tuple(rev.get("states", ())), tuple(rev.get("specialties", ()))),
        worker=Worker(wrk.get("age"), wrk.get("sex")),
        sections=tuple(Section(k, k, v) for k, v in (data.get("sections") or {}).items()),
        decisions=decisions,
        warnings=tuple(data.get("warnings", ())),
        parser_version=int(data.get("parser_version") or 0),
    )
