"""Normalization of request, credential and guideline text: one import for the vocabularies.

The vocabularies live in their own modules (drugs, compounds, dosage, services, regions,
credentials, guidelines), each over its data files in ``search/parse/data``, loaded once, on
first use; this module re-exports their public names, so ``from search.parse.normalize import
find_drug`` keeps working.
"""

from __future__ import annotations

from .credentials import (
    find_states,
    normalize_specialty,
    normalize_state,
    specialty_words,
    split_specialties,
)
from .dosage import parse_quantity, parse_strength
from .drugs import DrugMatch, drug_class, drug_synonyms, find_drug, ingredients
from .guidelines import guideline_sources, mtus_pages
from .regions import body_regions
from .services import CATEGORY_FAMILIES, categorize, category_family, normalize_category

__all__ = [
    "CATEGORY_FAMILIES",
    "DrugMatch",
    "body_regions",
    "categorize",
    "category_family",
    "drug_class",
    "drug_synonyms",
    "find_drug",
    "find_states",
    "guideline_sources",
    "ingredients",
    "mtus_pages",
    "normalize_category",
    "normalize_specialty",
    "normalize_state",
    "parse_quantity",
    "parse_strength",
    "specialty_words",
    "split_specialties",
]
