"""Parse-quality report: where a corpus is not understood (layouts, warnings, unknown drugs)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .fields import CATEGORY_MEDICATION
from .model import PARSER_VERSION, Determination

_ORDINAL = re.compile(r"^decision \d+: ")
_FIRST_WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")


@dataclass(slots=True)
class Audit:
    """Counts over parsed letters: per layout, per warning kind, unknown drug names."""

    letters: int = 0
    decisions: int = 0
    layouts: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    unknown_drugs: Counter[str] = field(default_factory=Counter)
    older_parser: int = 0  # letters a parser older than PARSER_VERSION read

    def add(self, record: Determination) -> None:
        """Count one letter."""
        self.letters += 1
        self.decisions += len(record.decisions)
        self.layouts[record.layout] += 1
        if record.parser_version != PARSER_VERSION:
            self.older_parser += 1
        for warning in record.warnings:  # "decision 2: no outcome stated" -> its kind
            self.warnings[_ORDINAL.sub("", warning).split(":")[0]] += 1
        for d in record.decisions:
            if d.category.split("/")[0] == CATEGORY_MEDICATION and d.drug is None:
                m = _FIRST_WORD.search(d.request)
                self.unknown_drugs[m.group(0).lower() if m else d.request[:30]] += 1

    def merge(self, other: Audit) -> None:
        """Add another report's counts (a parse worker's chunk) to this one."""
        self.letters += other.letters
        self.decisions += other.decisions
        self.layouts.update(other.layouts)
        self.warnings.update(other.warnings)
        self.unknown_drugs.update(other.unknown_drugs)
        self.older_parser += other.older_parser

    def to_dict(self, top: int = 50) -> dict[str, Any]:
        """JSON-ready counts (the `top` most frequent unknown drug names)."""
        return {
            "letters": self.letters,
            "decisions": self.decisions,
            "parser_version": PARSER_VERSION,
            "older_parser": self.older_parser,
            "layouts": dict(self.layouts.most_common()),
            "warnings": dict(self.warnings.most_common()),
            "unknown_drugs": dict(self.unknown_drugs.most_common(top)),
        }

    def lines(self, top: int = 20) -> list[str]:
        """A printable report."""
        out = [f"{self.letters} letters, {self.decisions} decisions"]
        if self.older_parser:
            out.append(f"{self.older_parser} letters read by an older parser (index again)")
        out.append("layouts: " + ", ".join(f"{k} {v}" for k, v in self.layouts.most_common()))
        out.append("warnings:" + ("" if self.warnings else " none"))
        out += [f"  {v:>6}  {k}" for k, v in self.warnings.most_common()]
        none = "" if self.unknown_drugs else " none"
        out.append(f"medication requests with no known drug:{none}")
        out += [f"  {v:>6}  {k}" for k, v in self.unknown_drugs.most_common(top)]
        return out


def audit(records: Iterable[Determination]) -> Audit:
    """The parse-quality counts of some letters."""
    report = Audit()
    for record in records:
        report.add(record)
    return report
