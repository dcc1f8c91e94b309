"""Parser accuracy on the real, hand-labelled DWC letters of ``../shared/real-letters``.

    python -m benchmarks.bench_real [--dir DIR] [--show 20] [--pdf]

Each text letter (or, with --pdf, each PDF through the real loader) is parsed and compared with
labels.jsonl, field by field; decisions are matched by order. Prints one line per field:
right / total and the percentage. tests/test_real_letters.py asserts floors on these numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.model import Determination
from search.parse import normalize, parse_text
from search.parse.load import load_file

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "real-letters"

# Field -> what its denominator counts, in report order.
FIELDS = {
    "decision count": "letters",
    "outcome": "decisions",
    "request": "decisions",
    "drug": "medication decisions",
    "category": "decisions",
    "ur_modified": "decisions",
    "specialty": "letters",
    "states": "letters",
    "case number": "letters",
    "no sentence lost": "letters",
}

_SPACE = re.compile(r"\s+")
_NON_KEY = re.compile(r"[^a-z0-9]+")
# A sentence: text up to a full stop followed by a space (or the end), of some length.
_SENTENCE = re.compile(r"[^.!?]{20,}?[.!?](?=\s|$)")


def norm(text: str | None) -> str:
    """Text compared loosely: lowercase, single spaces, no trailing punctuation."""
    return _SPACE.sub(" ", (text or "").lower()).strip().rstrip(".:;,").strip()


def _key(text: str) -> str:
    """Letters and digits only: how a sentence is found again after cleaning."""
    return _NON_KEY.sub("", text.lower())


def lost_sentences(raw: str, det: Determination) -> list[str]:
    """Sentences of the input text that appear in no section of the parsed letter."""
    kept = _key("\n".join(f"{s.heading}\n{s.text}" for s in det.sections))
    return [s.strip() for s in _SENTENCE.findall(raw) if _key(s) not in kept]


@dataclass(slots=True)
class Report:
    """Right and total counts per field, and the mismatches behind the wrong ones."""

    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    def check(self, stem: str, name: str, expected: Any, got: Any, ok: bool | None = None) -> None:
        """Count one comparison."""
        ok = expected == got if ok is None else ok
        self.total[name] += 1
        if ok:
            self.right[name] += 1
        else:
            self.misses.append((stem, name, expected, got))

    def percent(self, name: str) -> float:
        """Percentage right for a field (100 when nothing was counted)."""
        return 100.0 * self.right[name] / self.total[name] if self.total[name] else 100.0

    def lines(self) -> list[str]:
        """One printable line per field."""
        return [
            f"{name:<17} {self.percent(name):6.2f}%  ({self.right[name]}/{self.total[name]} {unit})"
            for name, unit in FIELDS.items()
            if self.total[name]
        ]


def load_labels(folder: Path) -> list[dict[str, Any]]:
    """The hand labels, one dict per letter."""
    with open(folder / "labels.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def expected_request(item: dict[str, Any]) -> str:
    """The decided request: the remaining portion of a partial approval, else the request."""
    return str(item.get("request_core") or item["request"])


def compare(report: Report, label: dict[str, Any], det: Determination, raw: str | None) -> None:
    """Add one letter's comparisons to the report."""
    stem = label["id"]
    items = label["items"]
    report.check(stem, "decision count", len(items), len(det.decisions))
    report.check(stem, "case number", label["case_number"], det.case_number)
    report.check(stem, "states", sorted(label["states"]), sorted(det.reviewer.states))
    # Spelled the vocabulary's canonical way on both sides (vocab owns the canonical list).
    want = sorted({norm(normalize.normalize_specialty(s)) for s in label["specialties"]})
    got = sorted({norm(normalize.normalize_specialty(s)) for s in det.reviewer.specialties})
    report.check(stem, "specialty", want, got)
    for n, item in enumerate(items):
        d = det.decisions[n] if n < len(det.decisions) else None
        where = f"{stem}#{n + 1}"
        report.check(where, "outcome", item["outcome"], d and d.outcome)
        want, got = expected_request(item), d.request if d else None
        report.check(where, "request", want, got, norm(want) == norm(got))
        if item.get("drug") or item.get("category") == "medication":
            report.check(where, "drug", item.get("drug"), d and d.drug)
        # Compared by DWC family: the labels use the older flat names (vocab's category_family).
        fam = normalize.category_family
        want_fam, got_fam = fam(item["category"]), d and fam(d.category)
        report.check(where, "category", want_fam, got_fam)
        modified = bool(getattr(d, "ur_modified", False)) if d else None
        report.check(where, "ur_modified", bool(item.get("ur_modified")), modified)
    if raw is not None:
        lost = lost_sentences(raw, det)
        report.check(stem, "no sentence lost", [], lost[:3], not lost)


def run_text(folder: Path = DEFAULT_DIR) -> Report:
    """Parse every labelled text letter and compare it with its label."""
    report = Report()
    for label in load_labels(folder):
        path = folder / "text" / f"{label['id']}.txt"
        loaded = load_file(path)
        compare(report, label, parse_text(loaded.text, source=loaded.source), loaded.text)
    return report


def run_pdf(folder: Path = DEFAULT_DIR, ids: Iterable[str] | None = None) -> Report:
    """Load PDFs through the real loader (sandboxed pypdf), parse and compare."""
    wanted = set(ids) if ids is not None else None
    report = Report()
    for label in load_labels(folder):
        if wanted is not None and label["id"] not in wanted:
            continue
        loaded = load_file(folder / "pdf" / f"{label['id']}.pdf")
        compare(report, label, parse_text(loaded.text, source=loaded.source), None)
    return report


def main(argv: list[str] | None = None) -> int:
    """Print per-field accuracy on the real letters."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--show", type=int, default=0, help="print this many mismatches")
    ap.add_argument("--pdf", action="store_true", help="parse the PDFs instead of the text")
    args = ap.parse_args(argv)
    if not (args.dir / "labels.jsonl").is_file():
        print(f"no labelled letters at {args.dir}", file=sys.stderr)
        return 2
    report = run_pdf(args.dir) if args.pdf else run_text(args.dir)
    print(f"real letters ({'pdf' if args.pdf else 'text'}): {args.dir}")
    print("\n".join(report.lines()))
    for stem, name, expected, got in report.misses[: args.show]:
        print(f"  {stem} {name}: expected {expected!r}, got {got!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
