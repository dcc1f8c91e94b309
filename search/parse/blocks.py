"""Stage 2, find: an item as it is read (a Block) and as it is found (a RawDecision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .clean import Line, join_lines
from .sentences import necessity_outcome, stated_outcome


class RawDecision(NamedTuple):
    """A disputed item as found in the text, before normalization."""

    request: str
    outcome: str | None
    outcome_stated: bool  # False when the outcome was inferred from "(not) medically necessary"
    claims_administrator_guideline: str
    maximus_guideline: str
    rationale: str


@dataclass(slots=True)
class Block:
    """An item being read: its request, stated outcome and labelled parts."""

    request: str
    outcome: str | None = None
    parts: dict[str, list[Line]] = field(default_factory=dict)
    current: str = "text"
    implied: str | None = None  # what its heading's sentence implies: "X is not medically ..."

    def add(self, line: Line) -> None:
        """Append a line to the part being read."""
        self.parts.setdefault(self.current, []).append(line)


def finish(block: Block) -> RawDecision:
    """A RawDecision from a block, inferring the outcome from its text when unstated."""
    parts = {k: join_lines(v) for k, v in block.parts.items()}
    rationale = parts.get("rationale", "")
    extra = parts.get("text", "")
    rationale = f"{rationale}\n\n{extra}".strip() if rationale and extra else rationale or extra
    outcome, stated = block.outcome, block.outcome is not None
    if outcome is None:
        outcome = stated_outcome(rationale)
        stated = outcome is not None
    if outcome is None:  # the heading's own sentence, before the reasons' last word on it
        outcome = block.implied
    if outcome is None:
        outcome = necessity_outcome(rationale) or necessity_outcome(block.request)
    return RawDecision(
        request=block.request,
        outcome=outcome,
        outcome_stated=stated,
        claims_administrator_guideline=parts.get("ca", ""),
        maximus_guideline=parts.get("mx", ""),
        rationale=rationale,
    )
