"""Parser accuracy on real, hand-labelled DWC letters (../shared/real-letters), with floors.

The floors are what the parser measured; they may only go up. The per-field numbers are
printed by `python -m benchmarks.bench_real`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_real import Report, load_labels, run_pdf, run_text

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"

pytestmark = pytest.mark.skipif(
    not (REAL / "labels.jsonl").is_file(),
    reason=f"the real letters are not here ({REAL}): they live beside the project checkout",
)

# Field -> minimum percentage right on the text letters.
TEXT_FLOORS = {
    "decision count": 100.0,
    "outcome": 100.0,
    "request": 100.0,
    "drug": 100.0,
    "category": 99.0,
    "ur_modified": 100.0,
    "specialty": 100.0,
    "states": 100.0,
    "case number": 100.0,
    "no sentence lost": 100.0,
}
# The first few letters again, from their PDFs through the real (sandboxed) loader.
PDF_LETTERS = 5
PDF_FLOORS = {
    "decision count": 100.0,
    "outcome": 100.0,
    "states": 100.0,
    "request": 100.0,
    "ur_modified": 100.0,
}


def _below(report: Report, floors: dict[str, float]) -> list[str]:
    """The fields under their floor, with the mismatches behind them."""
    out = []
    for name, floor in floors.items():
        assert report.total[name], f"nothing counted for {name}"
        if report.percent(name) < floor:
            misses = [m for m in report.misses if m[1] == name][:5]
            out.append(f"{name}: {report.percent(name):.2f}% < {floor}% e.g. {misses}")
    return out


@pytest.fixture(scope="module")
def text_report() -> Report:
    """Every labelled text letter parsed and compared."""
    return run_text(REAL)


def test_labels_are_read() -> None:
    labels = load_labels(REAL)
    assert len(labels) >= 40
    assert all((REAL / "text" / f"{label['id']}.txt").is_file() for label in labels)


def test_text_letters_meet_floors(text_report: Report) -> None:
    print("\n" + "\n".join(text_report.lines()))
    assert not _below(text_report, TEXT_FLOORS)


def test_pdf_letters_meet_floors() -> None:
    ids = [label["id"] for label in load_labels(REAL)[:PDF_LETTERS]]
    report = run_pdf(REAL, ids)
    assert report.total["decision count"] == PDF_LETTERS
    assert not _below(report, PDF_FLOORS)
