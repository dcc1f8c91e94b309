"""The grammar of a decisions section: outcome words, item lines, labels and numbering."""

from __future__ import annotations

import re
from functools import lru_cache

from ..fields import OUTCOME_OVERTURNED, OUTCOME_UPHELD

_OUTCOME_WORDS = {
    "upheld": OUTCOME_UPHELD,
    "uphold": OUTCOME_UPHELD,
    "upholds": OUTCOME_UPHELD,
    "affirmed": OUTCOME_UPHELD,
    "overturned": OUTCOME_OVERTURNED,
    "overturn": OUTCOME_OVERTURNED,
    "overturns": OUTCOME_OVERTURNED,
    "reversed": OUTCOME_OVERTURNED,
}
_OUT = r"(upheld|uphold|overturned|overturn)"
OUTCOME_ENDINGS = ("upheld", "uphold", "overturned", "overturn")
ANY_OUTCOME = re.compile(_OUT, re.I)
# "Norco 10/325 mg #30:  Upheld", "Tramadol 50mg #60 - Overturned", "Item: UPHELD."
ITEM_LINE = re.compile(rf"^(?P<req>.*?\S)\s*(?::|\s[-\u2013\u2014|]|\s=)\s*{_OUT}\s*[.!]?$", re.I)
# "Upheld", "Decision: Overturned", "The decision is upheld." on a line of its own; "- Upheld"
# (an item line's outcome wrapped with its dash).
BARE_OUTCOME = re.compile(
    r"^(?:[-\u2013\u2014:]\s*)?(?:(?:the\s+)?(?:final\s+|imr\s+|expert\s+reviewer'?s?\s+)?(?:decision|determination|"
    rf"outcome|result)\s*(?:is|:|-|=)?\s*)?{_OUT}\s*[.!]?$",
    re.I,
)
# A sentence with a subject of its own: "The request is not medically necessary."
OWN_SUBJECT = re.compile(r"(?:the|this|these|that|it|its|such)\b", re.I)
LABEL = re.compile(r"^(?P<label>[A-Za-z][A-Za-z0-9 '\u2019()/&,.-]{1,90}?)\s*:\s*(?P<rest>.*)$")
_REQUEST_LABEL = re.compile(
    r"^(?:(?:disputed|requested)\s+(?:item|service|treatment|request)s?(?:/services?)?"
    r"|(?:item|issue|request)(?:\s*(?:no\.?|#)?\s*\d{1,2})?|request(?:ed)?(?:\s+(?:treatment|service))?"
    r"|treatment(?:\s+requested)?)$",
    re.I,
)
NUMBERED_LINE = re.compile(r"^(?:\(?(\d{1,2})[.)]|#\s*\d{1,2}[.:)]?)\s+(?P<body>\S.*)$")
INTRO = re.compile(
    r"set forth below|based on (?:the )?decisions? for|following (?:disputed )?(?:items|requests)",
    re.I,
)


def outcome_word(word: str) -> str | None:
    """Upheld / Overturned for a word such as "UPHOLD" or "overturned"."""
    return _OUTCOME_WORDS.get(word.lower())


_GUIDELINE_WORDS = ("guideline", "relied", "basis", "criteria", "citation")
_REVIEWER_WORDS = ("maximus", "reviewer", "imr", "professional", "expert", "medical")
_GUIDELINE_LABEL = re.compile(
    r"(?:guidelines?(?:\(s\))?|standards?)"
    r"(?: (?:cited|used|applied|referenced|relied upon|considered))?"
)
_REASONS_LABEL = re.compile(
    r"reasons?(?: for (?:the|this) (?:decision|determination))?|reasoning|explanation|discussion"
    r"|basis (?:for|of) (?:the|this) (?:decision|determination)"
)
_OUTCOME_LABEL = re.compile(r"(?:(?:final|imr|the)\s+)?(?:decision|determination|outcome|result)")


def label_kind(label: str, rest: str) -> str | None:
    """Which part a "Label: ..." line opens: ca, mx, rationale, outcome, request, or None."""
    kind = _label_class(label)
    if kind == "outcome":
        return "outcome" if BARE_OUTCOME.match(rest.strip()) or not rest.strip() else None
    if kind == "request":
        return "request" if rest.strip() else None
    return kind


# Letters use a small set of labels, each read on many lines: their class is kept.
@lru_cache(maxsize=4096)
def _label_class(label: str) -> str | None:
    """label_kind by the label alone: outcome and request still depend on the text after it."""
    low = " ".join(label.lower().split())
    if len(low) > 90:
        return None
    guideline = any(map(low.__contains__, _GUIDELINE_WORDS))
    if "claims administrator" in low or "utilization review" in low or low.startswith("ur "):
        return "ca" if guideline else None
    if guideline and any(map(low.__contains__, _REVIEWER_WORDS)):
        return "mx"
    if _GUIDELINE_LABEL.fullmatch(low):  # "Guidelines", "Guideline(s) Cited", "Guidelines used"
        return "mx"
    if "rationale" in low or _REASONS_LABEL.fullmatch(low):
        return "rationale"
    if _OUTCOME_LABEL.fullmatch(low):
        return "outcome"
    if _REQUEST_LABEL.match(low):
        return "request"
    return None


_SERVICE_DATE = re.compile(r"(?:dos|dates?\s+of\s+service)", re.I)


# A heading that ends on its date of service's label, the date on the next line ("... DOS:").
SERVICE_DATE_END = re.compile(r"\b(?:dos|dates?\s+of\s+service):$", re.I)


def is_service_date(label: str) -> bool:
    """Whether a label names a request's date of service ("DOS: 9/14/2021"), which belongs to
    the request and opens no part of its own."""
    return _SERVICE_DATE.fullmatch(label.strip()) is not None


def service_date_line(text: str) -> bool:
    """Whether a line opens with a date-of-service label ("DOS: 4/10/2013"), the request's."""
    m = LABEL.match(text) if text.find(":", 0, 20) > 0 else None
    return m is not None and is_service_date(m.group("label"))


def is_label(text: str) -> bool:
    """True when the line opens a labelled part."""
    m = LABEL.match(text) if text.find(":", 0, 95) >= 0 else None
    return bool(m and label_kind(m.group("label"), m.group("rest")))


def marker_style(text: str) -> str:
    """How a numbered line is numbered, its digits as 9: "12. X" -> "9.", "(3) X" -> "(9)"."""
    m = NUMBERED_LINE.match(text)
    if m is None:
        return ""
    marker = text[: m.start("body")].replace(" ", "").replace("\t", "")
    return "".join("9" if c.isdigit() else c for c in marker).replace("99", "9")


def item_number(text: str) -> int:
    """The number of a numbered line ("3." -> 3; "#3" -> 0, unknown)."""
    m = NUMBERED_LINE.match(text)
    return int(m.group(1)) if m and m.group(1) else 0
