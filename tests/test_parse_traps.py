"""Traps by structure: wrapped decision sentences, headings cut by page breaks, wrapped
credentials; small synthetic snippets, then generated letters of every layout."""

from __future__ import annotations

import pytest

from search.parse import parse_text

NOTICE_HEAD = (
    "Notice of Independent Medical Review Determination\n"
    "IMR Case Number: CM13-0034567\n\n"
    "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE\n"
    "The disputed items/services and the decision on each:\n\n"
)
NOTICE_TAIL = (
    "\nMedical Qualifications of the Expert Reviewer:\n"
    "The Expert Reviewer is Board Certified in Family Practice and is licensed to practice in "
    "Ohio.\n\nCase Summary:\nThe injured worker is a 50 year old man.\n"
)


@pytest.mark.parametrize(
    ("sentences", "want"),
    [
        pytest.param(  # the sentence's subject ends a line in a colon; its verb after a blank
            "1) MAXIMUS Federal Services, Inc. has determined the request for Associated "
            "surgical service:\n\nUltrasling is not medically necessary and appropriate.\n\n"
            "2) MAXIMUS Federal Services, Inc. has determined the request for Sumatriptan "
            "50mg #60 is not medically necessary and appropriate.\n",
            [
                ("Associated surgical service: Ultrasling", "Upheld"),
                ("Sumatriptan 50mg #60", "Upheld"),
            ],
            id="colon-then-blank",
        ),
        pytest.param(  # a blank line inside the request (a page gap), next item right after
            "1) MAXIMUS Federal Services, Inc. has determined the request for TAPENTADOL "
            "100MG #60\n\nWITH 2 REFILLS is not medically necessary and appropriate.\n"
            "2) MAXIMUS Federal Services, Inc. has determined the request for Cyclobenzaprine\n\n"
            "4%/Amitriptyline 4% 180gm is not medically necessary and appropriate.\n",
            [
                ("TAPENTADOL 100MG #60 WITH 2 REFILLS", "Upheld"),
                ("Cyclobenzaprine 4%/Amitriptyline 4% 180gm", "Upheld"),
            ],
            id="blank-inside-request",
        ),
        pytest.param(  # the continuation starts with the count: "#15 is ..." is no new item
            "1) MAXIMUS Federal Services, Inc. has determined the request for Duragesic "
            "25mcg/hr patch\n#15 is not medically necessary and appropriate.\n"
            "2) MAXIMUS Federal Services, Inc. has determined the request for Lenzapatch 4%/1% "
            "patch\n\n#90 is medically necessary and appropriate.\n",
            [
                ("Duragesic 25mcg/hr patch #15", "Upheld"),
                ("Lenzapatch 4%/1% patch #90", "Overturned"),
            ],
            id="count-starts-the-line",
        ),
        pytest.param(  # "without" belongs to the request, not to the verdict
            "1) MAXIMUS Federal Services, Inc. has determined that the request for MRI neck "
            "without\ncontrast is medically necessary and appropriate.\n",
            [("MRI neck without contrast", "Overturned")],
            id="negation-word-in-request",
        ),
    ],
)
def test_notice2013_wrapped_decision_sentences(sentences: str, want: list[tuple[str, str]]) -> None:
    d = parse_text(NOTICE_HEAD + sentences + NOTICE_TAIL)
    assert d.layout == "notice2013"
    assert [(x.request, x.outcome) for x in d.decisions] == want


def test_a_letter_of_no_known_heading_is_split_at_its_own_titles() -> None:
    d = parse_text(
        "Notice of Review Outcome\n\nIMR Case Number: CM19-1254997\nUR Denial Date: 7/6/2019\n\n"
        "Patient History\nThe injured worker is a 49-year-old woman. Current medications include "
        "Zanaflex.\n\nSUBMITTED MATERIALS\n- Physical therapy notes\n\n"
        "REVIEW OUTCOMES\n\nRequest 1: Ultracet 37.5/325mg #90\nThis request is not medically "
        "necessary, and the denial is upheld.\nReasoning: No functional improvement.\n\n"
        "Physician Reviewer\nThe reviewer is Board Certified in Family Practice and is licensed "
        "in Colorado.\n"
    )
    keys = [(s.key, s.heading) for s in d.sections]
    assert keys == [
        ("header", ""),
        ("case_summary", "Patient History"),
        ("documents_reviewed", "SUBMITTED MATERIALS"),
        ("decisions_and_rationales", "REVIEW OUTCOMES"),
        ("reviewer_qualifications", "Physician Reviewer"),
    ]
    assert "Zanaflex" in d.section("case_summary")
    assert [(x.request, x.outcome) for x in d.decisions] == [("Ultracet 37.5/325mg #90", "Upheld")]
    # The letter's own title (before any text) is no section, though it names an outcome.
    assert "Notice of Review Outcome" in d.section("header")


@pytest.mark.parametrize(
    ("lines", "want"),
    [
        ("Certification(s)/Specialty: Internal\n\nMedicine, Gastroenterology",
         ["Internal Medicine", "Gastroenterology"]),
        ("Certification(s)/Specialty: Anesthesia, Acupuncture\n& Pain Medicine",
         ["Anesthesiology", "Acupuncture and Pain Medicine"]),
        ("Certification(s)/Specialty: Physical Medicine\n& Rehabilitation, Pain Medicine",
         ["Physical Medicine and Rehabilitation", "Pain Medicine"]),
        ("Certification(s)/Specialty: Family\n\nPractice", ["Family Medicine"]),
        ("Certification(s)/Specialty: Public\n\nHealth and General Preventive Medicine",
         ["Public Health and General Preventive Medicine"]),
        # A line of prose after the credentials is no tail of them.
        ("Certification(s)/Specialty: Orthopedic Surgery\n\nThe reviewer attests no conflict",
         ["Orthopedic Surgery"]),
    ],
)  # fmt: skip
def test_wrapped_credential_lines_are_joined(lines: str, want: list[str]) -> None:
    d = parse_text(
        "HOW THE IMR FINAL DETERMINATION WAS MADE\nMAXIMUS Federal Services sent the file.\n"
        "The Expert Reviewer has the following credentials:\n\n"
        f"State(s) of Licensure: Oregon\n\n{lines}\n\nCLINICAL CASE SUMMARY\nA 40 year old man.\n"
    )
    assert list(d.reviewer.specialties) == want
    assert d.reviewer.states == ("Oregon",)


def test_a_wrapped_district_of_columbia_is_a_state_not_a_specialty() -> None:
    d = parse_text(
        "MEDICAL PROFESSIONAL REVIEW\nIMR Case Number: CM19-8816647\n\n"
        "MEDICAL REVIEWER QUALIFICATIONS:\nThe physician reviewer is Board Certified in Internal "
        "Medicine and is licensed in\nDistrict of Columbia.\n"
    )
    assert d.reviewer.specialties == ("Internal Medicine",)
    assert d.reviewer.states == ("District of Columbia",)


MAXIMUS_HEAD = (
    "IMR Case Number: CM17-0574299\n\nIMR DECISION(S) AND RATIONALE(S)\n"
    "The Final Determination was based on decisions for the disputed items/services set forth "
    "below:\n\n"
)


def test_a_guideline_list_whose_next_number_is_the_next_item() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1. Pre-operative PT/PTT\n\n"
        "The Claims Administrator's decision regarding this request is upheld.\n\n"
        "Guidelines: Decision based on MTUS Chronic Pain Treatment Guidelines Section(s):\n"
        "1. Anti-inflammatory medications.\n\n"
        "Rationale: The requested treatment is not medically necessary.\n\n"
        "2. Cognitive behavioral therapy x 18 sessions\n\n"
        "The Claims Administrator's decision regarding this request is overturned.\n\n"
        "Rationale: The requested treatment is medically necessary.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Pre-operative PT/PTT", "Upheld"),
        ("Cognitive behavioral therapy x 18 sessions", "Overturned"),
    ]
    assert "Anti-inflammatory" in d.decisions[0].maximus_guideline


PARTIAL = (
    "1 prescription of MS Contin 30 mg #60 was the original request. 1 prescription of MS Contin "
    "30 mg #32 was authorized by the Claims\n{brk}Administrator. The remaining IMR eligible "
    "portion of the original request, 1 prescription of MS Contin 30 mg #28"
)
PAGE_BREAKS = ["", "\nPage 1 of 3\n\f\nCM17-0574299\n\n", "\n\nPage 2\n\f\n\n"]


@pytest.mark.parametrize("brk", PAGE_BREAKS, ids=["none", "footer-header", "footer"])
@pytest.mark.parametrize(
    "item",
    [
        "1. {p}\n\nThe Claims Administrator's decision regarding this request is upheld.\n",
        "1. {p}:  Upheld\n",
        "1) {p} is not medically necessary and appropriate.\n",
    ],
    ids=["heading-and-sentence", "item-line", "sentence"],
)
def test_a_partial_approval_cut_by_a_page_break_is_kept_whole(item: str, brk: str) -> None:
    body = item.format(p=PARTIAL.format(brk=brk))
    d = parse_text(MAXIMUS_HEAD + body + "\nDecision rationale: Not medically necessary.\n")
    assert [(x.request, x.original_request, x.authorized, x.ur_modified) for x in d.decisions] == [
        (
            "1 prescription of MS Contin 30 mg #28",
            "1 prescription of MS Contin 30 mg #60",
            "1 prescription of MS Contin 30 mg #32",
            True,
        )
    ]
    assert d.decisions[0].outcome == "Upheld"


PRO_HEAD = "MEDICAL PROFESSIONAL REVIEW\nIMR Case Number: CM19-8816647\n\nISSUE AT DISPUTE:\n"
PRO_TAIL = "\nCASE SUMMARY:\nThe patient is a 67-year-old man.\n"


@pytest.mark.parametrize(
    ("issue", "want"),
    [
        pytest.param(  # sentences wrapped before their verb, one with a decimal in it
            "Upon independent review, the denial of Gralise 100mg is\nupheld.\n"
            "Upon independent review, the denial of Amitriptyline 10mg QTY\n150 is upheld.\n"
            "The denial of Genicin 500MG #150 is upheld.\n"
            "The denial of Compound Capsaicin 0.0375%/Lidocaine 5%/Camphor\n\n"
            "2% cream 240g is overturned.\n",
            [
                ("Gralise 100mg", "Upheld"),
                ("Amitriptyline 10mg QTY 150", "Upheld"),
                ("Genicin 500MG #150", "Upheld"),
                ("Compound Capsaicin 0.0375%/Lidocaine 5%/Camphor 2% cream 240g", "Overturned"),
            ],
            id="sentences",
        ),
        pytest.param(  # a dash before an outcome wrapped to the next line
            "1 trigger point injections x 8 \u2013 Upheld\n"
            "Cervical epidural steroid injection at C5-6 \u2013\nUpheld\n",
            [
                ("1 trigger point injections x 8", "Upheld"),
                ("Cervical epidural steroid injection at C5-6", "Upheld"),
            ],
            id="dash-wrapped",
        ),
        pytest.param(  # a date of service wrapped after its label, or set off by a page gap
            "1. 18 sessions of physical therapy for the left\nshoulder - Upheld\n"
            "2. Cervical epidural steroid injection at C6-7 DOS:\n2/19/2020 - Overturned\n"
            "3. Hydrocodone/Acetaminophen 7.5/325mg BID #30\n\nDOS: 3/4/2018 - Upheld\n",
            [
                ("18 sessions of physical therapy for the left shoulder", "Upheld"),
                ("Cervical epidural steroid injection at C6-7 DOS: 2/19/2020", "Overturned"),
                ("Hydrocodone/Acetaminophen 7.5/325mg BID #30 DOS: 3/4/2018", "Upheld"),
            ],
            id="date-of-service",
        ),
        pytest.param(  # a partial approval after an item line, in a run of short lines
            "1 trigger point injections x 8 \u2013 Upheld\n"
            "Voltaren XR 100MG #90 was the\noriginal request. Voltaren XR 100MG\n"
            "#24 was authorized by the Claims Administrator. The\nremaining IMR eligible "
            "portion of the original\nrequest, Voltaren XR 100MG #66 \u2013\nUpheld\n",
            [
                ("1 trigger point injections x 8", "Upheld"),
                ("Voltaren XR 100MG #66", "Upheld"),
            ],
            id="partial-after-item",
        ),
        pytest.param(  # a long line that ends in its outcome ends its unit
            "Upon independent review, the denial of Celebrex 200mg #30 is upheld.\n"
            "1 prescription of Lyrica 75mg #90 was the original request. 1 prescription of "
            "Lyrica 75mg #30 was authorized by the Claims Administrator. The remaining IMR "
            "eligible portion of the original request, 1 prescription of Lyrica 75mg #60 - Upheld\n"
            "After review, the denial of Lidoderm 5% patch #30 is upheld.\n",
            [
                ("Celebrex 200mg #30", "Upheld"),
                ("1 prescription of Lyrica 75mg #60", "Upheld"),
                ("Lidoderm 5% patch #30", "Upheld"),
            ],
            id="long-partial-line-ends-in-outcome",
        ),
        pytest.param(  # numbered, the partial line over 200 characters, an en dash outcome
            "1. Upon independent review, the denial of Prilosec 20mg #60 is upheld.\n"
            "2. Norco 10/325mg #120 was the original request. Norco 10/325mg #40 was authorized "
            "by the Claims Administrator. The remaining IMR eligible portion of the original "
            "request, Norco 10/325mg #80 \u2013 Upheld\n"
            "3. The denial of Home health aide 4 hours a day is upheld.\n",
            [
                ("Prilosec 20mg #60", "Upheld"),
                ("Norco 10/325mg #80", "Upheld"),
                ("Home health aide 4 hours a day", "Upheld"),
            ],
            id="numbered-long-partial-line",
        ),
        pytest.param(  # narrow lines: the first sentence's verb wrapped before "request."
            "After review, the denial of Ibuprofen\n800 mg, #90 is upheld.\n"
            "1 prescription of Zoloft 50mg #60 was the original\n"
            "request. 1 prescription of Zoloft 50mg #15 was authorized\n"
            "by the Claims Administrator. The remaining IMR eligible\n"
            "portion of the original request, 1 prescription of Zoloft\n"
            "50mg #45 - Upheld\n",
            [("Ibuprofen 800 mg, #90", "Upheld"), ("1 prescription of Zoloft 50mg #45", "Upheld")],
            id="partial-verb-wrapped-on-short-lines",
        ),
        pytest.param(  # the subject ends a line ("the denial of"), paragraphs set apart
            "Upon independent review, the denial of\n\nINTERDISCIPLINARY PAIN PROGRAM\n\n"
            "EVALUATION is overturned.\n",
            [("INTERDISCIPLINARY PAIN PROGRAM EVALUATION", "Overturned")],
            id="subject-at-line-end",
        ),
        pytest.param(  # an item line's outcome wrapped with its dash, a paragraph apart or not
            "1. Prospective request for massage therapy 2x4 to the low back\n\n- Upheld\n"
            "2. Naproxen 550mg, #60 - Upheld\n"
            "3. Compound Ketoprofen 10% + Lidocaine 5% -\nOverturned\n"
            "Baclofen 10mg #90 was the original request. Baclofen 10mg #30 was authorized by "
            "the\nClaims Administrator. The remaining IMR eligible portion of the original "
            "request, Baclofen 10mg #60\n\n- Upheld\n",
            [
                ("Prospective request for massage therapy 2x4 to the low back", "Upheld"),
                ("Naproxen 550mg, #60", "Upheld"),
                ("Compound Ketoprofen 10% + Lidocaine 5%", "Overturned"),
                ("Baclofen 10mg #60", "Upheld"),
            ],
            id="dash-outcome-line",
        ),
        pytest.param(  # a request and its labelled outcome on the next line, beside a partial
            "Anecream 4% 100gm\nDecision:   Upheld\n"
            "Cyclobenzaprine Hydrochloride 5mg # 20 was the original request. Cyclobenzaprine "
            "Hydrochloride 5mg # 17 was certified by the Claims Administrator. The remaining IMR "
            "eligible portion of the original request, Cyclobenzaprine Hydrochloride 5mg # 3\n"
            "Decision:   Upheld\n"
            "Bilateral knee brace\nDecision:   Overturned\n",
            [
                ("Anecream 4% 100gm", "Upheld"),
                ("Cyclobenzaprine Hydrochloride 5mg # 3", "Upheld"),
                ("Bilateral knee brace", "Overturned"),
            ],
            id="outcome-label-line",
        ),
    ],
)
def test_professional_issue_lines(issue: str, want: list[tuple[str, str]]) -> None:
    d = parse_text(PRO_HEAD + issue + PRO_TAIL)
    assert [(x.request, x.outcome) for x in d.decisions] == want


def test_a_compound_set_off_by_a_page_gap_is_one_request() -> None:
    d = parse_text(
        PRO_HEAD + "Resveratrol 1%/Tramadol 8%/Ketoprofen\n\n10%/Camphor 2%\nDecision: Upheld\n"
        "Bilateral knee brace\nDecision: Overturned\n" + PRO_TAIL
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Resveratrol 1%/Tramadol 8%/Ketoprofen 10%/Camphor 2%", "Upheld"),
        ("Bilateral knee brace", "Overturned"),
    ]


def test_a_2013_partial_approval_sentence_set_off_by_a_page_gap() -> None:
    d = parse_text(
        NOTICE_HEAD + "1) Nucynta ER 50mg QHS #30 was the original request. Nucynta ER 50mg QHS "
        "#17 was certified by\nthe Claims Administrator. The remaining IMR eligible portion of "
        "the original request, Nucynta\n\n\nER 50mg QHS #13 is not medically necessary and "
        "appropriate.\n" + NOTICE_TAIL
    )
    assert [(x.request, x.original_request, x.authorized, x.outcome) for x in d.decisions] == [
        ("Nucynta ER 50mg QHS #13", "Nucynta ER 50mg QHS #30", "Nucynta ER 50mg QHS #17", "Upheld")
    ]
    assert not any("fallback" in w for w in d.warnings)


def test_a_heading_in_capitals_wraps_into_a_line_its_case_set_off() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1. PSYCHOTHERAPY ONCE A WEEK FOR 10\nWEEKS\n\n"
        "The Claims Administrator's decision regarding this request is upheld.\n\n"
        "Decision rationale: Not medically necessary.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("PSYCHOTHERAPY ONCE A WEEK FOR 10 WEEKS", "Upheld")
    ]


def test_criteria_numbered_in_a_reason_are_no_items_of_an_unknown_layout() -> None:
    d = parse_text(
        "Notice of Review Outcome\n\nIMR Case Number: CM19-1254997\n\n"
        "BACKGROUND\nThe injured worker is a 49-year-old woman.\n\n"
        "Findings\n\nService 1: Comprehensive metabolic panel\n"
        "The denial of this request is upheld.\n"
        "Discussion: The guidelines call for:\n1. No evidence of drug-seeking behavior.\n"
        "2. Documentation of objective functional improvement.\n"
        "3. Clear clinical findings that support the diagnosis.\n"
        "Therefore, the request is not medically necessary.\n\n"
        "Item 2: Anaprox 275mg 30 tablets\nThis request is not medically necessary.\n"
        "Reasoning: No functional improvement.\n\n"
        "Physician Reviewer\nThe reviewer is Board Certified in Family Practice.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Comprehensive metabolic panel", "Upheld"),
        ("Anaprox 275mg 30 tablets", "Upheld"),
    ]


def test_a_numbered_partial_approval_wrapped_over_many_short_lines() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1) Celebrex 100mg is not medically necessary\nand appropriate.\n\n"
        "The Expert Reviewer's decision rationale: Not recommended.\n\n"
        "2) Klonopin 0.5 mg 1 by mouth twice a day #15\nwas the original request. Klonopin 0.5 "
        "mg 1 by\nmouth twice a day #14 was authorized by the\nClaims Administrator. The "
        "remaining IMR\neligible portion of the original request,\nKlonopin 0.5 mg 1 by mouth "
        "twice a day #1 is\nnot medically necessary and appropriate.\n\n"
        "The Expert Reviewer's decision rationale: Not recommended.\n"
    )
    assert [(x.request, x.authorized, x.outcome) for x in d.decisions] == [
        ("Celebrex 100mg", "", "Upheld"),
        ("Klonopin 0.5 mg 1 by mouth twice a day #1", "Klonopin 0.5 mg 1 by mouth twice a day #14",
         "Upheld"),
    ]  # fmt: skip


def test_professional_sentences_beside_a_partial_approval_with_its_outcome_below() -> None:
    d = parse_text(
        PRO_HEAD + "After review, the denial of BUTRANS 10MCG/HR PATCH #90 is\nupheld.\n"
        "Prozac 20mg #30 was the original request. Prozac 20mg #3 was\nauthorized by the "
        "Claims Administrator. The remaining IMR\neligible portion of the original request, "
        "Prozac 20mg #27:\nUpheld\nAfter review, the denial of Ativan (unspecified strength "
        "and\nquantity) is upheld.\n"
        "Metoclopramide 10mg #90 was the original request. Metoclopramide 10mg #2 was "
        "authorized by the\nClaims Administrator. The remaining IMR eligible portion of the "
        "original request, Metoclopramide\n\n10mg #88 - Upheld\n" + PRO_TAIL
    )
    assert [(x.request, x.outcome, x.ur_modified) for x in d.decisions] == [
        ("BUTRANS 10MCG/HR PATCH #90", "Upheld", False),
        ("Prozac 20mg #27", "Upheld", True),
        ("Ativan (unspecified strength and quantity)", "Upheld", False),
        ("Metoclopramide 10mg #88", "Upheld", True),
    ]


UNKNOWN_HEAD = (
    "Notice of Review Outcome\n\nIMR Case Number: CM19-1254997\n\n"
    "BACKGROUND\nThe injured worker is a 49-year-old woman.\n\nFindings\n\n"
)
UNKNOWN_TAIL = "\nPhysician Reviewer\nThe reviewer is Board Certified in Family Practice.\n"


@pytest.mark.parametrize(
    ("items", "want"),
    [
        pytest.param(  # a label's request wrapped into a short line in capitals
            "Service 1: PSYCHOTHERAPY TWICE A WEEK FOR 6\nWEEKS\n"
            "This request is not medically necessary, and the denial is upheld.\n",
            [("PSYCHOTHERAPY TWICE A WEEK FOR 6 WEEKS", "Upheld", "")],
            id="capitals-wrap",
        ),
        pytest.param(  # the wrap set off by blank lines (a double-spaced letter)
            "Requested service: EXTRACORPOREAL SHOCKWAVE\n\nTHERAPY X 3 TO THE RIGHT SHOULDER\n\n"
            "Decision: The previous non-certification is upheld.\n\n"
            "Requested service: AQUATIC THERAPY 2 X 6 FOR THE\n\nLUMBAR SPINE\n\n"
            "Decision: The previous non-certification is upheld.\n",
            [
                ("EXTRACORPOREAL SHOCKWAVE THERAPY X 3 TO THE RIGHT SHOULDER", "Upheld", ""),
                ("AQUATIC THERAPY 2 X 6 FOR THE LUMBAR SPINE", "Upheld", ""),
            ],
            id="blank-line-wrap",
        ),
        pytest.param(  # a count set off by a page break
            "Requested service: Tizanidine 4mg quantity\n\nPage 1\n\n90\n\n"
            "Finding: The reviewer overturns the denial of this request.\n",
            [("Tizanidine 4mg quantity 90", "Overturned", "")],
            id="page-break-wrap",
        ),
        pytest.param(  # a date of service: its own label, or after the label on the next line
            "Requested service: Chiropractic care x 8 sessions\nDOS: 5/2/2019\n"
            "Outcome: The reviewer upholds the denial of this request.\n\n"
            "Requested service: Urine drug screen DOS:\n\n3/3/2018\n"
            "The previous non-certification is upheld.\n",
            [
                ("Chiropractic care x 8 sessions DOS: 5/2/2019", "Upheld", ""),
                ("Urine drug screen DOS: 3/3/2018", "Upheld", ""),
            ],
            id="date-of-service",
        ),
        pytest.param(  # a partial approval whose original request wraps ("(DOS" / "1/2/22)")
            "Requested service: RETROSPECTIVE REQUEST FOR NAPROXEN 550MG #60 (DOS\n\n"
            "1/2/22) was the original request. RETROSPECTIVE REQUEST FOR\n"
            "NAPROXEN 550MG #20 (DOS 1/2/22) was approved by the Claims\n\n"
            "Administrator. The remaining IMR eligible portion of the original\n"
            "request, RETROSPECTIVE REQUEST FOR NAPROXEN 550MG #40 (DOS 1/2/22)\n"
            "Decision: The denial of this request is upheld.\n",
            [
                (
                    "RETROSPECTIVE REQUEST FOR NAPROXEN 550MG #40 (DOS 1/2/22)",
                    "Upheld",
                    "RETROSPECTIVE REQUEST FOR NAPROXEN 550MG #20 (DOS 1/2/22)",
                )
            ],
            id="partial-original-wrapped",
        ),
        pytest.param(  # a wrapped line opening with a count ("#10 ...") opens no item
            "Requested service: Sentra PM 540 mg #60 with one refill was the original request. "
            "Sentra PM 540 mg\n#20 with one refill was authorized by the Claims Administrator. "
            "The remaining IMR eligible portion\nof the original request, Sentra PM 540 mg #40 "
            "with one refill\nOutcome: The denial of this request is upheld.\n",
            [
                (
                    "Sentra PM 540 mg #40 with one refill",
                    "Upheld",
                    "Sentra PM 540 mg #20 with one refill",
                )
            ],
            id="partial-count-line",
        ),
        pytest.param(  # the first sentence's request wrapped before "was the original request"
            "Service 1: Retrospective Meloxicam 15 mg #30\nDOS 2/4/16 was the original request.\n"
            "Retrospective Meloxicam 15 mg #10 DOS 2/4/16\nwas authorized by the Claims "
            "Administrator. The\nremaining IMR eligible portion of the original\n"
            "request, Retrospective Meloxicam 15 mg #20\nDOS 2/4/16\n"
            "Finding: The denial of this request is upheld.\n",
            [
                (
                    "Retrospective Meloxicam 15 mg #20 DOS 2/4/16",
                    "Upheld",
                    "Retrospective Meloxicam 15 mg #10 DOS 2/4/16",
                )
            ],
            id="partial-many-lines",
        ),
        pytest.param(  # a numbered partial approval after a numbered list inside a guideline
            "1. Lumbar MRI\nFinding: The reviewer upholds the denial of this request.\n"
            "Guidelines considered: MTUS, page(s) 30-34 Section(s):\n2. Topical Analgesics.\n"
            "The request is not medically necessary.\n\n"
            "2. Retrospective request for Colace 100 mg #60 (DOS\n\n"
            "3/1/21) was the original request. Retrospective request\n\n"
            "for Colace 100 mg #20 (DOS 3/1/21) was approved by\n\n"
            "the Claims Administrator. The remaining IMR eligible\n\n"
            "portion of the original request, Retrospective request\n\n"
            "for Colace 100 mg #40 (DOS 3/1/21)\n\n"
            "Finding: The previous non-certification is upheld.\n\n"
            "3. Knee brace\n\nFinding: This request is not medically necessary.\n",
            [
                ("Lumbar MRI", "Upheld", ""),
                (
                    "Retrospective request for Colace 100 mg #40 (DOS 3/1/21)",
                    "Upheld",
                    "Retrospective request for Colace 100 mg #20 (DOS 3/1/21)",
                ),
                ("Knee brace", "Upheld", ""),
            ],
            id="numbered-partial-after-nested-list",
        ),
    ],
)
def test_unknown_layout_wrapped_requests(items: str, want: list[tuple[str, str, str]]) -> None:
    letter = UNKNOWN_HEAD + items + UNKNOWN_TAIL
    if "\n\n" in items:  # a double-spaced letter (pdftotext's), its blank lines page gaps
        letter = letter.replace("\n", "\n\n")
    d = parse_text(letter)
    assert [(x.request, x.outcome, x.authorized) for x in d.decisions] == want


def test_a_heading_in_capitals_whose_partial_approval_opens_the_next_line() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1. Norco 10/325mg #60\n\n"
        "The Claims Administrator's decision on this request is upheld.\n\n"
        "Rationale: Not recommended.\n\n"
        "2. RETROSPECTIVE REQUEST FOR FLEXERIL 10MG #30 (DOS 2/2/21)\n"
        "was the original request. RETROSPECTIVE REQUEST FOR FLEXERIL\n"
        "10MG #10 (DOS 2/2/21) was certified by the Claims\n"
        "Administrator. The remaining IMR eligible portion of the\n"
        "original request, RETROSPECTIVE REQUEST FOR FLEXERIL 10MG\n#20 (DOS 2/2/21)\n\n"
        "The Claims Administrator's decision on this request is upheld.\n\n"
        "Rationale: Not recommended.\n"
    )
    assert [(x.request, x.original_request, x.outcome) for x in d.decisions] == [
        ("Norco 10/325mg #60", "", "Upheld"),
        ("RETROSPECTIVE REQUEST FOR FLEXERIL 10MG #20 (DOS 2/2/21)",
         "RETROSPECTIVE REQUEST FOR FLEXERIL 10MG #30 (DOS 2/2/21)", "Upheld"),
    ]  # fmt: skip


NOTICE_DECIDED = (
    "1) MAXIMUS Federal Services, Inc. has determined the request for Zolpidem 10mg #30 is not "
    "medically necessary and appropriate.\n"
    "2) MAXIMUS Federal Services, Inc. has determined the request for Lidoderm 5% patch #30 is "
    "not medically necessary and appropriate.\n"
    "3) MAXIMUS Federal Services, Inc. has determined the request for a lumbar brace is "
    "medically necessary and appropriate.\n"
)


@pytest.mark.parametrize(
    "repetition",
    [
        pytest.param(  # a guideline's list ("1. X," / "2. Y.") then "Item 2:": no list's line
            "1) The request for Zolpidem 10mg #30:\n"
            "Guidelines used by the Expert Reviewer: ODG, Insomnia treatment Section(s):\n"
            "1. Chronic pain programs,\n2. Physical Medicine.\n"
            "Expert Reviewer's rationale: Not recommended. It is not medically necessary.\n"
            "Item 2: Lidoderm 5% patch #30\n"
            "Guidelines used by the Expert Reviewer: California MTUS, Topical analgesics.\n"
            "Reasons for the decision: Lidocaine patches are recommended only after a trial\n"
            "of first-line therapy. It is not medically necessary.\n"
            "Item 3: Lumbar brace\n"
            "Guidelines used by the Expert Reviewer: ACOEM, Low back complaints.\n"
            "Reasons for the decision: Supported. It is medically necessary.\n",
            id="list-then-numbered-label",
        ),
        pytest.param(  # criteria numbered as the items are, the next item named by its request
            "Item 1: Zolpidem 10mg #30\n"
            "Guidelines used by the Expert Reviewer: ODG, Insomnia treatment.\n"
            "Expert Reviewer's rationale: Not recommended. It is not medically necessary.\n"
            "2) Lidoderm 5% patch #30:\n"
            "Guidelines used by the Expert Reviewer: California MTUS, Topical analgesics.\n"
            "Reasons for the decision: The criteria are:\n"
            "1) A written treatment plan.\n2) No evidence of drug-seeking behavior.\n"
            "None is documented. It is not medically necessary.\n"
            "3) The request for a lumbar brace:\n"
            "Guidelines used by the Expert Reviewer: ACOEM, Low back complaints.\n"
            "Reasons for the decision: Supported for an acute injury with spasm and\n"
            "guarding. It is medically necessary.\n",
            id="criteria-numbered-as-items",
        ),
    ],
)
def test_a_2013_repetition_gives_each_decision_its_own_guideline(repetition: str) -> None:
    d = parse_text(
        NOTICE_HEAD
        + NOTICE_DECIDED
        + NOTICE_TAIL
        + "\nDocuments Reviewed:\nOperative report\n\n"
        + repetition
    )
    assert [(x.outcome, x.guideline_sources) for x in d.decisions] == [
        ("Upheld", ("ODG",)),
        ("Upheld", ("MTUS",)),
        ("Overturned", ("ACOEM",)),
    ]


PRO_GUIDES = "\nMEDICAL TREATMENT GUIDELINE(S) RELIED UPON BY PROFESSIONAL REVIEWER AND WHY:\n"
PRO_REASONS = (
    "\nRATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY:\n"
)


def test_professional_parts_headed_by_a_partial_approvals_decided_request() -> None:
    d = parse_text(
        PRO_HEAD + "Acupuncture x 8 visits was the original request. Acupuncture x 6 visits was "
        "authorized by the Claims Administrator. The remaining IMR eligible portion of the "
        "original request, Acupuncture x 2 visits \u2013 Upheld\n"
        "Purchase of a TENS unit \u2013 Upheld\n"
        + PRO_TAIL
        + PRO_GUIDES
        + "Acupuncture x 2 visits:\nCalifornia MTUS Acupuncture Medical "
        "Treatment Guidelines.\nPurchase of a TENS unit:\nOfficial Disability Guidelines (ODG), "
        "Knee & Leg.\n" + PRO_REASONS + "Acupuncture x 2 visits:\nNo functional improvement is "
        "documented.\nPurchase of a TENS unit:\nACOEM states that there is no evidence for it.\n"
        "The criteria for this treatment include:\n1. A trial of physical therapy.\n"
    )
    assert [(x.request, x.guideline_sources) for x in d.decisions] == [
        ("Acupuncture x 2 visits", ("MTUS",)),
        ("Purchase of a TENS unit", ("ODG", "ACOEM")),
    ]


@pytest.mark.parametrize(
    "guides",
    [
        pytest.param(  # one request: its part's first line ends in a colon, yet is no heading
            "Official Disability Guidelines (ODG), Low Back, Facet joint blocks Section(s):\n"
            "3. Chronic pain programs,\n4. Introduction.\n",
            id="colon-ended-citation",
        ),
        pytest.param(  # a numbered list after the citation's colon is no split of its parts
            "California MTUS Chronic Pain Medical Treatment Guidelines (2009), page(s) 63-66. "
            "Official Disability Guidelines (ODG), Pain (Chronic) Section(s):\n"
            "1. Weaning of Medications,\n2. Opioids for Chronic Pain.\n",
            id="listed-sections",
        ),
    ],
)
def test_a_professional_guideline_part_keeps_its_citation(guides: str) -> None:
    d = parse_text(
        PRO_HEAD
        + "Prospective request for 1 prescription of Amrix 10mg #10\nDecision: Upheld\n"
        + PRO_TAIL
        + PRO_GUIDES
        + guides
        + PRO_REASONS
        + "Not recommended by the MTUS.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Prospective request for 1 prescription of Amrix 10mg #10", "Upheld")
    ]
    assert d.decisions[0].guideline_sources == ("MTUS", "ODG")


@pytest.mark.parametrize(
    "first", ["1) The request for Zolpidem 10mg #30:", "Item 1: Zolpidem 10mg #30"]
)
def test_a_2013_repetition_right_after_the_bulleted_documents_list(first: str) -> None:
    d = parse_text(
        NOTICE_HEAD + NOTICE_DECIDED + NOTICE_TAIL + "\nDocuments Reviewed for Determination:\n"
        "- Utilization Review Denial dated 1/30/2014\n- Pharmacy records\n" + first + "\n"
        "Guidelines used by the Expert Reviewer: ODG, Insomnia treatment.\n"
        "Expert Reviewer's rationale: Not recommended. It is not medically necessary.\n"
        "Item 2: Lidoderm 5% patch #30\n"
        "Guidelines used by the Expert Reviewer: California MTUS, Topical analgesics.\n"
        "Reasons for the decision: Not first-line. It is not medically necessary.\n"
        "Item 3: Lumbar brace\n"
        "Guidelines used by the Expert Reviewer: ACOEM, Low back complaints.\n"
        "Reasons for the decision: Supported. It is medically necessary.\n"
    )
    assert [(x.outcome, x.guideline_sources) for x in d.decisions] == [
        ("Upheld", ("ODG",)),
        ("Upheld", ("MTUS",)),
        ("Overturned", ("ACOEM",)),
    ]


IMR_HEAD = (
    "Case Number: CM16-0999001\nDate Assigned: 1/5/2016\n\n"
    "HOW THE IMR FINAL DETERMINATION WAS MADE\n\nThe expert reviewer is Board Certified in "
    "Internal Medicine and is licensed to practice in Ohio.\n\nCLINICAL CASE SUMMARY\n\n"
    "The injured worker is a 50 year old male with low back pain.\n\n"
    "IMR ISSUES, DECISIONS AND RATIONALES\n\n"
)


def test_an_imr_partial_approval_above_its_labels_without_an_outcome_line() -> None:
    # Its first sentence set apart by a page gap, its outcome stated only in its rationale.
    d = parse_text(
        IMR_HEAD + "Naproxen 550mg #60:  Upheld\n\n"
        "Claims Administrator guideline: Decision based on MTUS.\n\n"
        "MAXIMUS guideline: Decision based on MTUS.\n\n"
        "Decision rationale: Not recommended. Therefore the Utilization Review decision is "
        "upheld.\n\n"
        "Roxicodone 30mg Qty 60 was the original request.\n\n"
        "Roxicodone 30mg Qty 36 was approved by the Claims\nAdministrator. The remaining IMR "
        "eligible portion\nof the original request, Roxicodone 30mg Qty 24\nis:\n\n"
        "Claims Administrator guideline: Decision based on MTUS.\n\n"
        "MAXIMUS guideline: Decision based on MTUS Opioids, criteria for use.\n\n"
        "Decision rationale: The criteria are met. Roxicodone is medically necessary. "
        "Therefore the Utilization Review decision is overturned.\n"
    )
    assert [(x.request, x.original_request, x.outcome) for x in d.decisions] == [
        ("Naproxen 550mg #60", "", "Upheld"),
        ("Roxicodone 30mg Qty 24", "Roxicodone 30mg Qty 60", "Overturned"),
    ]


def test_a_request_labelled_heading_after_a_list_numbered_as_the_items() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1. Request: Naproxen 550mg #60\nDetermination: Upheld\n\n"
        "Guidelines: MTUS.\n\nRationale: Not recommended. The request is not medically "
        "necessary.\n\n"
        "2. Request: Office visit in 4-6 weeks\nDetermination: Upheld\n\n"
        "Guidelines: ODG, Office visits Section(s):\n1. Introduction,\n"
        "2. Chronic pain programs.\n\n"
        "Rationale: Not needed now. The request is not medically necessary.\n\n"
        "3. Request: Associated surgical service: Assistant surgeon\n\n"
        "Guidelines: ODG, Knee & Leg.\n\n"
        "Rationale: The surgery is not certified. The request is not medically necessary.\n\n"
        "Determination: Upheld\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Naproxen 550mg #60", "Upheld"),
        ("Office visit in 4-6 weeks", "Upheld"),
        ("Associated surgical service: Assistant surgeon", "Upheld"),
    ]


def test_a_guideline_list_numbered_on_from_the_item_opens_no_item_of_an_unknown_layout() -> None:
    d = parse_text(
        UNKNOWN_HEAD + "1. Chiropractic manipulation x 8 sessions\n"
        "Outcome: The previous non-certification is overturned.\n"
        "Guidelines considered: Official Disability Guidelines (ODG), Low Back, Manipulation "
        "Section(s):\n2. Chronic pain programs,\n3. Weaning of Medications.\n"
        "Discussion: A trial of 6 visits is recommended. It is medically necessary.\n"
        + UNKNOWN_TAIL
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Chiropractic manipulation x 8 sessions", "Overturned")
    ]


def test_a_professional_sentence_cut_after_its_date_of_service_label() -> None:
    d = parse_text(
        PRO_HEAD + "Upon independent review, the denial of Transportation\n"
        "to and from medical appointments is upheld.\n"
        "The denial of Medial branch block at L3-L4, L4-L5 DOS:\n11/9/2021 is upheld.\n"
        "After review, the denial of OxyContin 10mg 30 tablets\nis upheld.\n" + PRO_TAIL
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Transportation to and from medical appointments", "Upheld"),
        ("Medial branch block at L3-L4, L4-L5 DOS: 11/9/2021", "Upheld"),
        ("OxyContin 10mg 30 tablets", "Upheld"),
    ]


def test_an_imr_heading_in_capitals_wrapped_into_its_item_line() -> None:
    d = parse_text(
        IMR_HEAD + "1. EMG/NCV OF THE BILATERAL UPPER\nEXTREMITIES: Upheld\n\n"
        "Claims Administrator guideline: Decision based on MTUS ACOEM.\n\n"
        "MAXIMUS guideline: Decision based on ODG.\n\n"
        "Decision rationale: Not indicated. The request is not medically necessary.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("EMG/NCV OF THE BILATERAL UPPER EXTREMITIES", "Upheld")
    ]


@pytest.mark.parametrize(
    ("first", "want"),
    [
        pytest.param(  # a page break inside the sentence, its count opening the next page
            "1) Prospective request for 1 prescription of Atarax 25MG\n\nPage 2\n\n"
            "#180 is not medically necessary and appropriate.\n",
            "Prospective request for 1 prescription of Atarax 25MG #180",
            id="page-break",
        ),
        pytest.param(  # the heading's capitals set its last words apart as a title would be
            "1) TOPICAL COMPOUND LIDOCAINE 5% + CAMPHOR 2% + TRAMADOL 20%\n"
            "TOPICAL CREAM is not medically necessary and appropriate.\n",
            "TOPICAL COMPOUND LIDOCAINE 5% + CAMPHOR 2% + TRAMADOL 20% TOPICAL CREAM",
            id="capitals",
        ),
    ],
)
def test_a_numbered_decision_sentence_set_apart_before_its_verb(first: str, want: str) -> None:
    d = parse_text(
        MAXIMUS_HEAD + first + "\nThe Expert Reviewer's decision rationale: Not recommended.\n\n"
        "2) ESOMEPRAZOLE 20MG X10 is not medically necessary and appropriate.\n\n"
        "The Expert Reviewer's decision rationale: Not recommended.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        (want, "Upheld"),
        ("ESOMEPRAZOLE 20MG X10", "Upheld"),
    ]


def test_a_list_numbered_on_under_request_labelled_items_is_no_item() -> None:
    d = parse_text(
        MAXIMUS_HEAD + "1. Request: Gabapentin 300mg 150 capsules\nDetermination: Upheld\n"
        "Guidelines: ODG, Anti-epilepsy drugs.\nRationale: Not indicated. The request is not "
        "medically necessary.\n\n"
        "2. Request: Repeat MRI of the neck\n\nGuidelines: ODG, Neck and Upper Back.\n"
        "Rationale: Imaging is not recommended without red flags.\n"
        "The following are recommended:\n1. A written treatment plan.\n"
        "2. Documentation of objective functional improvement.\n\n"
        "3. Time-limited use, with a plan to taper.\n\n"
        "The requested treatment is not medically necessary.\n\nDetermination: Upheld\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Gabapentin 300mg 150 capsules", "Upheld"),
        ("Repeat MRI of the neck", "Upheld"),
    ]


def test_a_2013_decision_sentence_wrapped_over_five_short_lines() -> None:
    d = parse_text(
        NOTICE_HEAD + "1. MAXIMUS Federal Services, Inc. has determined the request for "
        "3 view X-rays of the thoracic spine is not medically necessary and appropriate.\n\n"
        "2. MAXIMUS Federal Services, Inc. has\ndetermined that the request for Prospective\n"
        "request for continuous passive motion machine\nx 21 days DOS: 2/11/2013 is not "
        "medically\nnecessary and appropriate.\n" + NOTICE_TAIL
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("3 view X-rays of the thoracic spine", "Upheld"),
        ("Prospective request for continuous passive motion machine x 21 days DOS: 2/11/2013",
         "Upheld"),
    ]  # fmt: skip


IMR_PARTS = (
    "\n\nClaims Administrator guideline: Decision based on MTUS.\n\n"
    "MAXIMUS guideline: Decision based on MTUS.\n\n"
    "Decision rationale: Not recommended. The request is not medically necessary.\n\n"
)


@pytest.mark.parametrize(
    ("item", "want"),
    [
        pytest.param(  # a heading in capitals, its count on the item line set apart by it
            "HYDROCODONE-ACETAMINOPHEN 7.5/325MG\n#30: Upheld",
            ("HYDROCODONE-ACETAMINOPHEN 7.5/325MG #30", "", "Upheld"),
            id="count-after-capitals",
        ),
        pytest.param(  # after a joining word, a page gap between
            "ANTERIOR CERVICAL DISCECTOMY AND FUSION AT\n\nC5-6: Upheld",
            ("ANTERIOR CERVICAL DISCECTOMY AND FUSION AT C5-6", "", "Upheld"),
            id="joining-word",
        ),
        pytest.param(  # a partial approval's decided part on the item line after a page gap
            "FLECTOR 1.3% PATCH #60 was the original request. FLECTOR 1.3% PATCH #33 was "
            "authorized by the\nClaims Administrator. The remaining IMR eligible portion of the "
            "original request, FLECTOR 1.3%\n\nPATCH #27 is: Upheld",
            ("FLECTOR 1.3% PATCH #27", "FLECTOR 1.3% PATCH #33", "Upheld"),
            id="partial-item-line",
        ),
        pytest.param(  # a date of service over its outcome, set apart by a page gap
            "Retrospective Percocet 7.5/325MG #20 DOS\n\n3/21/15:\nUpheld",
            ("Retrospective Percocet 7.5/325MG #20 DOS 3/21/15", "", "Upheld"),
            id="date-over-outcome",
        ),
        pytest.param(  # no outcome line: the request above the labels, over a page gap
            "Topical compound Amitriptyline 10% / Tramadol 20% / Capsaicin 0.025% compound\n\n60g",
            (
                "Topical compound Amitriptyline 10% / Tramadol 20% / Capsaicin 0.025% compound 60g",
                "",
                "Upheld",
            ),
            id="above-labels",
        ),
        pytest.param(  # a partial approval above the labels, its last line set apart
            "TENS UNIT RENTAL X 30 DAYS was the original request. TENS UNIT RENTAL X 23 DAYS was "
            "approved by\nthe Claims Administrator. The remaining IMR eligible portion of the "
            "original request, TENS UNIT\n\nRENTAL X 7 DAYS is:",
            ("TENS UNIT RENTAL X 7 DAYS", "TENS UNIT RENTAL X 23 DAYS", "Upheld"),
            id="partial-above-labels",
        ),
    ],
)
def test_an_imr_item_set_apart_by_a_page_gap_or_its_capitals(
    item: str, want: tuple[str, str, str]
) -> None:
    letter = IMR_HEAD + "Naproxen 550mg #60:  Upheld" + IMR_PARTS + item + IMR_PARTS
    d = parse_text(letter.replace("\n", "\n\n"))  # double-spaced: "\n\n" is a page gap
    assert [(x.request, x.authorized, x.outcome) for x in d.decisions] == [
        ("Naproxen 550mg #60", "", "Upheld"),
        want,
    ]


@pytest.mark.parametrize(
    ("heading", "want"),
    [
        pytest.param(
            "1. EMG of the bilateral lower extremity DOS:\n\n5/20/2018",
            "EMG of the bilateral lower extremity DOS: 5/20/2018",
            id="date-after-label-and-gap",
        ),
        pytest.param(
            "1. Retrospective request for Duloxetine 60mg #20 (DOS\n\n2/15/14)",
            "Retrospective request for Duloxetine 60mg #20 (DOS 2/15/14)",
            id="date-in-parentheses",
        ),
        pytest.param(
            "1. 10 sessions of physical therapy for the right ankle\nDOS: 4/10/2013",
            "10 sessions of physical therapy for the right ankle DOS: 4/10/2013",
            id="date-label-line",
        ),
        pytest.param(
            "1. Lumbar epidural steroid injection at L4-5 and\n\nL5-S1",
            "Lumbar epidural steroid injection at L4-5 and L5-S1",
            id="joining-word",
        ),
    ],
)
def test_a_numbered_heading_set_apart_from_its_last_words(heading: str, want: str) -> None:
    letter = (
        MAXIMUS_HEAD + heading + "\n\nThe Claims Administrator's decision on this request is "
        "upheld.\n\nRationale: Not recommended.\n\n2. Knee brace\n\nThe Claims Administrator's "
        "decision on this request is upheld.\n\nRationale: Not recommended.\n"
    )
    d = parse_text(letter.replace("\n", "\n\n"))  # double-spaced: "\n\n" is a page gap
    assert [(x.request, x.outcome) for x in d.decisions] == [
        (want, "Upheld"),
        ("Knee brace", "Upheld"),
    ]


def test_a_partial_approval_heading_stops_at_the_decision_sentence_under_it() -> None:
    letter = (
        MAXIMUS_HEAD + "1) Neurontin 100mg QTY 15 was the original request. Neurontin 100mg QTY\n"
        "1 was approved by the Claims Administrator. The remaining IMR eligible\n"
        "portion of the original request, Neurontin 100mg QTY 14\n\n"
        "After review, the decision of the Claims Administrator is upheld.\n\n"
        "Rationale: Not recommended.\n"
    )
    d = parse_text(letter.replace("\n", "\n\n"))
    assert [(x.request, x.authorized, x.outcome) for x in d.decisions] == [
        ("Neurontin 100mg QTY 14", "Neurontin 100mg QTY 1", "Upheld")
    ]
