"""The Whoosh documents of one parsed letter: one per decision, the first also the letter's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..fields import (
    FACET_AGE,
    FACET_CATEGORY,
    FACET_DRUG,
    FACET_DRUG_CLASS,
    FACET_GUIDELINE,
    FACET_INGREDIENT,
    FACET_OUTCOME,
    FACET_REGION,
    FACET_SEX,
    FACET_SPECIALTY,
    FACET_STATE,
    FACET_UR_MODIFIED,
    FACET_YEAR,
    FACETS,
    SECTION_CASE_SUMMARY,
    SECTION_DECISIONS,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_QUALIFICATIONS,
    SECTION_RATIONALE,
    UR_MODIFIED_NO,
    UR_MODIFIED_YES,
    age_band,
)
from ..model import Decision, Determination
from ..schema import (
    C_DATE,
    C_LKEY,
    C_ORD,
    C_REC,
    F_LID,
    F_RID,
    F_SHA,
    F_SRC,
    MULTI_FACETS,
    analyze,
    bigram_field,
    date_number,
    facet_column,
    facet_field,
    join_values,
    letter_key,
    pack_record,
)


def drug_ingredients(drug: str) -> tuple[str, ...]:
    """The ingredients of a generic ("oxycodone/acetaminophen" -> both), for the ingredient
    facet; the drug vocabulary's answer, else the generic split on "/"."""
    try:
        from ..parse.normalize import ingredients

        found = ingredients(drug)
    except ImportError:
        found = ()
    return found or tuple(dict.fromkeys(p.strip() for p in drug.split("/") if p.strip()))


def _facet_values(rec: Determination, d: Decision | None) -> dict[str, list[str]]:
    """Display values of every facet for one decision of a letter (None: no decision)."""
    values: dict[str, list[str]] = {f: [] for f in FACETS}
    if d is not None:
        if d.outcome:
            values[FACET_OUTCOME] = [d.outcome]
        if d.drug:
            values[FACET_DRUG] = [d.drug]
            values[FACET_INGREDIENT] = list(drug_ingredients(d.drug))
        if d.drug_class:
            values[FACET_DRUG_CLASS] = [d.drug_class]
        if d.category:
            values[FACET_CATEGORY] = [d.category]
        values[FACET_GUIDELINE] = list(d.guideline_sources)
        values[FACET_UR_MODIFIED] = [UR_MODIFIED_YES if d.ur_modified else UR_MODIFIED_NO]
        values[FACET_REGION] = list(d.regions)
    values[FACET_STATE] = list(rec.reviewer.states)
    values[FACET_SPECIALTY] = list(rec.reviewer.specialties)
    if rec.year:
        values[FACET_YEAR] = [str(rec.year)]
    if rec.worker.sex:
        values[FACET_SEX] = [rec.worker.sex]
    band = age_band(rec.worker.age)
    if band:
        values[FACET_AGE] = [band]
    return values


def _text_fields(doc: dict[str, Any], name: str, text: str) -> None:
    """Add a pre-analyzed text field and its word-pairs field to a document."""
    if not text.strip():
        return
    unigrams, bigrams = analyze(text)
    doc[name] = unigrams
    if bigrams:
        doc[bigram_field(name)] = bigrams


def letter_texts(rec: Determination) -> dict[str, str]:
    """The letter-level text fields of a record: summary, reviewer, other."""
    skip = {SECTION_CASE_SUMMARY, SECTION_ISSUE_AT_DISPUTE, SECTION_QUALIFICATIONS}
    if rec.decisions:  # the decisions' own text is indexed per decision
        skip |= {SECTION_DECISIONS, SECTION_RATIONALE}
    other = "\n\n".join(s.text for s in rec.sections if s.key not in skip)
    summary = "\n\n".join(
        t for t in (rec.section(SECTION_ISSUE_AT_DISPUTE), rec.section(SECTION_CASE_SUMMARY)) if t
    )
    reviewer = "\n".join(
        [rec.section(SECTION_QUALIFICATIONS), *rec.reviewer.states, *rec.reviewer.specialties]
    )
    return {"summary": summary, "reviewer": reviewer, "other": other}


def decision_texts(d: Decision) -> dict[str, str]:
    """The decision-level text fields: request (with the drug's names) and rationale."""
    request = " ".join(t for t in (d.request, d.drug_as_written or "", d.drug or "") if t)
    rationale = "\n\n".join(
        t for t in (d.rationale, d.claims_administrator_guideline, d.maximus_guideline) if t
    )
    return {"request": request, "rationale": rationale}


def record_documents(rec: Determination, source_key: str) -> list[dict[str, Any]]:
    """The Whoosh documents of one letter: one per decision, the first also the letter's."""
    lkey = letter_key(rec.id)
    date = date_number(rec.decision_date or rec.date_assigned, rec.year)
    decisions: Sequence[Decision | None] = rec.decisions or (None,)
    docs: list[dict[str, Any]] = []
    for i, d in enumerate(decisions):
        ordinal = d.ordinal if d is not None else 0
        doc: dict[str, Any] = {
            F_LID: rec.id,
            C_LKEY: lkey,
            C_DATE: date,
            C_ORD: ordinal,
        }
        if i == 0:
            doc[F_RID] = rec.id
            doc[F_SRC] = source_key
            doc[F_SHA] = rec.sha256
            doc[C_REC] = pack_record(rec.to_dict())
            for name, text in letter_texts(rec).items():
                _text_fields(doc, name, text)
        if d is not None:
            for name, text in decision_texts(d).items():
                _text_fields(doc, name, text)
        for facet, values in _facet_values(rec, d).items():
            if not values:
                continue
            doc[facet_field(facet)] = dict.fromkeys((v.casefold() for v in values), 1)
            column = join_values(values) if facet in MULTI_FACETS else values[0]
            doc[facet_column(facet)] = column.encode("utf-8")
        docs.append(doc)
    return docs
