"""Names defined once: layouts, section keys, outcomes, facets and their order."""

from __future__ import annotations

from typing import Final

# Letter layouts of the public corpus.
LAYOUT_IMR: Final = "imr"  # HOW THE IMR FINAL DETERMINATION WAS MADE / CLINICAL CASE SUMMARY / ...
LAYOUT_MAXIMUS: Final = "maximus"  # MAXIMUS FEDERAL SERVICES, INC. / DOCUMENTS REVIEWED / ...
LAYOUT_PROFESSIONAL: Final = "professional"  # MEDICAL PROFESSIONAL REVIEW / ISSUE AT DISPUTE: ...
# Notice of Independent Medical Review Determination (2013) / INDEPENDENT MEDICAL REVIEW
# DECISION AND RATIONALE / decisions written as sentences
LAYOUT_NOTICE_2013: Final = "notice2013"
LAYOUT_UNKNOWN: Final = "unknown"
LAYOUTS: Final = (
    LAYOUT_IMR,
    LAYOUT_MAXIMUS,
    LAYOUT_PROFESSIONAL,
    LAYOUT_NOTICE_2013,
    LAYOUT_UNKNOWN,
)

# Stable section keys, in reading order. Text that fits none lands in SECTION_OTHER.
SECTION_HEADER: Final = "header"  # lines before the first heading (case number, dates, ...)
SECTION_HOW_MADE: Final = "how_determination_made"
SECTION_ISSUE_AT_DISPUTE: Final = "issue_at_dispute"
SECTION_CASE_SUMMARY: Final = "case_summary"
SECTION_DOCUMENTS: Final = "documents_reviewed"
SECTION_GUIDELINES: Final = "guidelines_relied_upon"
SECTION_DECISIONS: Final = "decisions_and_rationales"
SECTION_RATIONALE: Final = "rationale"
SECTION_QUALIFICATIONS: Final = "reviewer_qualifications"
SECTION_OTHER: Final = "other"
SECTION_KEYS: Final = (
    SECTION_HEADER,
    SECTION_HOW_MADE,
    SECTION_ISSUE_AT_DISPUTE,
    SECTION_CASE_SUMMARY,
    SECTION_DOCUMENTS,
    SECTION_GUIDELINES,
    SECTION_DECISIONS,
    SECTION_RATIONALE,
    SECTION_QUALIFICATIONS,
    SECTION_OTHER,
)

OUTCOME_UPHELD: Final = "Upheld"
OUTCOME_OVERTURNED: Final = "Overturned"
OUTCOMES: Final = (OUTCOME_UPHELD, OUTCOME_OVERTURNED)

GUIDELINE_SOURCES: Final = ("MTUS", "ODG", "ACOEM")

# Decision categories (Decision.category): the DWC's treatment categories, "family/sub" where a
# subcategory is useful. category_family() in search/parse/services.py gives the family.
CATEGORY_MEDICATION: Final = "pharmaceuticals"
CATEGORY_OTHER: Final = "other"
CATEGORIES: Final = (
    CATEGORY_MEDICATION,
    "DMEPOS",  # durable medical equipment, prosthetics, orthotics and supplies
    "diagnostic/imaging",
    "diagnostic/lab",
    "diagnostic/electrodiagnostic",
    "diagnostic/other",
    "physical medicine/physical therapy",  # also occupational therapy, aquatic therapy, massage
    "physical medicine/chiropractic",
    "physical medicine/acupuncture",
    "physical medicine/modalities",  # electrical stimulation, therapeutic ultrasound, shockwave
    "surgery",
    "injections",
    "evaluation and management/office visit",
    "evaluation and management/consultation",
    "programs",  # functional restoration, inpatient rehabilitation, detoxification, weight loss
    "home health",
    "behavioral health",
    CATEGORY_OTHER,
)

# Body regions (Decision.regions, the `region` facet): canonical groups, in display order.
REGIONS: Final = (
    "lumbar spine",
    "cervical spine",
    "thoracic spine",
    "shoulder",
    "elbow",
    "wrist/hand",
    "hip",
    "knee",
    "ankle/foot",
    "upper extremity",
    "lower extremity",
    "head",
    "psychiatric",
    "other",
)

# Facets, in display order. Item facets belong to one decision; the rest to the letter.
FACET_OUTCOME: Final = "outcome"
FACET_DRUG: Final = "drug"
FACET_INGREDIENT: Final = "ingredient"  # each ingredient of the drug (Percocet: oxycodone, ...)
FACET_DRUG_CLASS: Final = "drug_class"
FACET_CATEGORY: Final = "category"
FACET_STATE: Final = "state"
FACET_SPECIALTY: Final = "specialty"
FACET_GUIDELINE: Final = "guideline"
FACET_YEAR: Final = "year"
FACET_SEX: Final = "sex"
FACET_AGE: Final = "age"
FACET_UR_MODIFIED: Final = "ur_modified"  # "yes" when UR authorized part of the request
FACET_REGION: Final = "region"  # body region of the request (else the diagnosis)
UR_MODIFIED_YES: Final = "yes"
UR_MODIFIED_NO: Final = "no"
FACETS: Final = (
    FACET_OUTCOME,
    FACET_DRUG,
    FACET_INGREDIENT,
    FACET_DRUG_CLASS,
    FACET_CATEGORY,
    FACET_STATE,
    FACET_SPECIALTY,
    FACET_GUIDELINE,
    FACET_YEAR,
    FACET_SEX,
    FACET_AGE,
    FACET_UR_MODIFIED,
    FACET_REGION,
)
ITEM_FACETS: Final = (
    FACET_OUTCOME,
    FACET_DRUG,
    FACET_INGREDIENT,
    FACET_DRUG_CLASS,
    FACET_CATEGORY,
    FACET_GUIDELINE,
    FACET_UR_MODIFIED,
    FACET_REGION,
)
LETTER_FACETS: Final = (FACET_STATE, FACET_SPECIALTY, FACET_YEAR, FACET_SEX, FACET_AGE)
FACET_LABELS: Final = {
    FACET_OUTCOME: "Outcome",
    FACET_DRUG: "Drug",
    FACET_INGREDIENT: "Ingredient",
    FACET_DRUG_CLASS: "Drug class",
    FACET_CATEGORY: "Service",
    FACET_STATE: "Reviewer state",
    FACET_SPECIALTY: "Reviewer specialty",
    FACET_GUIDELINE: "Guideline",
    FACET_YEAR: "Year",
    FACET_SEX: "Worker sex",
    FACET_AGE: "Worker age",
    FACET_UR_MODIFIED: "Partly authorized by UR",
    FACET_REGION: "Body region",
}

# Age bands for FACET_AGE: (label, lowest age, highest age) inclusive.
AGE_BANDS: Final = (
    ("under 30", 0, 29),
    ("30-39", 30, 39),
    ("40-49", 40, 49),
    ("50-59", 50, 59),
    ("60 and over", 60, 200),
)


def age_band(age: int | None) -> str | None:
    """The AGE_BANDS label for an age, or None."""
    if age is None:
        return None
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    return None


SECTION_LABELS: Final = {
    SECTION_HEADER: "Case details",
    SECTION_HOW_MADE: "How the determination was made",
    SECTION_ISSUE_AT_DISPUTE: "Issue at dispute",
    SECTION_CASE_SUMMARY: "Clinical case summary",
    SECTION_DOCUMENTS: "Documents reviewed",
    SECTION_GUIDELINES: "Guidelines relied upon",
    SECTION_DECISIONS: "Decisions and rationales",
    SECTION_RATIONALE: "Rationale",
    SECTION_QUALIFICATIONS: "Reviewer qualifications",
    SECTION_OTHER: "Other text",
}

# Where query words match. auto: a word naming a treatment (drug, service) only in a
# decision's own text, other words also in its letter's; decision / letter: every word so.
SCOPE_AUTO: Final = "auto"
SCOPE_DECISION: Final = "decision"
SCOPE_LETTER: Final = "letter"
SCOPES: Final = (SCOPE_AUTO, SCOPE_DECISION, SCOPE_LETTER)

# Sorting and paging of search results.
SORT_RELEVANCE: Final = "relevance"
SORT_NEWEST: Final = "newest"
SORT_OLDEST: Final = "oldest"
SORTS: Final = (SORT_RELEVANCE, SORT_NEWEST, SORT_OLDEST)
DEFAULT_PAGE_SIZE: Final = 20
# A page of the site or API: more hits than this make one request heavy for everyone (large
# pulls go through the CSV export, which streams). The engine itself allows bigger pages.
MAX_PAGE_SIZE: Final = 1000
ENGINE_MAX_PAGE_SIZE: Final = 5000
MAX_PAGE: Final = 10_000
MAX_QUERY_LENGTH: Final = 1000
