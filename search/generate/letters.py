"""Generate realistic synthetic IMR determination letters together with their ground truth.

Three layouts (``imr``, ``maximus``, ``professional``), wording and ordering varied at random,
and optional pdftotext-like noise (blank line after every line, hard wraps, hyphenation,
page footers and form feeds, tabs, double spaces, CRLF). Noise never touches the facts the
truth records: request lines, header fields and outcome words are never wrapped or split.

    python -m search.generate OUT_DIR -n 1000 --seed 1 [--layout imr] [--no-noise]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from search.fields import LAYOUT_IMR, LAYOUT_MAXIMUS, LAYOUT_PROFESSIONAL

from . import vocab as V
from .vocab import (
    Block,
    Item,
    date_header,
    draw_item,
    guideline_line,
    pick,
    rationale,
    reviewer,
    reviewer_lines,
    reviewer_prose,
    rint,
    sample,
    summary,
    wpick,
)

GEN_LAYOUTS = (LAYOUT_IMR, LAYOUT_MAXIMUS, LAYOUT_PROFESSIONAL)
UPHELD, OVERTURNED = "Upheld", "Overturned"
_N_DECISIONS_CUM = (62, 84, 93, 97, 100)  # P(1..5 decisions): mean ~1.6
_P_OVERTURNED = 0.1


@dataclass(frozen=True, slots=True)
class TruthDecision:
    """One disputed item as a correct parser must extract it.

    ``request`` is the item as written (no numbering, no trailing colon or outcome);
    ``guideline_sources`` are the sources named as a basis anywhere in the item's guideline
    lines or rationale (a "did not base their decision on the MTUS" mention does not count).
    """

    request: str
    outcome: str  # "Upheld" | "Overturned"
    drug: str | None  # generic, lowercase; "hydrocodone/acetaminophen"
    drug_as_written: str | None  # "Norco", "ZANAFLEX", "Flurbiprofen 20%/Lidocaine 5%"
    category: str  # one of fields.CATEGORIES
    guideline_sources: tuple[str, ...]  # subset of fields.GUIDELINE_SOURCES, in that order


@dataclass(frozen=True, slots=True)
class Truth:
    """What a correct parser must extract from one generated letter."""

    layout: str  # "imr" | "maximus" | "professional"
    case_number: str | None  # "CM13-0012345"
    date_assigned: str | None  # ISO dates
    ur_denial_date: str | None
    date_of_injury: str | None
    states: tuple[str, ...]  # full state names of licensure
    specialties: tuple[str, ...]  # as written; the parser may normalize
    age: int | None
    sex: str | None  # "male" | "female"
    decisions: tuple[TruthDecision, ...]


def truth_to_dict(truth: Truth) -> dict[str, Any]:
    """JSON-ready dict of a Truth."""
    return asdict(truth)


def truth_from_dict(data: dict[str, Any]) -> Truth:
    """Inverse of truth_to_dict (extra keys such as "stem" are ignored)."""
    decisions = tuple(
        TruthDecision(**{**d, "guideline_sources": tuple(d["guideline_sources"])})
        for d in data["decisions"]
    )
    return Truth(
        layout=data["layout"],
        case_number=data["case_number"],
        date_assigned=data["date_assigned"],
        ur_denial_date=data["ur_denial_date"],
        date_of_injury=data["date_of_injury"],
        states=tuple(data["states"]),
        specialties=tuple(data["specialties"]),
        age=data["age"],
        sex=data["sex"],
        decisions=decisions,
    )


def load_truth(path: Path) -> dict[str, Truth]:
    """Read a truth.jsonl written by write_corpus: {stem: Truth}."""
    out: dict[str, Truth] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                data = json.loads(line)
                out[data["stem"]] = truth_from_dict(data)
    return out


# ---------------------------------------------------------------------------- letter facts


@dataclass(slots=True)
class _Facts:
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


def _facts(rng: random.Random) -> _Facts:
    yy = rint(rng, 13, 24)
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
    return _Facts(
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
    )


def _fields(rng: random.Random, wanted: list[tuple[str, str]]) -> list[Block]:
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


def _optional_header(rng: random.Random, f: _Facts, case_label: str, p: float) -> dict[str, Any]:
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
    blocks = _fields(rng, wanted) if wanted else []
    return {"blocks": blocks, "case": case, "assigned": assigned, "ur": ur, "doi": doi}


_HOW_PROSE = (
    "MAXIMUS Federal Services sent the complete case file to an expert reviewer. He/she has no "
    "affiliation with the employer, employee, providers or the claims administrator.",
    "He/she has been in active clinical practice for more than five years and is currently "
    "working at least 24 hours a week in active practice. The expert reviewer was selected based "
    "on his/her clinical experience, education, background, and expertise in the same or similar "
    "specialties that evaluate and/or treat the medical condition and disputed items/services. "
    "He/she is familiar with governing laws and regulations, including the strength of evidence "
    "hierarchy that applies to Independent Medical Review determinations.",
)


def _how_made(rng: random.Random, f: _Facts) -> list[Block]:
    if rng.random() < 0.3:
        blocks: list[Block] = [("P", " ".join(_HOW_PROSE)), ("B", "")]
        blocks.append(("L", "The Expert Reviewer has the following credentials:"))
        return [*blocks, *reviewer_lines(rng, f.states, f.specialty, f.subspecialty)]
    prose = reviewer_prose(rng, f.states, f.specialty, f.subspecialty, f.licensed, "expert")
    return [("P", f"{_HOW_PROSE[0]} {prose} {_HOW_PROSE[1]}")]


def _summary_blocks(rng: random.Random, f: _Facts, doi: bool, ur: date | None) -> list[Block]:
    years = max(2, (f.ur_date - f.injury).days // 365)
    doi_stated = f.injury if doi else None
    paras = summary(rng, f.age, f.sex, doi_stated, ur, f.items, f.ur_date, years)
    out: list[Block] = []
    for p in paras:
        out += [("P", p), ("B", "")]
    return out


_OUTCOME_SENTENCES = {
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


def _imr(rng: random.Random, f: _Facts) -> tuple[list[Block], dict[str, Any]]:
    head = _optional_header(rng, f, "Case Number", 0.45 if rng.random() < 0.5 else 0.0)
    doi_in_summary = rng.random() < 0.88
    blocks: list[Block] = [*head["blocks"], ("B", "")] if head["blocks"] else []
    blocks += [("H", "HOW THE IMR FINAL DETERMINATION WAS MADE"), *_how_made(rng, f), ("B", "")]
    blocks += [("H", "CLINICAL CASE SUMMARY")]
    blocks += [
        ("P", "The expert reviewer developed the following clinical case summary based on a "
              "review of the case file, including all medical records:"),
        ("B", ""),
    ]  # fmt: skip
    blocks += _summary_blocks(rng, f, doi_in_summary, head["ur"])
    blocks.append(("H", "IMR ISSUES, DECISIONS AND RATIONALES"))
    if rng.random() < 0.92:
        blocks.append(
            ("P", "The Final Determination was based on decisions for the disputed "
                  "items/services set forth below:"),
        )  # fmt: skip
    blocks.append(("B", ""))
    style = wpick(rng, ("same", "next", "sentence"), (60, 78, 100))
    numbering = wpick(rng, ("", "1. ", "1) "), (76, 90, 100))
    upper = rng.random() < 0.05
    for i, it in enumerate(f.items, 1):
        num = numbering.replace("1", str(i))
        word = it.outcome.upper() if upper else it.outcome
        if style == "same":
            blocks.append(("L", f"{num}{it.request}:\x01{word}"))
        elif style == "next":
            blocks += [("L", f"{num}{it.request}:"), ("K", word)]
        else:
            blocks.append(("L", f"{num}{it.request}{':' if rng.random() < 0.5 else ''}"))
        blocks.append(("B", ""))
        g1, s1 = guideline_line(rng, it, "Claims Administrator")
        g2, s2 = guideline_line(rng, it, "Expert Reviewer")
        rat, s3 = rationale(rng, it, f.age, f.sex, f.injury if doi_in_summary else None)
        if style == "sentence":
            rat += " " + pick(rng, _OUTCOME_SENTENCES[it.outcome])
        blocks += [("P", f"Claims Administrator guideline: {g1}"), ("B", "")]
        blocks += [("P", f"MAXIMUS guideline: {g2}"), ("B", "")]
        blocks += [("P", f"Decision rationale: {rat}"), ("B", "")]
        it.sources = s1 | s2 | s3
    doi = head["doi"] or (f.injury if doi_in_summary else None)
    return blocks, {**head, "doi": doi}


_MAXIMUS_TOP = (
    ("MAXIMUS FEDERAL SERVICES, INC.", "MAXIMUS Federal Services, Inc."),
    ("Independent Medical Review",),
    ("P.O. Box 138009", "P.O. Box 138009, Sacramento, CA 95813-8009"),
)
_FINAL = {
    (True, False): ("UPHOLD", "none"),
    (False, True): ("OVERTURN", "all"),
    (True, True): ("PARTIAL OVERTURN", "some (but not all)"),
}


def _maximus(rng: random.Random, f: _Facts) -> tuple[list[Block], dict[str, Any]]:
    blocks: list[Block] = [("L", pick(rng, _MAXIMUS_TOP[0][:2])), ("L", _MAXIMUS_TOP[1][0])]
    addr = pick(rng, _MAXIMUS_TOP[2])
    blocks += [("L", addr)] if "," in addr else [("L", addr), ("L", "Sacramento, CA 95813-8009")]
    if rng.random() < 0.5:
        blocks.append(("L", "Fax Number:\x01(916) 605-4280"))
    blocks += [("B", ""), ("H", "Final Determination Letter"), ("B", "")]
    if rng.random() < 0.6:
        blocks += [("L", f"Dated:\x01{date_header(rng, f.letter_date)}"), ("B", "")]
    wanted = [("IMR Case Number", f.case_number), ("Date of Injury", date_header(rng, f.injury))]
    assigned = f.assigned if rng.random() < 0.85 else None
    if assigned:
        wanted.append(("Date Assigned", date_header(rng, assigned)))
    label = pick(rng, ("UR Denial Date", "Date of UR Decision"))
    wanted.append((label, date_header(rng, f.ur_date)))
    for lbl, val, p in (
        ("Claim Number", f"{int(rng.random() * 10**10):010d}", 0.6),
        ("Priority", pick(rng, ("Standard", "Expedited")), 0.5),
        ("Application Received", date_header(rng, f.received), 0.5),
        ("Employee Name", " ".join(f.employee), 0.6),
        ("Provider Name", f.provider, 0.5),
    ):
        if rng.random() < p:
            wanted.append((lbl, val))
    blocks += _fields(rng, wanted)
    if rng.random() < 0.4:
        reqs = ", ".join(it.request for it in f.items)
        blocks.append(("P", f"Request(s) UR Denied for: {reqs}"))
    hon = {"male": "Mr.", "female": "Ms.", None: f.employee[0]}[f.sex]
    blocks += [("B", ""), ("L", f"Dear {hon} {f.employee[1]}:"), ("B", "")]
    blocks += [
        ("P", "MAXIMUS Federal Services has completed the Independent Medical Review (IMR) of the "
              "above workers' compensation case. This letter provides you with the IMR Final "
              "Determination and explains how the determination was made."),
        ("B", ""),
    ]  # fmt: skip
    outcomes = {it.outcome for it in f.items}
    verdict, share = _FINAL[(UPHELD in outcomes, OVERTURNED in outcomes)]
    blocks += [
        ("P", f"Final Determination: {verdict}. This means we decided that {share} of the disputed "
              "items/services are medically necessary and appropriate. A detailed explanation of "
              "the decision for each of the disputed items/services is provided later in this "
              "letter."),
        ("B", ""),
    ]  # fmt: skip
    docs: list[Block] = [("H", "DOCUMENTS REVIEWED"), ("B", "")]
    bullet = pick(rng, ("", "- ", "\u2022 ", "* "))
    for d in sample(rng, V.DOCUMENTS, rint(rng, 3, 7)):
        when = date_header(rng, date.fromordinal(f.ur_date.toordinal() - rint(rng, 0, 300)))
        docs.append(("L", f"{bullet}{d} dated {when}" if rng.random() < 0.6 else f"{bullet}{d}"))
    docs.append(("B", ""))
    how = [("H", pick(rng, ("HOW THE IMR FINAL DETERMINATION WAS MADE",) * 3 + (
        "HOW THE FINAL DETERMINATION WAS MADE",))), *_how_made(rng, f), ("B", "")]  # fmt: skip
    blocks += [*docs, *how] if rng.random() < 0.6 else [*how, *docs]
    blocks += [("H", "CLINICAL CASE SUMMARY"), ("B", "")]
    blocks += _summary_blocks(rng, f, rng.random() < 0.5, f.ur_date)
    blocks += [("H", pick(rng, ("IMR DECISION(S) AND RATIONALE(S)", "IMR ISSUES, DECISIONS AND "
                                 "RATIONALES"))), ("B", "")]  # fmt: skip
    style = pick(rng, ("sentence", "disputed", "request"))
    item_prefix = pick(rng, ("{i}. ", "Item {i}: ", "{i}) "))
    for i, it in enumerate(f.items, 1):
        g, s1 = guideline_line(rng, it, "Expert Reviewer", plain=style == "sentence")
        rat, s2 = rationale(rng, it, f.age, f.sex, None)
        it.sources = s1 | s2
        word = it.outcome.upper() if rng.random() < 0.05 else it.outcome
        if style == "sentence":
            nec = "medically necessary" if it.outcome == OVERTURNED else "not medically necessary"
            blocks += [("L", f"{item_prefix.format(i=i)}{it.request} is {nec} and appropriate.")]
            g0, s0 = guideline_line(rng, it, "Claims Administrator", plain=True)
            it.sources |= s0
            blocks += [("B", ""), ("P", f"The Claims Administrator based its decision on: {g0}")]
            blocks += [("B", ""), ("P", f"The Expert Reviewer based his/her decision on: {g}")]
            blocks += [("B", ""), ("P", f"The Expert Reviewer's decision rationale: {rat}")]
        elif style == "disputed":
            blocks += [("L", f"Disputed Item:\x01{it.request}"), ("K", f"Decision:\x01{word}")]
            blocks += [("B", ""), ("P", f"Guideline(s) Cited: {g}"), ("B", "")]
            blocks += [("P", f"Rationale: {rat}")]
        else:
            late = rng.random() < 0.3
            blocks.append(("L", f"{item_prefix.format(i=i)}Request: {it.request}"))
            if not late:
                blocks.append(("L", f"Determination:\x01{word}"))
            blocks += [("B", ""), ("P", f"Guidelines: {g}"), ("B", ""), ("P", f"Rationale: {rat}")]
            if late:
                blocks += [("B", ""), ("L", f"Determination:\x01{word}")]
        blocks.append(("B", ""))
    blocks += [
        ("P", "Effect of the Decision: This determination is final and binding on the parties. "
              "The determination may be appealed to the Workers' Compensation Appeals Board "
              "within 30 days of the date of this letter."),
        ("B", ""), ("L", "Sincerely,"), ("B", ""),
        ("L", f"{pick(rng, V.FIRST_NAMES)} {pick(rng, V.LAST_NAMES)}, MD, MPH"),
        ("L", "Medical Director"), ("B", ""),
        ("L", "cc: Department of Industrial Relations, Division of Workers' Compensation"),
        ("L", pick(rng, V.ADMINISTRATORS)), ("L", f.provider),
    ]  # fmt: skip
    return blocks, {"case": f.case_number, "assigned": assigned, "ur": f.ur_date, "doi": f.injury}


_WHY = (
    "",
    " This guideline addresses the requested treatment.",
    " The cited guideline is the most appropriate for this condition.",
)


def _professional(rng: random.Random, f: _Facts) -> tuple[list[Block], dict[str, Any]]:
    head = _optional_header(rng, f, pick(rng, ("Case Number", "IMR Case Number")), 0.6)
    blocks: list[Block] = [("H", "MEDICAL PROFESSIONAL REVIEW"), ("B", "")]
    if head["blocks"]:
        hb = [*head["blocks"], ("B", "")]
        blocks = [*hb, *blocks] if rng.random() < 0.3 else [*blocks, *hb]
    n = len(f.items)
    numbering = "1. " if n > 1 and rng.random() < 0.5 else ""
    style = wpick(rng, ("dash", "sentence", "decision"), (60, 80, 100))
    sep = pick(rng, (" - ", " - ", " \u2013 ", ": "))
    issue: list[Block] = []
    for i, it in enumerate(f.items, 1):
        num = numbering.replace("1", str(i))
        verb = "upheld" if it.outcome == UPHELD else "overturned"
        if style == "dash":
            issue.append(("L", f"{num}{it.request}{sep}{it.outcome}"))
        elif style == "sentence":
            lead = pick(rng, ("The", "Upon independent review, the", "After review, the"))
            issue.append(("L", f"{num}{lead} denial of {it.request} is {verb}."))
        else:
            issue += [("L", f"{num}{it.request}"), ("K", f"Decision:\x01{it.outcome}")]
    if n == 1 and style == "dash" and rng.random() < 0.3:
        blocks += [("H", f"ISSUE AT DISPUTE:\x01{issue[0][1]}"), ("B", "")]
    else:
        blocks += [("H", "ISSUE AT DISPUTE:"), *issue, ("B", "")]
    doi_in = rng.random() < 0.85
    summ = [("H", "CASE SUMMARY:"), *_summary_blocks(rng, f, doi_in, head["ur"])]
    docs: list[Block] = [("H", "DOCUMENTS REVIEWED FOR DETERMINATION:")]
    for d in sample(rng, V.DOCUMENTS, rint(rng, 2, 6)):
        docs.append(("L", f"- {d}" if rng.random() < 0.5 else d))
    docs.append(("B", ""))
    blocks += [*summ, *docs] if rng.random() < 0.75 else [*docs, *summ]
    guide: list[Block] = [
        ("H", "MEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:")
    ]
    rat: list[Block] = [
        ("H", "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY:")
    ]
    for i, it in enumerate(f.items, 1):
        g, s1 = guideline_line(rng, it, "reviewer", plain=True)
        r, s2 = rationale(rng, it, f.age, f.sex, f.injury if doi_in else None)
        it.sources = s1 | s2
        label: list[Block] = []
        if n > 1:
            label = [("L", f"{i}. {it.request}" if numbering else f"{it.request}:")]
        why = pick(rng, _WHY)
        guide += [*label, ("P", g + why), ("B", "")]
        rat += [*label, ("P", r), ("B", "")]
    blocks += [*guide, *rat, ("H", "MEDICAL REVIEWER QUALIFICATIONS:")]
    if rng.random() < 0.5:
        blocks += reviewer_lines(rng, f.states, f.specialty, f.subspecialty)
    else:
        prose = reviewer_prose(rng, f.states, f.specialty, f.subspecialty, f.licensed, "pro")
        blocks.append(("P", prose))
    if rng.random() < 0.5:
        blocks += [
            ("B", ""),
            ("P", "The reviewer attests that no conflict of interest exists with any party to "
                  "this review."),
        ]  # fmt: skip
    doi = head["doi"] or (f.injury if doi_in else None)
    return blocks, {**head, "doi": doi}


# ---------------------------------------------------------------------------- rendering

_WRAP: dict[int, re.Pattern[str]] = {}
_NO_HYPHEN = V.DRUG_WORDS | {"upheld", "overturned"}
_FOOTERS = (("", "Page {p} of {t}"), ("Page {p}",), (), ("", "", ""))


def _wrap(width: int) -> re.Pattern[str]:
    pat = _WRAP.get(width)
    if pat is None:
        pat = _WRAP[width] = re.compile(rf"(.{{1,{width}}})(?:\s+|$)")
    return pat


def _hyphenate(rng: random.Random, chunks: list[str]) -> None:
    """Split the first word of some wrapped lines across the break: "medi-" / "cation"."""
    for i in range(len(chunks) - 1):
        if rng.random() < 0.2:
            nxt = chunks[i + 1]
            sp = nxt.find(" ")
            word = nxt if sp < 0 else nxt[:sp]
            if len(word) >= 8 and word.isalpha() and word.islower() and word not in _NO_HYPHEN:
                cut = rint(rng, 3, len(word) - 3)
                chunks[i] += f" {word[:cut]}-"
                chunks[i + 1] = nxt[cut:]


def _page_breaks(rng: random.Random, lines: list[str], glued: set[int]) -> None:
    """Insert footers and form feeds at a few line boundaries (never before a glued line)."""
    n = len(lines)
    if n < 12:
        return
    k = rint(rng, 1, max(1, n // 45))
    spots = sorted({p for p in sample(rng, range(5, n - 2), k) if p not in glued}, reverse=True)
    footer = pick(rng, _FOOTERS)
    total = len(spots) + 1
    ff = footer != ("", "", "")
    for j, pos in enumerate(spots):
        page = total - 1 - j
        if ff:
            lines[pos] = "\f" + lines[pos]
        lines[pos:pos] = [x.format(p=page, t=total) for x in footer]


def render(rng: random.Random, blocks: Sequence[Block], noise: bool) -> str:
    """The text of a letter: clean (one line per paragraph) or with pdftotext-like noise."""
    if not noise:
        out: list[str] = []
        for kind, text in blocks:
            if kind != "B" or (out and out[-1]):
                out.append(text)
        return "\n".join(out).strip("\n").replace("\x01", " ").replace("\x02", "    ") + "\n"
    wrap = rng.random() < 0.9
    width = rint(rng, 86, 100)
    hyph = rng.random() < 0.35
    dbl = rng.random() < 0.35
    lead = rng.random() < 0.3
    tabs = rng.random() < 0.15
    sep = "\t" if tabs and rng.random() < 0.5 else pick(rng, (" ", " ", "  ", "   "))
    gap = "\t" if tabs else " " * rint(rng, 3, 14)
    pat = _wrap(width)
    lines: list[str] = []
    glued: set[int] = set()
    for kind, text in blocks:
        if kind == "P":
            if dbl:
                text = text.replace(". ", ".  ")
            if wrap and len(text) > width:
                chunks = pat.findall(text)
                if hyph:
                    _hyphenate(rng, chunks)
                lines += chunks
            else:
                lines.append(text)
        elif kind == "B":
            if lines and lines[-1]:
                lines.append("")
        elif kind == "K":
            glued.add(len(lines))
            lines.append(text)
        else:
            lines.append(f" {text}" if lead and kind == "H" else text)
    if rng.random() < 0.4:
        _page_breaks(rng, lines, glued)
    end = (" \n" if rng.random() < 0.6 else "\n") + ("\n" if rng.random() < 0.45 else "")
    text = end.join(lines) + end
    text = text.replace("\x01", sep).replace("\x02", gap)
    return text.replace("\n", "\r\n") if rng.random() < 0.1 else text


_BUILDERS = {LAYOUT_IMR: _imr, LAYOUT_MAXIMUS: _maximus, LAYOUT_PROFESSIONAL: _professional}
_SOURCE_ORDER = ("MTUS", "ODG", "ACOEM")


def generate_letter(
    rng: random.Random, *, layout: str | None = None, noise: bool = True
) -> tuple[str, Truth]:
    """One letter and its truth. The truth depends only on the rng state, not on ``noise``."""
    if layout is None:
        layout = pick(rng, GEN_LAYOUTS)
    f = _facts(rng)
    blocks, got = _BUILDERS[layout](rng, f)
    truth = Truth(
        layout=layout,
        case_number=got["case"],
        date_assigned=got["assigned"].isoformat() if got["assigned"] else None,
        ur_denial_date=got["ur"].isoformat() if got["ur"] else None,
        date_of_injury=got["doi"].isoformat() if got["doi"] else None,
        states=f.states,
        specialties=(f.specialty, f.subspecialty) if f.subspecialty else (f.specialty,),
        age=f.age,
        sex=f.sex,
        decisions=tuple(
            TruthDecision(
                request=it.request,
                outcome=it.outcome,
                drug=it.drug,
                drug_as_written=it.as_written,
                category=it.category,
                guideline_sources=tuple(s for s in _SOURCE_ORDER if s in it.sources),
            )
            for it in f.items
        ),
    )
    return render(rng, blocks, noise), truth


def generate_corpus(
    n: int, seed: int = 0, *, layouts: Sequence[str] | None = None, noise: bool = True
) -> Iterator[tuple[str, str, Truth]]:
    """(file stem, text, truth) for n letters; layouts cycle evenly. Letter i is reproducible
    on its own: it depends only on (seed, i)."""
    cycle = tuple(layouts) if layouts else GEN_LAYOUTS
    for i in range(n):
        layout = cycle[i % len(cycle)]
        rng = random.Random(seed * 1_000_003 + i)
        text, truth = generate_letter(rng, layout=layout, noise=noise)
        yield f"{i:06d}_{layout}", text, truth


def write_corpus(directory: Path, n: int, seed: int = 0, **kw: Any) -> list[Path]:
    """Write <stem>.txt for each letter and truth.jsonl ({"stem": ..., **truth}) to directory."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with (directory / "truth.jsonl").open("w", encoding="utf-8") as tf:
        for stem, text, truth in generate_corpus(n, seed, **kw):
            path = directory / f"{stem}.txt"
            path.write_text(text, encoding="utf-8", newline="")
            tf.write(json.dumps({"stem": stem, **truth_to_dict(truth)}) + "\n")
            paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write a corpus of generated letters and its truth.jsonl."""
    p = argparse.ArgumentParser(prog="python -m search.generate", description=__doc__)
    p.add_argument("out_dir", type=Path, help="directory to write <stem>.txt and truth.jsonl")
    p.add_argument("-n", type=int, default=1000, help="number of letters (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", action="append", choices=GEN_LAYOUTS, help="repeatable")
    p.add_argument("--no-noise", action="store_true", help="clean text: no pdftotext noise")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    noise = not args.no_noise
    paths = write_corpus(args.out_dir, args.n, args.seed, layouts=args.layout, noise=noise)
    dt = time.perf_counter() - t0
    print(f"wrote {len(paths)} letters to {args.out_dir} in {dt:.2f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
