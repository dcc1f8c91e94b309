"""`imr-search index` ends with the parse-quality report of the letters it parsed (real CLI,
real letters): the same counts as `imr-search audit` gives for the index it built."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "search.cli"]
NO_DECISION = "To whom it may concern: we received your letter and will reply in due course.\n"
# A request whose drug no vocabulary knows: the report names it by its first word.
UNKNOWN_DRUG = """Case Number: CM16-0999001
Date Assigned: 1/5/2016

HOW THE IMR FINAL DETERMINATION WAS MADE

The expert reviewer is Board Certified in Internal Medicine and is licensed to practice in Ohio.

CLINICAL CASE SUMMARY

The injured worker is a 50 year old male with low back pain.

IMR ISSUES, DECISIONS AND RATIONALES

Zorvaxil 20mg #60: Upheld

Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment 2009.

MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment 2009.

Decision rationale: Zorvaxil 20mg tablets are not medically necessary.
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory, sample_paths: list[Path]) -> Path:
    """The bundled real letters, one letter without decisions, one with an unknown drug."""
    folder = tmp_path_factory.mktemp("letters")
    for path in sample_paths:
        shutil.copy(path, folder / path.name)
    (folder / "note.txt").write_text(NO_DECISION, encoding="utf-8")
    (folder / "zorvaxil.txt").write_text(UNKNOWN_DRUG, encoding="utf-8")
    return folder


def _audit(index: Path) -> dict[str, Any]:
    run = _run("audit", "--index", str(index), "--json")
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_index_json_reports_what_audit_reports(letters: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    run = _run("index", str(letters), "--index", str(index), "--workers", "2", "--json")
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    n = len(list(letters.glob("*.txt")))
    assert (body["added"], body["failed"], body["unchanged"]) == (n, 0, 0)
    quality = body["parse_quality"]
    assert quality["letters"] == n
    assert sum(quality["layouts"].values()) == n and quality["layouts"]["imr"] >= 40
    assert quality["warnings"]["no decisions found"] == 1
    assert quality["unknown_drugs"].get("zorvaxil") == 1
    # Parsed in two worker processes and merged: the very counts audit reads from the index.
    built = _audit(index)
    for key in ("letters", "decisions", "layouts", "warnings", "unknown_drugs"):
        assert quality[key] == built[key], key
    # Nothing parsed again: an empty report.
    again = json.loads(_run("index", str(letters), "--index", str(index), "--json").stdout)
    assert again["unchanged"] == n and again["parse_quality"]["letters"] == 0


def test_index_prints_the_report_after_its_summary(letters: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    run = _run("index", str(letters), "--index", str(index))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    n = len(list(letters.glob("*.txt")))
    summary, _, report = out.partition("\n")
    assert summary.startswith(f"imr-search: {n} added")
    assert f"parse quality of the {n} letters parsed in this run:" in report
    assert "layouts: imr " in report
    lines = report.splitlines()
    warnings = lines.index("  warnings:")
    assert any(ln.split()[1:] == ["no", "decisions", "found"] and ln.split()[0] == "1"
               for ln in lines[warnings:])  # fmt: skip
    unknown = next(i for i, ln in enumerate(lines) if "no known drug" in ln)
    assert lines[unknown + 1].split() == ["1", "zorvaxil"]
    # A run that parses nothing prints no report.
    again = _run("index", str(letters), "--index", str(index))
    assert f"0 added, 0 updated, {n} unchanged" in again.stdout
    assert "parse quality" not in again.stdout


def test_strict_failures_still_counted(letters: Path, tmp_path: Path) -> None:
    """A letter --strict refuses was parsed: the report says why it failed."""
    run = _run("index", str(letters), "--index", str(tmp_path / "ix"), "--strict", "--json")
    assert run.returncode == 1
    body = json.loads(run.stdout)
    assert body["failed"] == 1 and "note.txt: no decisions found (--strict)" in body["errors"][0]
    assert body["parse_quality"]["warnings"]["no decisions found"] == 1
