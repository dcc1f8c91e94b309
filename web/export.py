"""CSV export: one row per matching decision, safe against spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from search.model import Decision, Determination
from search.results import Hit

from .urls import SearchState, determination_url

MAX_ROWS: Final = 50_000
COLUMNS: Final = (
    "id",
    "url",
    "case_number",
    "date_assigned",
    "ur_denial_date",
    "state",
    "specialty",
    "decision",
    "request",
    "drug",
    "outcome",
    "guideline",
    "year",
    "decision_date",
    "drug_class",
    "category",
    "region",
    "ur_modified",
    "rationale",
    "original_request",
)
RATIONALE_CHARS: Final = 300  # of each rationale in the export (the page has it whole)
FILENAME_CHARS: Final = 80
_SLUG_RE: Final = re.compile(r"[^A-Za-z0-9]+")
# With the full-width forms (U+FF1D "＝", U+FF0B, U+FF0D, U+FF20): some spreadsheets read
# them as the ASCII operators.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_safe(value: object) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet could run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def guideline_text(decision: Decision | None) -> str:
    """The guideline sources of a decision ("MTUS; ODG"), else the MAXIMUS guideline sentence."""
    if decision is None:
        return ""
    if decision.guideline_sources:
        return "; ".join(decision.guideline_sources)
    return decision.maximus_guideline


def rationale_start(decision: Decision | None) -> str:
    """The first RATIONALE_CHARS characters of the rationale, whitespace folded."""
    if decision is None or not decision.rationale:
        return ""
    return " ".join(decision.rationale.split())[:RATIONALE_CHARS]


def export_filename(state: SearchState) -> str:
    """A download name that names the search: "imr-search_tizanidine_outcome-Overturned.csv"."""
    parts = [state.q] + [f"{f}-{'-'.join(v)}" for f, v in state.filters.items()]
    slug = "_".join(p for p in (_SLUG_RE.sub("-", part).strip("-") for part in parts) if p)
    slug = slug[:FILENAME_CHARS].rstrip("-_")
    return f"imr-search_{slug}.csv" if slug else "imr-search_all.csv"


def hit_rows(hit: Hit, record: Determination | None, base_url: str) -> Iterator[list[str]]:
    """Rows of the matching decisions of one hit (the record adds the guideline)."""
    decisions = {d.ordinal: d for d in record.decisions} if record else {}
    base = base_url.rstrip("/")
    for dh in hit.decisions:
        full = decisions.get(dh.ordinal)
        yield [
            csv_safe(v)
            for v in (
                hit.id,
                base + determination_url(hit.id, f"decision-{dh.ordinal}"),
                hit.case_number,
                hit.date_assigned,
                hit.ur_denial_date,
                "; ".join(hit.states),
                "; ".join(hit.specialties),
                dh.ordinal,
                dh.request,
                dh.drug,
                dh.outcome,
                guideline_text(full),
                record.year if record else None,
                record.decision_date if record else None,
                full.drug_class if full else None,
                full.category if full else None,
                "; ".join(full.regions) if full else None,
                ("yes" if full.ur_modified else "no") if full else None,
                rationale_start(full),
                full.original_request if full else None,
            )
        ]


def csv_lines(
    hits: Iterable[Hit],
    fetch: Callable[[str], Determination | None],
    base_url: str,
    max_rows: int = MAX_ROWS,
) -> Iterator[str]:
    """The CSV text, header first, one chunk per determination, at most `max_rows` data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield "\ufeff" + flush()  # byte-order mark: spreadsheets then read the file as UTF-8
    rows = 0
    for hit in hits:
        if rows >= max_rows:
            return
        for row in hit_rows(hit, fetch(hit.id), base_url):
            if rows >= max_rows:
                yield flush()
                return
            writer.writerow(row)
            rows += 1
        yield flush()
