"""Item structure: no invented decisions, whole multi-line requests, partial approvals."""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path
from typing import Any

from search.parse import parse_text
from search.parse.partial import split_partial

HEAD = """\
Case Number: CM15-0101010
Date Assigned: 03/02/2015 Date of Injury: 01/05/2012
Decision Date: 04/01/2015 UR Denial Date: 02/20/2015
Priority: Standard Application Received: 02/25/2015

HOW THE IMR FINAL DETERMINATION WAS MADE
MAXIMUS Federal Services sent the complete case file to an expert reviewer.
The Expert Reviewer has the following credentials:
State(s) of Licensure: Oregon
Certification(s)/Specialty: Physical Medicine & Rehabilitation, Public Health &
General Preventive Medicine

CLINICAL CASE SUMMARY
The injured worker is a 44 year old female with chronic low back pain.

IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:

"""


def parse(body: str) -> list[tuple[str, str | None]]:
    """(request, outcome) of each decision of a letter made of HEAD and `body`."""
    d = parse_text(HEAD + textwrap.dedent(body))
    return [(x.request, x.outcome) for x in d.decisions]


def test_numbered_guideline_lines_are_not_decisions() -> None:
    found = parse(
        """\
        Norco 10/325mg #60: Upheld

        Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment
        Guidelines, Section(s):
        3. Opioids for Chronic Pain, criteria for use, pages 76-80.

        Decision rationale: The records do not document functional improvement:
        1. No pain scores are given before and after each dose.
        2. No urine drug screen is documented.
        Therefore the request is not medically necessary.

        Tizanidine 4mg #30: Overturned

        Decision rationale: The request is medically necessary.
        """
    )
    assert found == [("Norco 10/325mg #60", "Upheld"), ("Tizanidine 4mg #30", "Overturned")]


def test_label_inside_a_sentence_is_not_a_request() -> None:
    found = parse(
        """\
        Physical therapy 2 times a week for 6 weeks: Upheld

        Decision rationale: ODG quantifies physical therapy for the hand with: Fracture, 8 visits
        over 5 weeks; post-surgical
        treatment: Complicated, 16 visits over 10 weeks. The request is not medically necessary.

        Gym membership: Upheld

        Decision rationale: Gym memberships are not recommended.
        """
    )
    assert found == [
        ("Physical therapy 2 times a week for 6 weeks", "Upheld"),
        ("Gym membership", "Upheld"),
    ]


def test_request_wrapped_over_lines_and_a_page_break_is_kept_whole() -> None:
    found = parse(
        """\
        Voltaren gel apply to affected area 4 times a day, #60 grams with 1 refill, DOS:
        11/11/2016: Upheld

        Decision rationale: Topical NSAIDs are not recommended for the spine. The request is
        not medically necessary.

        Lidoderm patch, 12 hours on 12 hours off to affected area, #1 box with 1 refill, and
        Page 3 of 5

        DOS: 11/11/2016: Overturned

        Decision rationale: The request is medically necessary.
        """
    )
    assert [r for r, _ in found] == [
        "Voltaren gel apply to affected area 4 times a day, #60 grams with 1 refill, DOS: "
        "11/11/2016",
        "Lidoderm patch, 12 hours on 12 hours off to affected area, #1 box with 1 refill, and "
        "DOS: 11/11/2016",
    ]


PARTIAL_BODY = HEAD + textwrap.dedent(
    """\
    Tramadol ER 150mg #60 was the original request. Tramadol ER 150mg #30 was
    authorized by the Claims Administrator. The remaining IMR eligible portion of the
    original request, Tramadol ER 150mg #30 is: Upheld

    Decision rationale: The request is not medically necessary.

    MRI of the lumbar spine: Overturned

    Decision rationale: The request is medically necessary.
    """
)


def test_partial_approval_is_data() -> None:
    d = parse_text(PARTIAL_BODY)
    first, second = d.decisions
    assert first.request == "Tramadol ER 150mg #30"
    assert first.original_request == "Tramadol ER 150mg #60"
    assert first.authorized == "Tramadol ER 150mg #30"
    assert first.ur_modified and first.drug == "tramadol" and first.outcome == "Upheld"
    assert (second.request, second.ur_modified, second.original_request) == (
        "MRI of the lumbar spine",
        False,
        "",
    )


def test_split_partial_forms() -> None:
    active = split_partial(
        "Physical therapy x 12 was the original request. The Claims Administrator authorized 2 "
        "sessions of occupational therapy, leaving the original request IMR eligible. The "
        "original request, physical therapy x 12 is"
    )
    assert active == ("physical therapy x 12", "Physical therapy x 12", "2 sessions of "
                      "occupational therapy", True)  # fmt: skip
    plain = split_partial("Norco 10/325 #60")
    assert plain == ("Norco 10/325 #60", "", "", False)


def test_wrapped_specialty_line_is_joined() -> None:
    d = parse_text(HEAD + "Norco 10/325mg #60: Upheld\n")
    assert any("General Preventive" in s or s == "Preventive Medicine" for s in
               d.reviewer.specialties)  # fmt: skip
    assert "Public Health" not in d.reviewer.specialties


def test_partial_approval_is_a_facet_on_the_page_and_in_csv(tmp_path: Path) -> None:
    from search import SearchIndex, SearchRequest
    from search.index import index_paths
    from web.app import create_app

    letters = tmp_path / "letters"
    letters.mkdir()
    partial = PARTIAL_BODY.replace("CM15-0101010", "CM15-0101011")
    (letters / "partial.txt").write_text(partial, encoding="utf-8")
    (letters / "plain.txt").write_text(HEAD + "Norco 10/325mg #60: Upheld\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths(index_dir, [letters], workers=1)
    idx = SearchIndex.open(str(index_dir))
    yes = idx.search(SearchRequest(filters={"ur_modified": ("yes",)}))
    assert [h.id for h in yes.results] == ["CM15-0101011"]
    assert yes.total_decisions == 1 and dict(yes.facets["outcome"]) == {"Upheld": 1}
    assert dict(idx.search(SearchRequest()).facets["ur_modified"]) == {"yes": 1, "no": 2}
    client = create_app({"INDEX_PATH": str(index_dir), "REFRESH_INTERVAL": 0}).test_client()
    page = client.get("/determinations/CM15-0101011").get_data(as_text=True)
    assert "Partly authorized by UR" in page and "Tramadol ER 150mg #60" in page
    data = client.get("/api/determinations/CM15-0101011").get_json()
    first = data["decisions"][0]
    assert (first["ur_modified"], first["original_request"]) == (True, "Tramadol ER 150mg #60")
    rows = list(csv.reader(io.StringIO(client.get("/search.csv").get_data(as_text=True))))
    column = rows[0].index("ur_modified")
    assert sorted(r[column] for r in rows[1:]) == ["no", "no", "yes"]


def test_header_fields_and_regions() -> None:
    d = parse_text(PARTIAL_BODY)
    assert (d.decision_date, d.priority, d.application_received) == (
        "2015-04-01",
        "regular",
        "2015-02-25",
    )
    assert d.year == 2015
    assert d.decisions[1].regions == ("lumbar spine",)
    expedited = parse_text(PARTIAL_BODY.replace("Priority: Standard", "Priority: Expedited"))
    assert expedited.priority == "expedited"
    undated = parse_text("March 3, 2014\n\n" + PARTIAL_BODY.split("HOW THE", 1)[1])
    assert undated.decision_date == "2014-03-03"


LETTERS = Path(__file__).resolve().parent / "letters"


def test_2013_notice_layout_sentence_decisions() -> None:
    d = parse_text((LETTERS / "notice_2013.txt").read_text(encoding="utf-8"))
    assert d.layout == "notice2013"
    assert [(x.request, x.outcome, x.drug) for x in d.decisions] == [
        ("28 day functional restoration program", "Upheld", None),
        ("Norco 10/325mg #90", "Upheld", "hydrocodone/acetaminophen"),
    ]
    # Each item's rationale is its own (the rationale sections follow in item order).
    assert "adequate evaluation" in d.decisions[0].rationale
    assert "opioids" in d.decisions[1].rationale
    assert (d.decision_date, d.ur_denial_date, d.case_number) == (
        "2013-10-21",
        "2013-08-30",
        "CM13-0023456",
    )
    assert d.reviewer.states == ("California",)
    assert "Case Summary" in [s.heading for s in d.sections]
    # "... is not medically necessary" implies the outcome: no label or sentence states it.
    assert [w.split(":")[:2] for w in d.warnings] == [
        ["decision 1", " outcome inferred"],
        ["decision 2", " outcome inferred"],
    ]


def test_maximus_numbered_headings_with_a_decision_sentence() -> None:
    d = parse_text((LETTERS / "maximus_numbered_sentence.txt").read_text(encoding="utf-8"))
    assert [(x.request, x.outcome) for x in d.decisions] == [
        (
            "Acupuncture x 6 sessions for the cervical spine, to be performed twice weekly for "
            "three weeks",
            "Upheld",
        ),
        ("Tramadol 50mg #60", "Overturned"),
    ]
    # The rationale's own numbered list stays in the rationale.
    assert "2. It is used as an adjunct" in d.decisions[0].rationale


def test_heading_prefilter_is_derived_from_the_headings() -> None:
    from search.parse import sections

    for _, pattern, _ in sections._HEADINGS:  # every heading reaches match_heading
        assert pattern in sections._HEADING_START.pattern
        assert pattern in sections._CANDIDATE.pattern
    for line in (
        "INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE",
        "Medical Qualifications of the Expert Reviewer:",
        "Case Summary:",
        "Documents Reviewed for Determination:",
    ):
        assert sections.match_heading(line), line
    # A weak heading word opening a sentence is no heading.
    assert sections.match_heading("Case summary was read by the reviewer") is None


def test_letters_of_an_older_parser_are_parsed_again(tmp_path: Path, monkeypatch: Any) -> None:
    import search.index_registry as index_module
    import search.model as model_module
    import search.parse.resolve as resolve_module
    from search import SearchIndex, SearchRequest
    from search.index import index_paths

    letters = tmp_path / "letters"
    letters.mkdir()
    (letters / "a.txt").write_text(PARTIAL_BODY, encoding="utf-8")
    index_dir = tmp_path / "index"
    older = model_module.PARSER_VERSION - 1
    for module in (model_module, resolve_module, index_module):
        monkeypatch.setattr(module, "PARSER_VERSION", older)
    first = index_paths(index_dir, [letters], workers=1)
    assert first.added == 1
    again = index_paths(index_dir, [letters], workers=1)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    monkeypatch.undo()
    upgraded = index_paths(index_dir, [letters], workers=1)
    assert (upgraded.added, upgraded.updated, upgraded.unchanged) == (0, 1, 0)
    idx = SearchIndex.open(str(index_dir))
    record = idx.get("CM15-0101010")
    assert record is not None and record.parser_version == model_module.PARSER_VERSION
    assert idx.search(SearchRequest()).total_determinations == 1
    final = index_paths(index_dir, [letters], workers=1)
    assert (final.updated, final.unchanged) == (0, 1)


def test_audit_counts_layouts_and_warnings(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    letters = tmp_path / "letters"
    letters.mkdir()
    (letters / "a.txt").write_text(PARTIAL_BODY, encoding="utf-8")
    (letters / "b.txt").write_text("A note with no decision in it at all.\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    cli = [sys.executable, "-m", "search.cli"]
    subprocess.run([*cli, "index", str(letters), "--index", str(index_dir)], check=True)
    out = subprocess.run(
        [*cli, "audit", "--index", str(index_dir), "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(out)
    assert (report["letters"], report["decisions"], report["older_parser"]) == (2, 2, 0)
    assert report["layouts"] == {"imr": 1, "unknown": 1}
    assert report["warnings"]["no decisions found"] == 1


def test_index_strict_fails_a_letter_without_decisions(tmp_path: Path) -> None:
    import subprocess
    import sys

    letters = tmp_path / "letters"
    letters.mkdir()
    (letters / "a.txt").write_text(PARTIAL_BODY, encoding="utf-8")
    (letters / "b.txt").write_text("A note with no decision in it at all.\n", encoding="utf-8")
    cli = [sys.executable, "-m", "search.cli", "index", str(letters)]
    run = subprocess.run(
        [*cli, "--index", str(tmp_path / "index"), "--strict"], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "b.txt: no decisions found (--strict)" in run.stderr
    assert "1 added" in run.stdout


MAXIMUS_HEAD = """\
MAXIMUS FEDERAL SERVICES, INC.
Case Number: CM15-0202020

IMR DECISION(S) AND RATIONALE(S)

"""


def test_numbered_headings_with_the_decision_sentence_on_the_next_line() -> None:
    d = parse_text(
        MAXIMUS_HEAD
        + textwrap.dedent(
            """\
            1. Cyclobenzaprine 10% / Gabapentin 6% /
            Amitriptyline 10% 180gm
            The utilization review decision regarding this request is overturned.
            Guideline(s) Cited: MTUS Chronic Pain, Topical Analgesics Section(s):
            2. Physical Medicine.
            Decision rationale: The criteria include:
            (1) Failure of first-line treatment.
            (2) A written treatment plan.
            The request is medically necessary.
            2. OxyContin 30mg x30 was the original request.
            OxyContin 30mg x10 was certified by the Claims
            Administrator. The remaining IMR eligible portion of
            the original request, OxyContin 30mg x20
            The Claims Administrator's decision on this request is upheld.
            Decision rationale: No functional improvement is documented.
            """
        )
    )
    got = [(x.request, x.outcome, x.original_request, x.authorized) for x in d.decisions]
    assert got == [
        ("Cyclobenzaprine 10% / Gabapentin 6% / Amitriptyline 10% 180gm", "Overturned", "", ""),
        ("OxyContin 30mg x20", "Upheld", "OxyContin 30mg x30", "OxyContin 30mg x10"),
    ]
    assert "MTUS" in d.decisions[0].maximus_guideline
    assert "(2) A written treatment plan." in d.decisions[0].rationale
    assert not any("inferred" in w for w in d.warnings)


def test_a_page_header_inside_a_wrapped_heading_is_dropped() -> None:
    d = parse_text(
        MAXIMUS_HEAD
        + "1. Bilateral knee arthroscopy with partial medial meniscectomy and\n\f"
        + "Page 2\nCase Number: CM15-0202020\n\n"
        + "chondroplasty of the left knee\n\n"
        + "The Claims Administrator's decision on this request is upheld.\n\n"
        + "Decision rationale: There is no mechanical symptom. The request is not medically "
        + "necessary.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        (
            "Bilateral knee arthroscopy with partial medial meniscectomy and chondroplasty of "
            "the left knee",
            "Upheld",
        )
    ]
    assert d.case_number == "CM15-0202020"


def test_2013_sentences_take_the_reasons_of_their_repetition() -> None:
    d = parse_text(
        textwrap.dedent(
            """\
            Notice of Independent Medical Review Determination
            MAXIMUS Case Number: CM13-0034567

            INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE
            1. MAXIMUS Federal Services, Inc. has determined that the request for Duloxetine 30mg
            #15 is medically necessary and appropriate.
            2. MAXIMUS Federal Services, Inc. has determined the request for a follow-up visit is
            not medically necessary and appropriate.

            Documents Reviewed:
            Utilization Review Denial dated 3/14/2014

            Item 1: Duloxetine 30mg #15
            Guidelines used by the Expert Reviewer: MTUS Chronic Pain, Antidepressants.
            Expert Reviewer's rationale: Neuropathic pain is documented. The request is
            medically necessary.

            2) The request for a follow-up visit:
            Basis of the decision: ODG, Office visits.
            Reasons for the decision: The frequency is not supported. The request is not
            medically necessary.
            """
        )
    )
    got = [(x.request, x.outcome) for x in d.decisions]
    assert got == [("Duloxetine 30mg #15", "Overturned"), ("follow-up visit", "Upheld")]
    assert "Neuropathic pain is documented" in d.decisions[0].rationale
    assert "frequency is not supported" in d.decisions[1].rationale
    assert "ODG" in d.decisions[1].guideline_sources


def test_a_professional_decision_sentence_broken_by_a_page() -> None:
    d = parse_text(
        "MEDICAL PROFESSIONAL REVIEW\nIMR Case Number: CM19-8816647\n\n"
        "ISSUE AT DISPUTE:\n\nUpon independent review, the denial of Orphenadrine Citrate\n\n"
        "ER 100 mg #90 is upheld.\n\nCASE SUMMARY:\nThe patient is a 67-year-old man.\n"
    )
    assert [(x.request, x.outcome) for x in d.decisions] == [
        ("Orphenadrine Citrate ER 100 mg #90", "Upheld")
    ]
