"""Letters of layouts the parser does not know: items found by structure, or a record kept."""

from __future__ import annotations

import textwrap

import pytest

from search.fields import LAYOUT_UNKNOWN
from search.parse import parse_text

# A letter head that names no known layout and uses no known heading.
HEAD = """\
State of California Division of Workers' Compensation
Independent Review Organization
Case No. CM13-0012345   Date: 10/02/2013

Dear Mr. Smith:

Your request for review was received. The reviewer is licensed in Ohio and board certified in
Orthopedic Surgery.

"""

# (name, body, [(request, outcome, inferred)]): one unfamiliar way of writing items each.
LAYOUTS = [
    (
        "numbered labels, outcome only as necessity",
        """\
        FINDINGS

        Treatment 1: Lumbar epidural steroid injection at L4-5
        Finding: The requested treatment is not medically necessary.
        Reason: There is no radiculopathy documented on examination.

        Treatment 2: Norco 10/325mg #90
        Finding: The requested treatment is medically necessary.
        Reason: The records document pain relief and function.
        """,
        [
            ("Lumbar epidural steroid injection at L4-5", "Upheld", True),
            ("Norco 10/325mg #90", "Overturned", True),
        ],
    ),
    (
        "parenthesized numbers, each item one sentence",
        """\
        OUTCOME OF REVIEW

        (1) The request for Norco 10/325 #90 is overturned. The records document functional
        benefit and a signed opioid agreement.

        (2) The request for an MRI of the lumbar spine is upheld. There are no red flags and no
        progressive neurological deficit.
        """,
        [("Norco 10/325 #90", "Overturned", False), ("MRI of the lumbar spine", "Upheld", False)],
    ),
    (
        "lettered headings, outcome label",
        """\
        RESULTS

        A. MRI of the right knee without contrast
        Determination: Upheld
        Basis: ACOEM guidelines do not support imaging without mechanical symptoms.

        B. Physical therapy 2 x 6 for the knee
        Determination: Overturned
        Basis: Post-operative therapy is supported.
        """,
        [
            ("MRI of the right knee without contrast", "Upheld", False),
            ("Physical therapy 2 x 6 for the knee", "Overturned", False),
        ],
    ),
    (
        "issue n of m, reviewer's finding in prose",
        """\
        OUTCOMES

        Issue 1 of 2: Tramadol ER 150mg #30
        The reviewer finds that tramadol is medically necessary for this patient. Pain relief
        is documented.

        Issue 2 of 2: Gym membership for 6 months
        The reviewer finds that a gym membership is not medically necessary.
        """,
        [
            ("Tramadol ER 150mg #30", "Overturned", True),
            ("Gym membership for 6 months", "Upheld", True),
        ],
    ),
    (
        "no markers: paragraphs that open with the decision",
        """\
        DISCUSSION

        The expert reviewer determined that the request for acupuncture x 6 sessions is not
        medically necessary. There is no documentation of functional improvement.

        The expert reviewer determined that the request for Lidoderm 5% patch #30 is medically
        necessary. Localized neuropathic pain is documented.
        """,
        [
            ("acupuncture x 6 sessions", "Upheld", True),
            ("Lidoderm 5% patch #30", "Overturned", True),
        ],
    ),
    (
        "bullets with the outcome after a dash",
        """\
        DETERMINATIONS

        - Cyclobenzaprine 7.5mg #60 - Upheld
        The muscle relaxant is recommended for short courses only.
        - Omeprazole 20mg #30 - Overturned
        The worker has gastrointestinal risk factors.
        """,
        [
            ("Cyclobenzaprine 7.5mg #60", "Upheld", False),
            ("Omeprazole 20mg #30", "Overturned", False),
        ],
    ),
    (
        "numbered headings, decision sentence on the next line, no blank lines",
        """\
        REVIEW OUTCOME
        1. Acupuncture x 6 sessions
        The Claims Administrator's decision regarding this request is upheld.
        Rationale: No functional improvement is documented after six sessions.
        2. Ultram 50mg #60
        The Claims Administrator's decision regarding this request is overturned.
        Rationale: The records document benefit.
        """,
        [("Acupuncture x 6 sessions", "Upheld", False), ("Ultram 50mg #60", "Overturned", False)],
    ),
    (
        "a numbered diagnosis list before the numbered items",
        """\
        Diagnoses:
        1. Lumbar strain.
        2. Depression.

        ITEMS REVIEWED

        1. Physical therapy 12 sessions for the lumbar spine
        The denial is upheld. Prior therapy gave no lasting benefit.

        2. Sertraline 50mg #30
        The denial is overturned. Depression is documented.
        """,
        [
            ("Physical therapy 12 sessions for the lumbar spine", "Upheld", False),
            ("Sertraline 50mg #30", "Overturned", False),
        ],
    ),
    (
        "numbered labels of several words, guideline lists and a page header inside a heading",
        """\
        DISPUTED SERVICES AND FINDINGS

        Request 1: Bilateral knee arthroscopy with partial medial meniscectomy and
        \f
        Page 2
        Case No. CM13-0012345

        chondroplasty of the left knee
        Decision: The denial of this request is upheld.
        Standard applied: ODG, Knee & Leg Section(s):
        1. Meniscectomy,
        2. Chondroplasty.
        Explanation: There is no mechanical symptom.

        Service 2: Sumatriptan 50mg #60
        Decision: This request is not medically necessary, and the denial is upheld.
        Standard applied: ODG, Head Section(s):
        3. Triptans.
        Explanation: Migraine is not documented.

        REVIEWER CREDENTIALS
        The reviewer is licensed in Ohio.
        """,
        [
            (
                "Bilateral knee arthroscopy with partial medial meniscectomy and chondroplasty "
                "of the left knee",
                "Upheld",
                False,
            ),
            ("Sumatriptan 50mg #60", "Upheld", False),
        ],
    ),
    (
        "a numbered list inside an item's reasons",
        """\
        REVIEW OUTCOME

        1. Norco 10/325mg #60
        The reviewer finds the following:
        1. No pain scores before and after each dose.
        2. No urine drug screen.
        The request is not medically necessary.

        2. Tizanidine 4mg #30
        The request is medically necessary.
        """,
        [("Norco 10/325mg #60", "Upheld", True), ("Tizanidine 4mg #30", "Overturned", True)],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in LAYOUTS], ids=[c[0] for c in LAYOUTS]
)
def test_unknown_layouts_give_their_items(body: str, expected: list[tuple[str, str, bool]]) -> None:
    d = parse_text(HEAD + textwrap.dedent(body))
    assert d.layout == LAYOUT_UNKNOWN
    assert [(x.request, x.outcome) for x in d.decisions] == [e[:2] for e in expected]
    inferred = [w.split(":")[0] for w in d.warnings if "outcome inferred" in w]
    assert inferred == [f"decision {n}" for n, e in enumerate(expected, 1) if e[2]]
    assert any(w.startswith("decisions found by the fallback:") for w in d.warnings)
    assert all(x.rationale for x in d.decisions)
    assert not any("licensed in Ohio" in x.rationale for x in d.decisions)  # a heading ends it


def test_rationale_stays_with_its_item() -> None:
    d = parse_text(HEAD + textwrap.dedent(LAYOUTS[-1][1]))
    assert "No urine drug screen" in d.decisions[0].rationale
    assert "No urine drug screen" not in d.decisions[1].rationale


@pytest.mark.parametrize(
    "body",
    [
        # Numbered lines with no decision sentence: a list, not items.
        "PLAN\n\n1. Continue home exercise.\n2. Follow up in four weeks.\n",
        # A decision sentence with no item it belongs to.
        "NOTES\n\nServices must be medically necessary to be covered.\n",
        "",
    ],
)
def test_no_items_without_a_decision_keeps_the_record(body: str) -> None:
    d = parse_text(HEAD + body)
    assert d.decisions == ()
    assert "no decisions found: the letter is indexed by its text only" in d.warnings
    assert d.case_number == "CM13-0012345"


def test_known_layouts_carry_no_fallback_warning() -> None:
    from pathlib import Path

    letters = Path(__file__).parent / "letters"
    for path in sorted(letters.glob("*.txt")):
        d = parse_text(path.read_text(encoding="utf-8"))
        assert d.decisions, path.name
        assert not any("fallback" in w for w in d.warnings), (path.name, d.warnings)
