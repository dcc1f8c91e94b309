"""Layouts of other eras and issuers: the 2013 notice, and a layout nobody taught the parser.

Written from the structure of such letters (their headings, numbered decision sentences and
labelled parts), never from any real letter's wording.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any, Final

from . import vocab as V
from .common import OVERTURNED, UPHELD, Facts, credential_lines, fields, summary_blocks
from .traps import guideline_blocks, heading, rationale_blocks
from .vocab import (
    Block,
    Item,
    date_header,
    guideline_line,
    pick,
    rationale,
    reviewer_prose,
    rint,
    sample,
)

LAYOUT_NOTICE2013: Final = "notice2013"  # "Notice of Independent Medical Review Determination"
LAYOUT_HEADED: Final = "maximus-headed"  # maximus, items as numbered headings + a sentence


def _guide(rng: random.Random, f: Facts, text: str) -> list[Block]:
    return guideline_blocks(rng, text) if f.traps else [("P", text)]


def _why(rng: random.Random, f: Facts, label: str, text: str) -> list[Block]:
    return rationale_blocks(rng, label, text) if f.traps else [("P", f"{label}{text}")]


def _item_parts(
    rng: random.Random, f: Facts, it: Item, labels: tuple[tuple[str, ...], tuple[str, ...]]
) -> list[Block]:
    """An item's guideline and rationale paragraphs, under labels drawn from `labels`."""
    g, s1 = guideline_line(rng, it, "Expert Reviewer", plain=rng.random() < 0.5)
    rat, s2 = rationale(rng, it, f.age, f.sex, None)
    it.sources = s1 | s2
    out = [*_guide(rng, f, f"{pick(rng, labels[0])} {g}"), ("B", "")]
    return [*out, *_why(rng, f, f"{pick(rng, labels[1])} ", rat), ("B", "")]


# ---------------------------------------------------------------------------- 2013 notice

_LETTERHEAD = ("MAXIMUS FEDERAL SERVICES, INC.", "MAXIMUS Federal Services, Inc.")
_NOTICE_TITLE = (
    "Notice of Independent Medical Review Determination",
    "NOTICE OF INDEPENDENT MEDICAL REVIEW DETERMINATION",
)
_NOTICE_INTRO = (
    "MAXIMUS Federal Services, Inc. has completed the Independent Medical Review (IMR) of the "
    "workers' compensation case identified above. This notice gives the IMR Final Determination "
    "and the reasons for it.",
    "This letter gives the result of the Independent Medical Review (IMR) that MAXIMUS Federal "
    "Services, Inc. completed for the case identified above, and the reasons for it.",
)
_VERDICT = {
    (True, False): "UPHOLD. None of the disputed items/services were found medically necessary "
    "and appropriate.",
    (False, True): "OVERTURN. All of the disputed items/services were found medically necessary "
    "and appropriate.",
    (True, True): "PARTIAL OVERTURN. Some, but not all, of the disputed items/services were found "
    "medically necessary and appropriate.",
}
_DETERMINED = (
    "MAXIMUS Federal Services, Inc. has determined the request for ",
    "MAXIMUS Federal Services, Inc. has determined the request for ",
    "MAXIMUS Federal Services, Inc. has determined that the request for ",
)
_LIST_INTROS = (
    "",
    "The disputed items/services and the decision on each:",
    "Decisions on the disputed items/services:",
)
_NOTICE_LABELS = (
    ("Guidelines used by the Expert Reviewer:", "Basis of the decision:"),
    ("Rationale for the Decision:", "Expert Reviewer's rationale:", "Reasons for the decision:"),
)
_SUMMARY_HEADINGS = ("Case Summary:", "Case Summary:", "Expert Reviewer Case Summary:")
_DOCS_HEADINGS = ("Documents Reviewed for Determination:", "Documents Reviewed:")


def _decision_sentence(rng: random.Random, it: Item, number: str) -> str:
    nec = "medically necessary" if it.outcome == OVERTURNED else "not medically necessary"
    ending = f" is {nec} and appropriate."
    if it.lead:  # a partial approval: its three sentences, the last one decided
        return f"{number}{heading(it)}{ending}"
    return f"{number}{pick(rng, _DETERMINED)}{it.request}{ending}"


def notice2013(rng: random.Random, f: Facts) -> tuple[list[Block], dict[str, Any]]:
    """The 2013 notice: a cover letter, then numbered decision sentences, the reviewer's
    qualifications, a case summary, the documents, and (in some letters) the rationales."""
    blocks: list[Block] = []
    if rng.random() < 0.7:
        blocks += [("L", pick(rng, _LETTERHEAD)), ("L", "Independent Medical Review")]
        blocks += [("L", "P.O. Box 138009, Sacramento, CA 95813-8009"), ("B", "")]
    blocks += [("H", pick(rng, _NOTICE_TITLE)), ("B", "")]
    if rng.random() < 0.8:
        blocks += [("L", f"Dated:\x01{date_header(rng, f.letter_date)}"), ("B", "")]
    wanted = [("IMR Case Number", f.case_number), ("Date of Injury", date_header(rng, f.injury))]
    assigned = f.assigned if rng.random() < 0.5 else None
    if assigned:
        wanted.append(("Date Assigned", date_header(rng, assigned)))
    for label, value, p in (
        ("UR Denial Date", date_header(rng, f.ur_date), 0.4),
        ("Application Received", date_header(rng, f.received), 0.5),
        ("Employee", " ".join(f.employee), 0.6),
        ("Claim Number", f"{int(rng.random() * 10**9):09d}", 0.6),
    ):
        if rng.random() < p:
            wanted.append((label, value))
    blocks += fields(rng, wanted)
    hon = {"male": "Mr.", "female": "Ms.", None: f.employee[0]}[f.sex]
    blocks += [("B", ""), ("L", f"Dear {hon} {f.employee[1]}:"), ("B", "")]
    blocks += [("P", pick(rng, _NOTICE_INTRO)), ("B", "")]
    outcomes = {it.outcome for it in f.items}
    verdict = _VERDICT[(UPHELD in outcomes, OVERTURNED in outcomes)]
    blocks += [("P", f"Final Determination: {verdict}"), ("B", "")]
    signature: list[Block] = [
        ("L", "Sincerely,"), ("B", ""),
        ("L", f"{pick(rng, V.FIRST_NAMES)} {pick(rng, V.LAST_NAMES)}, MD, MPH"),
        ("L", "Medical Director"), ("B", ""),
    ]  # fmt: skip
    early = rng.random() < 0.6
    if early:
        blocks += signature
    numbering = pick(rng, ("{i}) ", "{i}) ", "{i}. "))
    sentences: list[Block] = []
    intro = pick(rng, _LIST_INTROS)
    if intro:
        sentences += [("L", intro), ("B", "")]
    quals: list[Block] = [("H", "Medical Qualifications of the Expert Reviewer:")]
    if rng.random() < 0.6:
        prose = reviewer_prose(rng, f.states, f.specialty, f.subspecialty, f.licensed, "expert")
        quals += [("P", f"{prose} The expert reviewer has no conflict of interest with any party "
                        "to this case and is in active clinical practice.")]  # fmt: skip
    else:
        quals += credential_lines(rng, f)
    quals.append(("B", ""))
    summ: list[Block] = [("H", pick(rng, _SUMMARY_HEADINGS))]
    summ += summary_blocks(rng, f, rng.random() < 0.5, None)
    docs: list[Block] = [("H", pick(rng, _DOCS_HEADINGS))]
    bullet = pick(rng, ("", "\u2022 ", "- "))
    docs.append(("L", f"{bullet}Utilization Review Denial dated {date_header(rng, f.ur_date)}"))
    for d in sample(rng, V.DOCUMENTS, rint(rng, 2, 5)):
        when = date_header(rng, date.fromordinal(f.ur_date.toordinal() - rint(rng, 0, 300)))
        docs.append(("L", f"{bullet}{d} dated {when}" if rng.random() < 0.5 else f"{bullet}{d}"))
    docs.append(("B", ""))
    title = ("H", "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE")
    if rng.random() < 0.6:  # the decisions first; each item's rationale after the documents
        for i, it in enumerate(f.items, 1):
            sentences += [("W", _decision_sentence(rng, it, numbering.format(i=i))), ("B", "")]
        rats: list[Block] = []
        for i, it in enumerate(f.items, 1):
            head = pick(rng, ("{i}) The request for {r}:", "Item {i}: {r}", "{i}) {r}:"))
            rats += [("W", head.format(i=i, r=it.request)), ("B", "")]
            rats += _item_parts(rng, f, it, _NOTICE_LABELS)
        blocks += [title, ("B", ""), *sentences, *quals, *summ, *docs, *rats]
    else:  # each decision sentence followed by its guideline and rationale
        for i, it in enumerate(f.items, 1):
            sentences += [("W", _decision_sentence(rng, it, numbering.format(i=i))), ("B", "")]
            sentences += _item_parts(rng, f, it, _NOTICE_LABELS)
        blocks += [*quals, *summ, *docs, title, ("B", ""), *sentences]
    if not early:
        blocks += signature
    got = {"case": f.case_number, "assigned": assigned, "ur": f.ur_date, "doi": f.injury}
    return blocks, got


# ---------------------------------------------------------------------------- unknown layout

_TITLES = (
    "REVIEW DETERMINATION NOTICE", "Notice of Review Outcome", "EXTERNAL REVIEW FINDINGS",
    "Independent Review Organization Decision",
)  # fmt: skip
_HISTORY = ("BACKGROUND", "PATIENT HISTORY", "History of the Injury", "MEDICAL HISTORY")
_MATERIALS = ("RECORDS CONSIDERED", "Materials Received", "SUBMITTED MATERIALS")
_FINDINGS = ("DISPUTED SERVICES AND FINDINGS", "FINDINGS BY ITEM", "REVIEW OUTCOMES", "Findings")
_ABOUT = ("ABOUT THE REVIEWER", "REVIEWER CREDENTIALS", "Physician Reviewer")
_SENTENCES = {
    UPHELD: (
        "The denial of this request is upheld.",
        "The reviewer upholds the denial of this request.",
        "This request is not medically necessary, and the denial is upheld.",
        "The previous non-certification is upheld.",
        "This request is not medically necessary.",
    ),
    OVERTURNED: (
        "The denial of this request is overturned.",
        "The reviewer overturns the denial of this request.",
        "This request is medically necessary, and the denial is overturned.",
        "The previous non-certification is overturned.",
        "This request is medically necessary.",
    ),
}
_UNKNOWN_LABELS = (
    ("Basis:", "Guidelines considered:", "Standard applied:"),
    ("Explanation:", "Discussion:", "Reasoning:"),
)


def unknown(rng: random.Random, f: Facts) -> tuple[list[Block], dict[str, Any]]:
    """A layout of unfamiliar headings whose items are numbered or labelled, each followed by
    a decision sentence: only a structure-based reading finds them."""
    blocks: list[Block] = [("H", pick(rng, _TITLES)), ("B", "")]
    case = f.case_number if rng.random() < 0.8 else None
    wanted = [(pick(rng, ("Case Number", "IMR Case Number")), f.case_number)] if case else []
    assigned = f.assigned if rng.random() < 0.6 else None
    if assigned:
        wanted.append(("Date Assigned", date_header(rng, assigned)))
    ur = f.ur_date if rng.random() < 0.6 else None
    if ur:
        wanted.append(("UR Denial Date", date_header(rng, ur)))
    doi = f.injury if rng.random() < 0.6 else None
    if doi:
        wanted.append(("Date of Injury", date_header(rng, doi)))
    if wanted:
        blocks += [*fields(rng, wanted), ("B", "")]
    history: list[Block] = [("H", pick(rng, _HISTORY))]
    history += summary_blocks(rng, f, doi is not None, None)
    materials: list[Block] = [("H", pick(rng, _MATERIALS))]
    materials += [("L", f"- {d}") for d in sample(rng, V.DOCUMENTS, rint(rng, 2, 5))]
    materials.append(("B", ""))
    style = pick(rng, ("numbered", "item", "labelled"))
    label = pick(rng, ("Finding:", "Outcome:", "Decision:", ""))
    items: list[Block] = [("H", pick(rng, _FINDINGS)), ("B", "")]
    for i, it in enumerate(f.items, 1):
        if style == "numbered":
            head = f"{i}. {heading(it)}"
        elif style == "item":
            head = f"{pick(rng, ('Item', 'Service', 'Request'))} {i}: {heading(it)}"
        else:
            head = f"Requested service:\x01{heading(it)}"
        sentence = pick(rng, _SENTENCES[it.outcome])
        kind = "W" if f.traps else "L"  # a heading wraps only with traps, as in letters.py
        items += [(kind, head), ("L", f"{label} {sentence}".strip()), ("B", "")]
        items += _item_parts(rng, f, it, _UNKNOWN_LABELS)
    about: list[Block] = [("H", pick(rng, _ABOUT))]
    if rng.random() < 0.5:
        about += credential_lines(rng, f)
    else:
        about.append(("P", reviewer_prose(rng, f.states, f.specialty, f.subspecialty,
                                          f.licensed, "pro")))  # fmt: skip
    about.append(("B", ""))
    parts = [history, materials, items, about] if rng.random() < 0.7 else [about, history, items]
    for part in parts:
        blocks += part
    got = {"case": case, "assigned": assigned, "ur": ur, "doi": doi}
    return blocks, got
