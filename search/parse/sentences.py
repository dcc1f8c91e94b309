"""Decision sentences: the outcome a sentence states or implies, and the request it names."""

from __future__ import annotations

import re

from ..fields import OUTCOME_OVERTURNED, OUTCOME_UPHELD
from .clean import fold, ifinditer
from .grammar import NUMBERED_LINE, outcome_word

# (A decimal point, "Capsaicin 0.0375%", is no sentence's end.)
DECISION_SENTENCE = re.compile(
    r"\b(?:decision|determination|denial|non-?certification|review|request|item|service)s?\b"
    r"(?:[^.;]|(?<=\d)\.(?=\d)){0,120}?\b(?:is|are|was|were|be|been|being|hereby)\s+(?:hereby\s+)?"
    r"(upheld|overturned|reversed|affirmed)\b"
    r"|\b(?:I|we|reviewer)\s+(?:hereby\s+)?(uphold|overturn)s?\b",
    re.I,
)
_OUTCOME_STEMS = ("upheld", "uphold", "overturn", "reversed", "affirmed")
NECESSITY = re.compile(
    r"medically\s+(?:necessary|indicated|appropriate|reasonable)|medical\s+necessity",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:not|cannot|can't|no|never|neither|nor|non|unable|fails?|lacks?|without)\b|n't\b",
    re.I,
)
_NECESSITY_AFFIRMED = re.compile(
    r"\b(?:has|have|was|were|is|been)\s+(?:been\s+)?(?:established|substantiated|demonstrated"
    r"|supported|met)\b",
    re.I,
)
_TRAILING_NECESSITY = re.compile(
    r"\s*(?:,|\bwhich\b|\bthat\b)?\s*(?:is|are|was|were)\s+(?:not\s+)?medically\s+necessary.*$",
    re.I,
)
_INNER_LABEL = re.compile(
    r"^(?:(?:disputed|requested)\s+(?:item|service|treatment)s?|request(?:ed)?(?:\s+(?:treatment|"
    r"service))?|item(?:\s*#?\s*\d{1,2})?|issue(?:\s*#?\s*\d{1,2})?)\s*:\s*(?=\S)",
    re.I,
)
# "Upon independent review, the denial of Zantac 150mg is upheld."
# Its subject a noun phrase of its own ("the request for X", "Denial of X"): "Retrospective
# request for X is not medically necessary" names the request "Retrospective request for X".
SENTENCE_REQUEST = re.compile(
    r"(?:^|\b(?:the|this|that|its|their|your)\s+|,\s+)"
    r"(?:denial|request|non-?certification|decision|determination)\s+(?:of|for|regarding|on)\s+"
    r"(?:the\s+)?(?:request\s+for\s+)?(?P<req>.+?)\s+(?:is|was|has\s+been|are|were)\s+"
    r"(?:hereby\s+)?(?:upheld|overturned|reversed|affirmed|(?:not\s+)?medically\s+necessary)",
    re.I,
)
_NON_KEY = re.compile(r"[^a-z0-9]+")


def request_key(text: str) -> str:
    """A request reduced for comparison: lowercase letters and digits only."""
    return _NON_KEY.sub("", text.lower())


_BULLETS = "-\u2022\u25aa\u25cf\u2013*"
_ARTICLE = re.compile(r"^(?:a|an|the)\s+(?=\S)", re.I)  # "the request for a 28 day program"
_REQUEST_PREFIX = re.compile(r"^(?:the\s+)?request(?:ed)?\s+(?:is\s+)?for\s+", re.I)


def stated_outcome(text: str) -> str | None:
    """The outcome a decision sentence states ("the decision is upheld"), last one wins."""
    found: str | None = None
    low = fold(text)
    if not any(w in low for w in _OUTCOME_STEMS):  # every match holds one
        return None
    for m in DECISION_SENTENCE.finditer(text):
        found = outcome_word(m.group(1) or m.group(2))
    return found


# The subject of a decision sentence ("the request for X", "the denial of X"): until its
# verb ("is not medically necessary", "is upheld") comes, the sentence goes on, over a
# blank line or a line that ends in a colon ("... request for Associated surgical service:").
# (A heading's noun phrase, "Retrospective request for X", has no article: it is no sentence.)
_OPEN_SUBJECT = re.compile(r"\bthe\s+(?:request|denial|non-?certification)\s+(?:of|for)\b", re.I)
_VERDICT = re.compile(
    r"medically|medical\s+necessity|upheld|uphold|overturn|reversed|affirmed", re.I
)


def open_sentence(text: str) -> bool:
    """Whether a decision sentence's subject has been read but not yet its verdict."""
    return _OPEN_SUBJECT.search(text) is not None and _VERDICT.search(text) is None


def verdict_pending(text: str) -> bool:
    """Whether a decision sentence's subject has been read but its verdict is not yet whole
    ("... the request for X is not medically" / "necessary ...")."""
    return (
        _OPEN_SUBJECT.search(text) is not None
        and NECESSITY.search(text) is None
        and stated_outcome(text) is None
    )


def implied_outcome(heading: str, request: str) -> str | None:
    """The outcome a heading's sentence implies, judged without its request's own words
    ("MRI without contrast is medically necessary": "without" negates nothing)."""
    if request and len(request) > 3:
        heading = heading.replace(request, " ")
    return necessity_outcome(heading)


def necessity_outcome(text: str) -> str | None:
    """Upheld when the conclusion is "not medically necessary", Overturned when "medically
    necessary"; judged from the last statement of necessity."""
    last = None
    for m in ifinditer(NECESSITY, text, "medical"):
        last = m
    if last is None:
        return None
    start = max(text.rfind(".", 0, last.start()), text.rfind(";", 0, last.start()), 0)
    clause = text[start : last.start()][-90:]
    after = text[last.end() : last.end() + 60].split(".")[0]
    if _NEGATION.search(clause):
        return OUTCOME_UPHELD
    if last.group(0).lower().startswith("medical necessity"):
        if _NEGATION.search(after):
            return OUTCOME_UPHELD
        return OUTCOME_OVERTURNED if _NECESSITY_AFFIRMED.search(after) else None
    return OUTCOME_OVERTURNED


def clean_request(text: str) -> str:
    """A request as written, without numbering, trailing colon or outcome sentence."""
    text = text.strip()
    m = NUMBERED_LINE.match(text)
    if m:
        text = m.group("body")
    elif text[:1] in _BULLETS and text[1:2] == " ":  # "- Norco 10/325mg #60"
        text = text[2:]
    if sentence := SENTENCE_REQUEST.search(text):
        text = _ARTICLE.sub("", sentence.group("req"))
    while m := _INNER_LABEL.match(text):  # "Item 1: Request: TENS unit"
        text = text[m.end() :]
    if "medically" in fold(text):  # else neither regex can match
        text = _TRAILING_NECESSITY.sub("", text)
        text = _REQUEST_PREFIX.sub("", text) if _TRAILING_NECESSITY.search(text) else text
    return text.strip().rstrip(":;,.-\u2013\u2014").strip()  # (a dash before a wrapped outcome)
