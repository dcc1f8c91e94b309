"""The Whoosh schema, field lists and text analysis of the index, defined once."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from whoosh import columns, fields, formats

from .engine._codec import WideRefBytesColumn
from .fields import FACETS, ITEM_FACETS, LETTER_FACETS

# One Whoosh document per decision. The first document of a letter (its "primary") also
# carries the letter-level text, the registry terms and the stored record JSON; the
# letter's other decisions only carry their own text. All documents of a letter are
# added by one writer in a row, so they are contiguous within one segment; the engine
# relies on that to spread letter-level matches to every decision of the letter.

# Text fields users can name in a query (`rationale:tizanidine`).
DECISION_TEXT_FIELDS: Final = ("request", "rationale")  # one decision's own text
LETTER_TEXT_FIELDS: Final = ("summary", "reviewer", "other")  # indexed once, on the primary
TEXT_FIELDS: Final = DECISION_TEXT_FIELDS + LETTER_TEXT_FIELDS
# Fields a bare word searches, and how much a match in each counts.
FIELD_BOOSTS: Final = {
    "request": 3.0,
    "rationale": 1.5,
    "summary": 1.0,
    "reviewer": 0.5,
    "other": 0.3,
}
DEFAULT_FIELDS: Final = TEXT_FIELDS
BIGRAM_SUFFIX: Final = "_2"  # "<field>_2" holds adjacent word pairs: phrases without positions

# Facet fields: indexed terms (casefolded) under "f_<facet>", and a per-document column of
# the display values (several values joined by MULTI_SEP) under "c_<facet>".
MULTI_FACETS: Final = ("guideline", "state", "specialty", "ingredient", "region")
MULTI_SEP: Final = "\x1f"
FACET_FIELD_PREFIX: Final = "f_"
FACET_COLUMN_PREFIX: Final = "c_"

# Stored / bookkeeping fields.
F_LID: Final = "lid"  # letter id, on every document (delete a letter by this term)
F_RID: Final = "rid"  # letter id, primary only, stored: finds the primary document
F_SRC: Final = "src"  # source path, primary only: the record of what is indexed
F_SHA: Final = "sha"  # sha256 of the text, primary only
C_LKEY: Final = "c_lkey"  # int64 hash of the letter id: groups decisions by letter
C_DATE: Final = "c_date"  # yyyymmdd of the determination (0 unknown): sorting
C_ORD: Final = "c_ord"  # decision ordinal (0: no decision)
# The record JSON, zlib-compressed by the parsing worker, primary only. A column rather than
# a stored field: Whoosh would pickle and compress stored fields again in the writer.
C_REC: Final = "c_rec"

SCHEMA_VERSION: Final = 1
PARSER_VERSION: Final = 1  # recorded in each TOC; raise when parsing changes what is indexed


Packed = tuple[str, bytes]  # terms joined by "\n", and their counts as array("I") bytes


def pack_terms(counts: Mapping[str, int]) -> Packed:
    """Term counts in a form that pickles in microseconds (worker -> writer)."""
    return "\n".join(counts), array("I", counts.values()).tobytes()


def unpack_terms(value: Packed | Mapping[str, int]) -> Iterator[tuple[str, int]]:
    """(term, count) pairs of a packed value or of a term -> count mapping."""
    if isinstance(value, Mapping):
        return iter(value.items())
    joined, raw = value
    if not joined:
        return iter(())
    counts = array("I")
    counts.frombytes(raw)
    return zip(joined.split("\n"), counts, strict=True)


class PreAnalyzed(fields.FieldType):  # type: ignore[misc]
    """A text field whose value arrives analyzed: term counts, as a dict or packed."""

    def __init__(self, scorable: bool = True) -> None:
        # Existence: no per-posting value bytes; the term frequency travels as the weight.
        self.format = formats.Existence()
        self.analyzer = None
        self.scorable = scorable
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None
        self.multitoken_query = "default"
        self.spelling = False

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """Postings for pre-counted terms: (term bytes, freq, weight, encoded freq)."""
        for term, freq in unpack_terms(value):
            yield term.encode("utf-8"), freq, float(freq), b""

    def process_text(self, qstring: str, mode: str = "", **kwargs: Any) -> Iterator[str]:
        """Query-side analysis: the same tokens as at indexing."""
        return iter(tokenize(qstring))

    def self_parsing(self) -> bool:
        """Not parsed by Whoosh's query parser itself."""
        return False


def field_terms(fieldobj: Any, value: Any) -> Iterator[tuple[str, int]]:
    """(term, count) pairs a field indexes for a value: pre-analyzed text, or Whoosh's own
    analysis (ID fields, one term)."""
    if isinstance(fieldobj, PreAnalyzed):
        return unpack_terms(value)
    return ((t.decode("utf-8"), f) for t, f, _w, _v in fieldobj.index(value))


def facet_field(facet: str) -> str:
    """Indexed-terms field name of a facet."""
    return FACET_FIELD_PREFIX + facet


def facet_column(facet: str) -> str:
    """Column field name of a facet."""
    return FACET_COLUMN_PREFIX + facet


def bigram_field(field: str) -> str:
    """Name of the adjacent-word-pairs field of a text field."""
    return field + BIGRAM_SUFFIX


def build_schema() -> fields.Schema:
    """The index schema."""
    spec: dict[str, Any] = {
        F_LID: fields.ID(),
        F_RID: fields.ID(stored=True),
        F_SRC: fields.ID(),
        F_SHA: fields.ID(stored=True),
        C_LKEY: fields.COLUMN(columns.NumericColumn("q", default=0)),
        C_DATE: fields.COLUMN(columns.NumericColumn("i", default=0)),
        C_ORD: fields.COLUMN(columns.NumericColumn("i", default=0)),
        C_REC: fields.COLUMN(columns.VarBytesColumn()),
    }
    for name in TEXT_FIELDS:
        spec[name] = PreAnalyzed()
        spec[bigram_field(name)] = PreAnalyzed(scorable=False)
    for facet in FACETS:
        spec[facet_field(facet)] = PreAnalyzed(scorable=False)
        # RefBytes: a per-document small integer into a table of distinct values, which the
        # engine maps as one numpy array per segment. Wide: no cap on distinct values.
        spec[facet_column(facet)] = fields.COLUMN(WideRefBytesColumn())
    return fields.Schema(**spec)


SCHEMA: Final = build_schema()
FACET_SCOPE: Final = {**{f: "item" for f in ITEM_FACETS}, **{f: "letter" for f in LETTER_FACETS}}

# --- analysis -------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_HYPHENATED = re.compile(r"[^\W_]+(?:-[^\W_]+)+")


# ASCII text (nearly every letter): every character but a letter or digit becomes a space and
# str.split does the rest, about 1.6x faster than the regex and the same words.
_ASCII_NON_WORD: Final = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def tokenize(text: str) -> list[str]:
    """Lowercase words of a text, in order (letters and digits; everything else splits)."""
    low = text.lower()
    if low.isascii():
        return low.translate(_ASCII_NON_WORD).split()
    return _WORD.findall(low)


def compounds(text: str) -> list[str]:
    """Hyphenated words joined ("on-\\ngoing" -> "ongoing"), so either spelling matches."""
    if "-" not in text:
        return []
    out: list[str] = []
    parts = text.lower().split()
    for i, part in enumerate(parts):
        if "-" not in part:
            continue
        if part.endswith("-") and i + 1 < len(parts):  # broken at a line end: "on-" "going"
            part += parts[i + 1]
        out.extend(m.replace("-", "") for m in _HYPHENATED.findall(part))
    return out


def analyze(text: str) -> tuple[Counter[str], Counter[str]]:
    """Term counts and adjacent-pair counts of a text, as PreAnalyzed values."""
    words = tokenize(text)
    unigrams = Counter(words)
    if "-" in text:
        unigrams.update(compounds(text))
    # ("low", "back") -> "low back" in C; str.join of a pair is twice as fast as "%s %s" %.
    bigrams = Counter(map(" ".join, itertools.pairwise(words)))
    return unigrams, bigrams


def pack_record(data: dict[str, Any]) -> bytes:
    """A record dict as stored: compact JSON, zlib level 1."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return zlib.compress(raw, 1)


def unpack_record(blob: bytes) -> dict[str, Any]:
    """Inverse of pack_record."""
    data: dict[str, Any] = json.loads(zlib.decompress(blob))
    return data


def letter_key(letter_id: str) -> int:
    """A signed 64-bit hash of a letter id (collisions are negligible at millions)."""
    digest = hashlib.blake2b(letter_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def date_number(iso: str | None, year: int | None) -> int:
    """yyyymmdd for sorting; the year alone gives yyyy0000; 0 when unknown."""
    if iso and len(iso) >= 10 and iso[:4].isdigit():
        try:
            return int(iso[:4]) * 10000 + int(iso[5:7]) * 100 + int(iso[8:10])
        except ValueError:
            pass
    return year * 10000 if year else 0


def join_values(values: Iterable[str]) -> str:
    """A multi-valued facet as one column value (sorted, distinct)."""
    return MULTI_SEP.join(sorted(set(values)))
