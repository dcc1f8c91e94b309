"""PDF text: PDFium (the default) against pypdf on real letters, field by field; the limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from search.parse import parse_text, pdf_worker
from search.parse.load import load_file
from search.parse.pdf import PdfExtractionError, PdfExtractor
from search.parse.pdf_worker import extract_text, extract_text_pdfium, extract_text_pypdf

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "real-letters"
REAL_PDFS = sorted((REAL / "pdf").glob("*.pdf"))
BUNDLED_PDFS = sorted((ROOT / "tests" / "letters" / "pdf").glob("*.pdf"))
SAMPLES = ROOT / "search" / "samples"
# A main dependency; a venv made before it was one may lack it (then pypdf reads every PDF).
needs_pdfium = pytest.mark.skipif(
    not pdf_worker.pdfium_available(), reason="pypdfium2 is not installed (pip install -e .)"
)


def parsed(text: str) -> dict[str, Any]:
    """Every field of the parsed letter but its source and the text's sha256."""
    data = parse_text(text).to_dict()
    del data["source"], data["sha256"]
    return data


def assert_same_fields(got: dict[str, Any], want: dict[str, Any]) -> None:
    """The two parses agree on every determination field and every decision field."""
    assert got.keys() == want.keys()
    for key in want:
        if key != "decisions":
            assert got[key] == want[key], key
    assert len(got["decisions"]) == len(want["decisions"])
    for number, (a, b) in enumerate(zip(got["decisions"], want["decisions"], strict=True), 1):
        for key in b:
            assert a[key] == b[key], f"decision {number}: {key}"


@needs_pdfium
@pytest.mark.skipif(not REAL_PDFS, reason=f"the real letters are not here ({REAL / 'pdf'})")
@pytest.mark.parametrize("path", REAL_PDFS, ids=lambda p: p.stem)
def test_pdfium_parses_as_pypdf_on_the_real_letters(path: Path) -> None:
    data = path.read_bytes()
    want = parsed(extract_text_pypdf(data))
    assert_same_fields(parsed(extract_text_pdfium(data)), want)
    labels = {
        row["id"]: row for row in map(json.loads, (REAL / "labels.jsonl").read_text().splitlines())
    }
    assert len(want["decisions"]) == len(labels[path.stem]["items"]) > 0


@pytest.mark.parametrize("path", BUNDLED_PDFS, ids=lambda p: p.stem)
def test_bundled_real_pdf_through_the_sandbox(path: Path) -> None:
    loaded = load_file(path)
    got = parsed(loaded.text)
    assert_same_fields(got, parsed(extract_text_pypdf(path.read_bytes())))
    # The bundled sample text of the same letter (pypdf's) finds the same decisions.
    sample = parse_text((SAMPLES / f"{path.stem}.txt").read_text(encoding="utf-8"))
    assert got["id"] == sample.id == path.stem
    assert [(d["outcome"], d["drug"], d["request"]) for d in got["decisions"]] == [
        (d.outcome, d.drug, d.request) for d in sample.decisions
    ]


def test_bundled_pdfs_are_there() -> None:
    assert len(BUNDLED_PDFS) >= 3


def fpdf_letter(pages: list[list[str]]) -> bytes:
    """A real PDF (core font), one page per list of lines, each line a paragraph."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@needs_pdfium
def test_blank_lines_and_line_end_hyphens_as_pypdf_gives_them() -> None:
    # An empty paragraph written as a lone space is a blank line (the parser reads paragraph
    # breaks from them); PDFium's text drops it and joins "anti-" with the next line.
    data = fpdf_letter(
        [
            [" ", "CLINICAL CASE SUMMARY", " ", "Trials of anti-", "depressants failed.", " "],
            ["Second page: tizanidine 4mg: Upheld", " ", "End."],
        ]
    )
    want = (
        " \nCLINICAL CASE SUMMARY\n \nTrials of anti-\ndepressants failed.\n "
        "\n\nSecond page: tizanidine 4mg: Upheld\n \nEnd."
    )
    assert extract_text_pypdf(data) == want
    assert extract_text_pdfium(data) == want
    assert extract_text(data) == want


@needs_pdfium
def test_spaces_between_words_are_not_blank_lines() -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    for word in ("Case", " ", "Number:", " ", "CM16-0234464"):
        pdf.cell(text=word)  # one text object per word, on one line
    pdf.ln()
    pdf.cell(text="Next line")
    data = bytes(pdf.output())
    assert extract_text_pdfium(data).split("\n") == ["Case Number: CM16-0234464", "Next line"]


@needs_pdfium
def test_page_cap() -> None:
    data = fpdf_letter([["one"], ["two"], ["three"]])
    for extract in (extract_text_pdfium, extract_text_pypdf):
        with pytest.raises(PdfExtractionError, match=r"^PDF has too many pages: 3 \(limit 2\)$"):
            extract(data, None, 2)
    with PdfExtractor(1) as extractor:
        with pytest.raises(PdfExtractionError, match="too many pages"):
            extractor.extract(data, max_pages=2)
        assert extractor.extract(data, max_pages=3) == "one\n\ntwo\n\nthree"


@needs_pdfium
def test_text_cap() -> None:
    data = fpdf_letter([["x" * 50], ["y" * 50]])
    for extract in (extract_text_pdfium, extract_text_pypdf):
        with pytest.raises(PdfExtractionError, match=r"^extracted text too large"):
            extract(data, 60)


def test_without_pypdfium2_the_worker_reads_with_pypdf(tmp_path: Path) -> None:
    # The real worker script, in a process where importing pypdfium2 fails.
    data = fpdf_letter([["Tizanidine 4mg #30: Overturned", " ", "Decision rationale: ok."]])
    script = (
        "import runpy, sys; sys.modules['pypdfium2'] = None; "
        f"runpy.run_path({pdf_worker.__file__!r}, run_name='__main__')"
    )
    job = {"size": len(data), "timeout": 30, "memory_mb": 512}
    proc = subprocess.run(
        [sys.executable, "-P", "-c", script],
        input=json.dumps(job).encode() + b"\n" + data,
        capture_output=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    ready, reply = (json.loads(line) for line in proc.stdout.splitlines())
    assert ready == {"ready": True}
    assert reply["text"] == extract_text_pypdf(data)
    assert not pdf_worker.pdfium_available() or extract_text_pdfium(data) == reply["text"]
