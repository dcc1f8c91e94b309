"""`imr-search parse`: JSON per letter on stdout, one stderr line per failed file, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from search.cli import main
from search.parse import parse_text

SAMPLES = Path(__file__).resolve().parent.parent / "search" / "samples"
KEYS = {
    "id",
    "source",
    "sha256",
    "layout",
    "case_number",
    "date_assigned",
    "ur_denial_date",
    "date_of_injury",
    "reviewer",
    "worker",
    "sections",
    "decisions",
    "warnings",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "search.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_parse_folder_jsonl_has_every_key() -> None:
    proc = run("parse", str(SAMPLES), "--jsonl")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == len(list(SAMPLES.glob("*.txt")))
    for rec in records:
        assert set(rec) >= KEYS
        assert set(rec["reviewer"]) == {"states", "specialties"}
        assert set(rec["worker"]) == {"age", "sex"}
        assert isinstance(rec["sections"], dict) and isinstance(rec["decisions"], list)
        assert rec["source"].endswith(".txt")
    norco = next(r for r in records if r["id"].startswith("002"))
    assert [d["drug"] for d in norco["decisions"]] == ["hydrocodone/acetaminophen", "tizanidine"]
    assert norco["decisions"][0]["drug_as_written"] == "Norco"


def test_parse_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text((next(SAMPLES.glob("001_*.txt"))).read_text(encoding="utf-8"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "garbage.txt").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    proc = run("parse", str(tmp_path), str(tmp_path / "missing.txt"), "--jsonl")
    assert proc.returncode == 1
    assert [json.loads(x)["source"] for x in proc.stdout.splitlines()] == [str(good)]
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 4
    for name in ("broken.pdf", "empty.txt", "garbage.txt", "missing.txt"):
        assert sum(name in line for line in errors) == 1
    assert "Traceback" not in proc.stderr


def test_parse_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["parse"])
    assert exc.value.code == 2
    assert "PATH" in capsys.readouterr().err


def test_pdf_round_trip_parses_like_the_text(tmp_path: Path) -> None:
    source = next(SAMPLES.glob("002_*.txt"))
    text = source.read_text(encoding="utf-8")
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    for line in text.splitlines():
        if line.strip():
            pdf.multi_cell(0, 5, line.strip().encode("latin-1", "replace").decode("latin-1"))
            pdf.ln(2)
    path = tmp_path / "letter.pdf"
    path.write_bytes(bytes(pdf.output()))
    proc = run("parse", str(path), "--jsonl")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    want = json.loads(json.dumps(parse_text(text).to_dict()))
    assert got["id"] == "letter"
    for key in ("layout", "reviewer", "worker", "date_of_injury"):
        assert got[key] == want[key]
    assert [(d["request"], d["outcome"], d["drug"]) for d in got["decisions"]] == [
        (d["request"], d["outcome"], d["drug"]) for d in want["decisions"]
    ]


def test_parse_same_content_once_and_colliding_ids_made_unique(tmp_path: Path) -> None:
    text = next(SAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    other = next(SAMPLES.glob("001_*.txt")).read_text(encoding="utf-8")
    for folder, body in (("a", text), ("b", other), ("c", text)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "letter.txt").write_text(body, encoding="utf-8")
    proc = run("parse", str(tmp_path), "--jsonl")
    assert proc.returncode == 0
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in records] == ["letter", f"letter-{records[1]['sha256'][:8]}"]
    assert "same content as letter" in proc.stderr
