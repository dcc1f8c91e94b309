"""Facts of a generated letter and the parts several layouts share (header fields, the
reviewer paragraph, the clinical summary)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import vocab as V
from .traps import date_of_service, make_partial, wrap_credentials
from .vocab import (
    Block,
    Item,
    date_header,
    draw_item,
    pick,
    reviewer,
    reviewer_lines,
    reviewer_prose,
    rint,
    summary,
)

UPHELD, OVERTURNED = "Upheld", "Overturned"
_N_DECISIONS_CUM = (62, 84, 93, 97, 100)  # P(1..5 decisions): mean ~1.6
_P_OVERTURNED = 0.1
_P_PARTIAL = 0.25  # letters (with traps) where UR authorized part of one request
_P_DOS = 0.06  # requests (with traps) ending in "DOS: <date>"


@dataclass(slots=True)
class Facts:
    """What one letter states, before a layout words it."""

    case_number: str
    assigned: date
    ur_date: date
    received: date
    letter_date: date
    injury: date
    age: int | None
    sex: str | None
    states: tuple[str, ...]
    specialty: str
    subspecialty: str | None
    licensed: bool
    employee: tuple[str, str]
    provider: str
    items: list[Item]
    traps: bool = False  # draw the hard cases (see traps.py)


def facts(rng: random.Random, traps: bool = False, years: tuple[int, int] = (13, 24)) -> Facts:
    """Draw a letter's facts; with traps, one request in four letters is partly approved."""
    yy = rint(rng, *years)
    assigned = date.fromordinal(date(2000 + yy, 1, 1).toordinal() + int(rng.random() * 365))
    ur_date = date.fromordinal(assigned.toordinal() - rint(rng, 12, 75))
    received = date.fromordinal(ur_date.toordinal() + rint(rng, 3, 10))
    injury = date.fromordinal(ur_date.toordinal() - rint(rng, 90, 9000))
    sex = None if rng.random() < 0.06 else ("male" if rng.random() < 0.55 else "female")
    age = None if rng.random() < 0.05 else rint(rng, 19, 74)
    states, spec, sub, licensed = reviewer(rng)
    r = rng.random()
    n = next(k for k, c in enumerate(_N_DECISIONS_CUM, 1) if r * 100 < c)
    outcomes = [OVERTURNED if rng.random() < _P_OVERTURNED else UPHELD for _ in range(n)]
    items = [draw_item(rng, o) for o in outcomes]
    if traps and rng.random() < _P_PARTIAL:
        for k in sorted(range(n), key=lambda _: rng.random()):
            if make_partial(rng, items[k]):
                break
    if traps:
        for it in items:
            if not it.lead and "DOS" not in it.request and rng.random() < _P_DOS:
                date_of_service(rng, it, ur_date.year)
    return Facts(
        case_number=f"CM{yy:02d}-{int(rng.random() * 10_000_000):07d}",
        assigned=assigned,
        ur_date=ur_date,
        received=received,
        letter_date=date.fromordinal(assigned.toordinal() + rint(rng, 5, 40)),
        injury=injury,
        age=age,
        sex=sex,
        states=states,
        specialty=spec,
        subspecialty=sub,
        licensed=licensed,
        employee=(pick(rng, V.FIRST_NAMES), pick(rng, V.LAST_NAMES)),
        provider=f"{pick(rng, V.FIRST_NAMES)} {pick(rng, V.LAST_NAMES)}, MD",
        items=items,
        traps=traps,
    )


def fields(rng: random.Random, wanted: list[tuple[str, str]]) -> list[Block]:
    """Header field lines "Label:\\x01value", shuffled a little, sometimes two to a line."""
    if rng.random() < 0.3:
        rng.shuffle(wanted)
    pair = rng.random() < 0.35
    out: list[Block] = []
    i = 0
    while i < len(wanted):
        label, value = wanted[i]
        text = f"{label}:\x01{value}"
        if pair and i + 1 < len(wanted) and len(text) < 45:
            label2, value2 = wanted[i + 1]
            text += f"\x02{label2}:\x01{value2}"
            i += 1
        out.append(("L", text))
        i += 1
    return out


def optional_header(rng: random.Random, f: Facts, case_label: str, p: float) -> dict[str, Any]:
    """Draw which optional header fields appear; returns the blocks and the truth they carry."""
    wanted: list[tuple[str, str]] = []
    case = f.case_number if rng.random() < p else None
    if case:
        wanted.append((case_label, case))
    assigned = f.assigned if rng.random() < p * 0.9 else None
    if assigned:
        wanted.append(("Date Assigned", date_header(rng, assigned)))
    ur = f.ur_date if rng.random() < p * 0.8 else None
    if ur:
        label = pick(rng, ("UR Denial Date", "UR Denial Date", "Date of UR Decision"))
        wanted.append((label, date_header(rng, ur)))
    doi = f.injury if rng.random() < p * 0.4 else None
    if doi:
        wanted.append(("Date of Injury", date_header(rng, doi)))
    if rng.random() < p * 0.4:
        wanted.append(("Priority", pick(rng, ("Standard", "Expedited"))))
    if rng.random() < p * 0.4:
        wanted.append(("Application Received", date_header(rng, f.received)))
    if rng.random() < p * 0.4:
        wanted.append(("Employee Name", " ".join(f.employee)))
    if rng.random() < p * 0.4:
        wanted.append(("Claim Number", f"{int(rng.random() * 10**9):09d}"))
    if rng.random() < p * 0.3:
        wanted.append(("Provider Name", f.provider))
    blocks = fields(rng, wanted) if wanted else []
    return {"blocks": blocks, "case": case, "assigned": assigned, "ur": ur, "doi": doi}


HOW_PROSE = (
    "MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no "
    "affiliation with the employer, employee, providers or the claims administrator.",
    "He/she has been in active clinical practice for more than five years and is currently "
    "working at least 24 hours a week in active practice. The expert reviewer was selected based "
    "on his/her clinical experience, education, background, and expertise in the same or similar "
    "specialties that evaluate and/or treat the medical condition and disputed items/services. "
    "He/she is familiar with governing laws and regulations, including the strength of evidence "
    "hierarchy that applies to Independent Medical Review determinations.",
)


def credential_lines(rng: random.Random, f: Facts) -> list[Block]:
    """ "State(s) of Licensure:" / "Certification(s)/Specialty:" lines (wrapped with traps)."""
    lines = reviewer_lines(rng, f.states, f.specialty, f.subspecialty)
    return wrap_credentials(rng, lines) if f.traps else lines


def how_made(rng: random.Random, f: Facts) -> list[Block]:
    """The reviewer paragraph of the imr and maximus layouts: prose or credential lines."""
    if rng.random() < 0.3:
        blocks: list[Block] = [("P", " ".join(HOW_PROSE)), ("B", "")]
        blocks.append(("L", "The Expert Reviewer has the following credentials:"))
        return [*blocks, *credential_lines(rng, f)]
    prose = reviewer_prose(rng, f.states, f.specialty, f.subspecialty, f.licensed, "expert")
    return [("P", f"{HOW_PROSE[0]} {prose} {HOW_PROSE[1]}")]


def summary_blocks(rng: random.Random, f: Facts, doi: bool, ur: date | None) -> list[Block]:
    """The clinical case summary's paragraphs."""
    years = max(2, (f.ur_date - f.injury).days // 365)
    doi_stated = f.injury if doi else None
    paras = summary(rng, f.age, f.sex, doi_stated, ur, f.items, f.ur_date, years)
    out: list[Block] = []
    for p in paras:
        out += [("P", p), ("B", "")]
    return out


OUTCOME_SENTENCES = {
    UPHELD: (
        "The decision regarding this request is upheld.",
        "Therefore the Utilization Review decision is upheld.",
        "The prior Utilization Review denial is upheld.",
    ),
    OVERTURNED: (
        "The decision regarding this request is overturned.",
        "Therefore the Utilization Review decision is overturned.",
        "The prior Utilization Review denial is overturned.",
    ),
}
