"""Realistic generated IMR letters with ground truth (for `imr-search demo`, tests, benchmarks)."""

from .letters import (
    GEN_LAYOUTS,
    Truth,
    generate_corpus,
    generate_letter,
    load_truth,
    truth_to_dict,
    write_corpus,
)

__all__ = [
    "GEN_LAYOUTS",
    "Truth",
    "generate_corpus",
    "generate_letter",
    "load_truth",
    "truth_to_dict",
    "write_corpus",
]
