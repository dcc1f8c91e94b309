"""The parser on the five real letters, our own letters in layouts 2 and 3, and noise."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.fields import (
    LAYOUT_IMR,
    LAYOUT_MAXIMUS,
    LAYOUT_PROFESSIONAL,
    LAYOUT_UNKNOWN,
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_HOW_MADE,
)
from search.model import Determination, determination_from_dict
from search.parse import make_id, parse_date, parse_text
from search.parse.clean import clean_lines, clean_text
from search.parse.load import decode_text

SAMPLES = Path(__file__).resolve().parent.parent / "search" / "samples"
LETTERS = Path(__file__).resolve().parent / "letters"


def sample(prefix: str) -> Determination:
    """Parse the bundled sample whose file name starts with `prefix`."""
    path = next(SAMPLES.glob(f"{prefix}_*.txt"))
    return parse_text(path.read_text(encoding="utf-8"), source=str(path))


def letter(name: str) -> Determination:
    """Parse one of our own test letters."""
    path = LETTERS / name
    return parse_text(path.read_text(encoding="utf-8"), source=str(path))


def decisions(d: Determination) -> list[tuple[str, str | None, str | None]]:
    """(request, outcome, drug) of each decision."""
    return [(x.request, x.outcome, x.drug) for x in d.decisions]


# -- the five real letters, field by field ------------------------------------------------


def test_sample_000_single_overturned_item() -> None:
    d = sample("000")
    assert d.id == "000_1c8ed2636274dfbf"
    assert d.layout == LAYOUT_IMR
    assert d.case_number is None and d.date_assigned is None and d.ur_denial_date is None
    assert d.date_of_injury == "2011-05-15"
    assert d.reviewer.states == ("California",)
    assert d.reviewer.specialties == ("Anesthesiology", "Acupuncture and Pain Medicine")
    assert (d.worker.age, d.worker.sex) == (26, "male")
    assert decisions(d) == [
        ("TIZANIDINE 4MG Q PRN/ QHS/PRN FOR SEVERE MUSCLE SPASMS", "Overturned", "tizanidine")
    ]
    x = d.decisions[0]
    assert x.ordinal == 1 and x.medically_necessary is True
    assert x.drug_as_written == "TIZANIDINE"
    assert x.drug_class == "muscle relaxant"
    assert x.strength == "4 mg"
    assert x.category == "pharmaceuticals"
    assert x.claims_administrator_guideline.startswith("Decision based on MTUS Chronic Pain")
    assert x.maximus_guideline.endswith("Antispasticity Drug Section Page(s): 66.")
    assert x.guideline_sources == ("MTUS",)
    assert x.mtus_pages == ("66",)
    assert x.rationale.startswith('Per the California MTUS p66 "Tizanidine is a centrally acting')
    assert x.rationale.endswith("The request is medically necessary")
    assert "alpha2-adrenergic" in x.rationale  # the line-end hyphen of a compound stays
    assert d.warnings == ()


def test_sample_001_numbered_brand_request() -> None:
    d = sample("001")
    assert d.reviewer.states == ("Indiana",)
    assert d.reviewer.specialties == ("Preventive Medicine",)
    assert (d.worker.age, d.worker.sex) == (52, "male")
    assert d.date_of_injury is None  # "almost 25 years ago" is no date
    assert decisions(d) == [
        ("1 PRESCRIPTION OF ZANAFLEX 4 MG # 30 WITH 1 REFILL", "Overturned", "tizanidine")
    ]
    x = d.decisions[0]
    assert x.drug_as_written == "ZANAFLEX"
    assert x.quantity == "30"
    assert x.mtus_pages == ("66",)
    assert x.rationale.endswith(
        "Therefore, Zanaflex 4mg #30 with one refill is medically necessary."
    )


def test_sample_002_two_items_brand_combination() -> None:
    d = sample("002")
    assert d.reviewer.states == ("California",)
    assert d.reviewer.specialties[0] == "Anesthesiology"  # written "Anesthesia"
    assert (d.worker.age, d.worker.sex) == (30, "female")
    assert d.date_of_injury == "2012-05-26"
    assert decisions(d) == [
        ("Norco 10/325 mg #30", "Upheld", "hydrocodone/acetaminophen"),
        ("Tizanidine 4 mg #30", "Upheld", "tizanidine"),
    ]
    norco, tiz = d.decisions
    assert norco.drug_as_written == "Norco" and norco.drug_class == "opioid"
    assert norco.strength == "10/325 mg" and norco.quantity == "30"
    assert norco.mtus_pages == ("78", "91")
    assert norco.medically_necessary is False
    assert tiz.guideline_sources == ("MTUS", "ODG")
    assert tiz.claims_administrator_guideline.startswith("The Claims Administrator did not base")
    assert tiz.rationale.endswith("the request is not medically necessary.")
    assert "Four domains have been proposed" not in tiz.rationale


def test_sample_003_credentials_as_lines_three_items() -> None:
    d = sample("003")
    assert d.reviewer.states == ("Maryland",)
    assert d.reviewer.specialties == ("Internal Medicine", "Rheumatology")
    assert (d.worker.age, d.worker.sex) == (53, "male")
    assert d.date_of_injury == "2009-02-01"
    assert decisions(d) == [
        ("Tizanidine 4mg #60", "Upheld", "tizanidine"),
        ("Diazepam 10mg #60", "Upheld", "diazepam"),
        ("Oxycodone 10mg #150", "Upheld", "oxycodone"),
    ]
    assert [x.drug_class for x in d.decisions] == ["muscle relaxant", "benzodiazepine", "opioid"]
    assert [x.quantity for x in d.decisions] == ["60", "60", "150"]
    assert d.decisions[2].rationale.endswith("Oxycodone is not medically necessary.")
    assert "non-opioid therapy" in d.decisions[2].rationale


def test_sample_004_summary_speaks_of_mri_but_items_are_drugs() -> None:
    d = sample("004")
    assert d.reviewer.states == ("Ohio",)
    assert d.worker.age is None
    assert decisions(d) == [
        ("30 Tablets of Tizanidine HCL 2mg", "Upheld", "tizanidine"),
        ("1 Tube of Voltaren Gel 1%", "Upheld", "diclofenac"),
    ]
    tiz, gel = d.decisions
    assert tiz.quantity == "30" and tiz.strength == "2 mg"
    assert tiz.guideline_sources == ("MTUS", "ODG")
    assert gel.drug_as_written == "Voltaren Gel" and gel.strength == "1%"
    assert gel.drug_class == "topical NSAID"
    assert gel.mtus_pages == ("112",)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_samples_keep_every_section_and_round_trip(prefix: str) -> None:
    d = sample(prefix)
    keys = [s.key for s in d.sections]
    assert keys == [SECTION_HOW_MADE, SECTION_CASE_SUMMARY, SECTION_DECISIONS]
    words = set(re.findall(r"[a-z]{4,}", clean_text(d.source and Path(d.source).read_text())))
    kept = set(re.findall(r"[a-z]{4,}", d.text))
    assert words <= kept  # nothing lost
    assert determination_from_dict(d.to_dict()).decisions == d.decisions


# -- our own letters in layouts 2 and 3 --------------------------------------------------


def test_maximus_layout_sentences_as_outcomes() -> None:
    d = letter("maximus_2013.txt")
    assert d.layout == LAYOUT_MAXIMUS
    assert d.id == d.case_number == "CM13-0045678"
    assert (d.date_of_injury, d.ur_denial_date) == ("2011-03-14", "2013-08-29")
    assert d.year == 2013
    assert d.reviewer.states == ("Texas",)
    assert d.reviewer.specialties == ("Orthopedic Surgery",)
    assert (d.worker.age, d.worker.sex) == (47, "female")
    assert decisions(d) == [
        ("Lidoderm 5% patch #30", "Upheld", "lidocaine"),
        ("MRI of the right shoulder", "Overturned", None),
        ("Physical therapy 2x6 for the right shoulder", "Upheld", None),
    ]
    assert [x.category for x in d.decisions] == [
        "pharmaceuticals",
        "diagnostic/imaging",
        "physical medicine/physical therapy",
    ]
    assert d.decisions[1].guideline_sources == ("ODG", "ACOEM")
    assert (
        "anti-depressants" in d.decisions[0].rationale or "antidepres" in d.decisions[0].rationale
    )
    assert "cc: Department" not in d.decisions[2].rationale
    assert "Department of Industrial Relations" in d.text  # kept, in another section


def test_professional_layout_issue_list_and_numbered_rationales() -> None:
    d = letter("professional_2021.txt")
    assert d.layout == LAYOUT_PROFESSIONAL
    assert d.case_number == "CM21-0098765"
    assert (d.date_assigned, d.ur_denial_date, d.date_of_injury) == (
        "2021-06-02",
        "2021-05-12",
        "2017-11-30",
    )
    assert d.reviewer.states == ("Nevada", "Arizona")
    assert d.reviewer.specialties == ("Physical Medicine and Rehabilitation", "Pain Medicine")
    assert (d.worker.age, d.worker.sex) == (61, "male")
    assert decisions(d) == [
        ("Gabapentin 600 mg #90 with 2 refills", "Overturned", "gabapentin"),
        ("Cyclobenzaprine 7.5 mg #60", "Upheld", "cyclobenzaprine"),
    ]
    gaba, cyclo = d.decisions
    assert "40% relief" in gaba.rationale and "over a year" not in gaba.rationale
    assert "over a year" in cyclo.rationale
    assert "Antiepilepsy drugs" in cyclo.maximus_guideline


def test_letter_without_headings_is_still_a_record() -> None:
    d = parse_text("Some text about a knee.\nNothing else here.", source="x/plain note.txt")
    assert d.layout == LAYOUT_UNKNOWN
    assert d.id == "plain_note"
    assert d.decisions == ()
    assert any("no decisions found" in w for w in d.warnings)
    assert "Nothing else here." in d.text


OUTCOME_STYLES = [
    ("Zanaflex 4mg #60:\nOverturned\n", "Overturned"),
    ("Zanaflex 4mg #60: UPHELD\n", "Upheld"),
    ("1. Zanaflex 4mg #60 - Overturned\n", "Overturned"),
    ("Zanaflex 4mg #60\n", None),  # outcome only as a sentence in the rationale
]


@pytest.mark.parametrize(("item", "expected"), OUTCOME_STYLES)
@pytest.mark.parametrize(
    "sentence",
    [
        "The decision regarding this request is upheld.",
        "Therefore the Utilization Review decision is overturned.",
    ],
)
def test_outcome_styles(item: str, expected: str | None, sentence: str) -> None:
    text = (
        "IMR ISSUES, DECISIONS AND RATIONALES\n"
        "The Final Determination was based on decisions for the disputed items set forth below:\n"
        f"\n{item}\nClaims Administrator guideline: Decision based on MTUS.\n"
        "MAXIMUS guideline: Decision based on ODG, Muscle relaxants.\n"
        f"Decision rationale: Muscle relaxants are second-line options. {sentence}\n"
    )
    d = parse_text(text)
    want = expected or ("Upheld" if "upheld" in sentence else "Overturned")
    assert decisions(d) == [("Zanaflex 4mg #60", want, "tizanidine")]


# -- noise: every variant of a letter parses to the same record --------------------------


def _blocks(raw: str, width: int) -> list[list[str]]:
    """Paragraphs as lines: prose re-wrapped at `width`, lists and short lines kept as they are
    (a PDF wraps prose, never joins list items)."""
    paragraphs: list[list[str]] = []
    for line in clean_lines(raw):
        if line.para or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.text)
    out = []
    for lines in paragraphs:
        prose = all(len(x) > 55 for x in lines[:-1]) and len(" ".join(lines)) > width
        prose = prose and not any(x.isupper() for x in lines)
        out.append(
            textwrap.wrap(" ".join(lines), width, break_on_hyphens=False) if prose else lines
        )
    return out


def rewrapped(raw: str) -> str:
    """Prose hard-wrapped at another width."""
    return "\n\n".join("\n".join(lines) for lines in _blocks(raw, 62))


def double_spaced(raw: str) -> str:
    """A blank line after every line, and two between paragraphs (as pdftotext writes)."""
    return "\n \n\n".join("\n\n".join(lines) + " " for lines in _blocks(raw, 88))


def hyphenated(raw: str) -> str:
    """Long words split across line breaks with a hyphen ("medi-\\ncation")."""
    out = []
    for lines in _blocks(raw, 70):
        for i in range(len(lines) - 1):
            words = lines[i + 1].split(" ")
            if len(lines[i]) > 55 and len(words) > 1 and re.fullmatch(r"[a-z]{9,}", words[0]):
                lines[i] = f"{lines[i]} {words[0][:4]}-"
                lines[i + 1] = " ".join([words[0][4:], *words[1:]])
        out.append("\n".join(lines))
    return "\n\n".join(out)


def crlf_tabs(raw: str) -> str:
    """Windows line ends, tabs and stray spaces."""
    return raw.replace("  ", "\t ").replace("\n", "\r\n")


def cp1252(raw: str) -> str:
    """Round trip through cp1252 bytes and our decoder, with curly quotes."""
    data = raw.replace('"', "\u201c").encode("cp1252")
    return decode_text(data).replace("\u201c", '"')


def paged(raw: str) -> str:
    """Page breaks with footers in the middle of the text."""
    lines = raw.split("\n")
    for k in range(len(lines) // 3, len(lines), len(lines) // 3):
        lines.insert(k, "\f\nPage 2 of 3\n\n\n")
    return "\n".join(lines)


NOISES = [rewrapped, double_spaced, hyphenated, crlf_tabs, cp1252, paged]


def comparable(d: Determination) -> dict[str, object]:
    """A record without what depends on the bytes (source, hash, id)."""
    data = dataclasses.asdict(d)
    for key in ("id", "source", "sha256", "warnings"):
        data.pop(key)
    data["sections"] = [(s["key"], " ".join(s["text"].split())) for s in data["sections"]]
    for x in data["decisions"]:
        for k in ("rationale", "claims_administrator_guideline", "maximus_guideline"):
            x[k] = " ".join(x[k].split())
    return data


@pytest.mark.parametrize("noise", NOISES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["002", "003", "maximus", "professional"])
def test_noise_variants_parse_to_the_same_record(name: str, noise) -> None:  # type: ignore[no-untyped-def]
    path = next(SAMPLES.glob(f"{name}_*.txt"), None) or next(LETTERS.glob(f"{name}_*.txt"))
    raw = path.read_text(encoding="utf-8")
    assert comparable(parse_text(noise(raw))) == comparable(parse_text(raw))


# -- small pure parts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("5/15/11", "2011-05-15"),
        ("2-1-2009", "2009-02-01"),
        ("05/26/2012", "2012-05-26"),
        ("2014-01-31", "2014-01-31"),
        ("January 5, 2012", "2012-01-05"),
        ("Sept. 9, 2015", "2015-09-09"),
        ("5 March 2016", "2016-03-05"),
        ("2/30/2014", None),
        ("13/1/2014", None),
        ("12/5/98", "1998-12-05"),
        ("Smarch 5, 2012", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    ("case", "source", "expected"),
    [
        ("CM13-0012345", "a/b.txt", "CM13-0012345"),
        (None, "dir/My Letter (1).pdf", "My_Letter_1"),
        (None, "../../etc/passwd", "passwd"),
        (None, "...", "letter"),
    ],
)
def test_make_id(case: str | None, source: str, expected: str) -> None:
    assert make_id(case, source) == expected
    assert re.fullmatch(r"[A-Za-z0-9._-]+", make_id(case, source))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    d = parse_text(text)
    assert isinstance(d, Determination)


HEADINGS = [
    "HOW THE IMR FINAL DETERMINATION WAS MADE",
    "CLINICAL CASE SUMMARY",
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "ISSUE AT DISPUTE:",
    "RATIONALE FOR WHY THE REQUESTED TREATMENT/SERVICE IS/WAS NOT MEDICALLY NECESSARY:",
    "Claims Administrator guideline:",
    "MAXIMUS guideline:",
    "Decision rationale:",
    "Tizanidine 4mg #60: Upheld",
    "Overturned",
    "1.",
    "-",
    "\f",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(HEADINGS), st.text(max_size=80)), max_size=40))
def test_parser_never_raises_on_shuffled_structure(parts: list[str]) -> None:
    d = parse_text("\n".join(parts))
    assert all(x.outcome in (None, "Upheld", "Overturned") for x in d.decisions)


def test_imr_numbered_caps_outcome_on_next_line_and_sentence_item() -> None:
    d = letter("imr_numbered_caps.txt")
    assert (d.case_number, d.date_assigned, d.ur_denial_date) == (
        "CM14-0001234",
        "2014-01-02",
        "2013-11-20",
    )
    assert d.reviewer.states == ("California", "Nevada")
    assert d.reviewer.specialties == ("Physical Medicine and Rehabilitation",)
    assert (d.worker.age, d.worker.sex, d.date_of_injury) == (45, "female", "2012-03-03")
    assert decisions(d) == [
        ("PHYSICAL THERAPY 2 X 6 FOR THE LUMBAR SPINE", "Upheld", None),
        ("RETROSPECTIVE REQUEST FOR SOMA 350MG #60 DOS 10/1/2013", "Overturned", "carisoprodol"),
        ("Lumbar ESI at L4-5 and L5-S1", "Upheld", None),
    ]
    assert [x.category for x in d.decisions] == [
        "physical medicine/physical therapy",
        "pharmaceuticals",
        "injections",
    ]
    assert "2. Function improved." in d.decisions[1].rationale  # a list inside a rationale


def test_professional_headings_with_inline_text() -> None:
    d = letter("professional_inline.txt")
    assert decisions(d) == [("Tramadol ER 150mg #30", "Upheld", "tramadol")]
    x = d.decisions[0]
    assert x.mtus_pages == ("76-80",)
    assert x.rationale.startswith("There is no documented functional improvement")
    assert d.reviewer.states == ("Oregon",)
    assert (d.worker.age, d.worker.sex) == (58, "male")


def test_professional_one_request_a_line_and_inline_subheadings() -> None:
    d = letter("professional_list.txt")
    assert decisions(d) == [
        ("Lidoderm patches 5% #30", "Upheld", "lidocaine"),
        ("Ultram 50 mg #90", "Overturned", "tramadol"),
    ]
    assert d.decisions[0].rationale == (
        "There is no trial of first line therapy. The request is not medically necessary."
    )
    assert d.reviewer.states == ("California",)
