"""Stage 2, find: the disputed items of a letter, their outcomes, guidelines and rationales."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ..fields import OUTCOME_OVERTURNED, OUTCOME_UPHELD
from .clean import Line, fold, ifinditer, join_lines


class RawDecision(NamedTuple):
    """A disputed item as found in the text, before normalization."""

    request: str
    outcome: str | None
    outcome_stated: bool  # False when the outcome was inferred from "(not) medically necessary"
    claims_administrator_guideline: str
    maximus_guideline: str
    rationale: str


@dataclass(slots=True)
class _Block:
    """An item being read: its request, stated outcome and labelled parts."""

    request: str
    outcome: str | None = None
    parts: dict[str, list[Line]] = field(default_factory=dict)
    current: str = "text"

    def add(self, line: Line) -> None:
        """Append a line to the part being read."""
        self.parts.setdefault(self.current, []).append(line)


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
_OUTCOME_ENDINGS = ("upheld", "uphold", "overturned", "overturn")
_ANY_OUTCOME = re.compile(_OUT, re.I)
# "Norco 10/325 mg #30:  Upheld", "Tramadol 50mg #60 - Overturned", "Item: UPHELD."
_ITEM_LINE = re.compile(rf"^(?P<req>.*?\S)\s*(?::|\s[-\u2013\u2014|]|\s=)\s*{_OUT}\s*[.!]?$", re.I)
# "Upheld", "Decision: Overturned", "The decision is upheld." on a line of its own.
_BARE_OUTCOME = re.compile(
    r"^(?:(?:the\s+)?(?:final\s+|imr\s+|expert\s+reviewer'?s?\s+)?(?:decision|determination|"
    rf"outcome|result)\s*(?:is|:|-|=)?\s*)?{_OUT}\s*[.!]?$",
    re.I,
)
_LABEL = re.compile(r"^(?P<label>[A-Za-z][A-Za-z0-9 '\u2019()/&,.-]{1,90}?)\s*:\s*(?P<rest>.*)$")
_REQUEST_LABEL = re.compile(
    r"^(?:(?:disputed|requested)\s+(?:item|service|treatment|request)s?(?:/services?)?"
    r"|(?:item|issue|request)(?:\s*(?:no\.?|#)?\s*\d{1,2})?|request(?:ed)?(?:\s+(?:treatment|service))?"
    r"|treatment(?:\s+requested)?)$",
    re.I,
)
NUMBERED_LINE = _NUMBERED = re.compile(r"^(?:\(?(\d{1,2})[.)]|#\s*\d{1,2}[.:)]?)\s+(?P<body>\S.*)$")
_INTRO = re.compile(
    r"set forth below|based on (?:the )?decisions? for|following (?:disputed )?(?:items|requests)",
    re.I,
)
_DECISION_SENTENCE = re.compile(
    r"\b(?:decision|determination|denial|non-?certification|review|request|item|service)s?\b"
    r"[^.;]{0,120}?\b(?:is|are|was|were|be|been|being|hereby)\s+(?:hereby\s+)?"
    r"(upheld|overturned|reversed|affirmed)\b"
    r"|\b(?:I|we|reviewer)\s+(?:hereby\s+)?(uphold|overturn)s?\b",
    re.I,
)
_OUTCOME_STEMS = ("upheld", "uphold", "overturn", "reversed", "affirmed")
_NECESSITY = re.compile(
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
_SENTENCE_REQUEST = re.compile(
    r"\b(?:denial|request|non-?certification|decision|determination)\s+(?:of|for|regarding|on)\s+"
    r"(?:the\s+)?(?:request\s+for\s+)?(?P<req>.+?)\s+(?:is|was|has\s+been|are|were)\s+"
    r"(?:hereby\s+)?(?:upheld|overturned|reversed|affirmed|(?:not\s+)?medically\s+necessary)",
    re.I,
)
_ARTICLE = re.compile(r"^(?:a|an|the)\s+(?=\S)", re.I)  # "the request for a 28 day program"
_REQUEST_PREFIX = re.compile(r"^(?:the\s+)?request(?:ed)?\s+(?:is\s+)?for\s+", re.I)


def outcome_word(word: str) -> str | None:
    """Upheld / Overturned for a word such as "UPHOLD" or "overturned"."""
    return _OUTCOME_WORDS.get(word.lower())


_GUIDELINE_WORDS = ("guideline", "relied", "basis", "criteria", "citation")
_REVIEWER_WORDS = ("maximus", "reviewer", "imr", "professional", "expert", "medical")
_OUTCOME_LABEL = re.compile(r"(?:(?:final|imr|the)\s+)?(?:decision|determination|outcome|result)")


def _label_kind(label: str, rest: str) -> str | None:
    """Which part a "Label: ..." line opens: ca, mx, rationale, outcome, request, or None."""
    low = " ".join(label.lower().split())
    if len(low) > 90:
        return None
    guideline = any(map(low.__contains__, _GUIDELINE_WORDS))
    if "claims administrator" in low or "utilization review" in low or low.startswith("ur "):
        return "ca" if guideline else None
    if guideline and any(map(low.__contains__, _REVIEWER_WORDS)):
        return "mx"
    if low in {"guideline", "guidelines", "guidelines cited", "guideline(s)"}:
        return "mx"
    if "rationale" in low or low in {"reason", "reasons", "basis for the decision", "discussion"}:
        return "rationale"
    if _OUTCOME_LABEL.fullmatch(low):
        return "outcome" if _BARE_OUTCOME.match(rest.strip()) or not rest.strip() else None
    if _REQUEST_LABEL.match(low) and rest.strip():
        return "request"
    return None


def _is_label(text: str) -> bool:
    """True when the line opens a labelled part."""
    m = _LABEL.match(text) if text.find(":", 0, 95) >= 0 else None
    return bool(m and _label_kind(m.group("label"), m.group("rest")))


def stated_outcome(text: str) -> str | None:
    """The outcome a decision sentence states ("the decision is upheld"), last one wins."""
    found: str | None = None
    low = fold(text)
    if not any(w in low for w in _OUTCOME_STEMS):  # every match holds one
        return None
    for m in _DECISION_SENTENCE.finditer(text):
        found = outcome_word(m.group(1) or m.group(2))
    return found


def necessity_outcome(text: str) -> str | None:
    """Upheld when the conclusion is "not medically necessary", Overturned when "medically
    necessary"; judged from the last statement of necessity."""
    last = None
    for m in ifinditer(_NECESSITY, text, "medical"):
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
    m = _NUMBERED.match(text)
    if m:
        text = m.group("body")
    if sentence := _SENTENCE_REQUEST.search(text):
        text = _ARTICLE.sub("", sentence.group("req"))
    while m := _INNER_LABEL.match(text):  # "Item 1: Request: TENS unit"
        text = text[m.end() :]
    if "medically" in fold(text):  # else neither regex can match
        text = _TRAILING_NECESSITY.sub("", text)
        text = _REQUEST_PREFIX.sub("", text) if _TRAILING_NECESSITY.search(text) else text
    return text.strip().rstrip(":;,.-").strip()


def _rest_of_paragraph(lines: list[Line], i: int, most: int) -> list[Line]:
    """Up to `most` lines after line i that continue its paragraph."""
    out: list[Line] = []
    for ln in lines[i + 1 : i + 1 + most]:
        if ln.para:
            break
        out.append(ln)
    return out


def _numbered_item(lines: list[Line], i: int) -> str | None:
    """The request of a numbered item line ("1. Norco ... is not medically necessary")."""
    line = lines[i]
    m = _NUMBERED.match(line.text)
    after_sentence = i > 0 and lines[i - 1].text[-1:] in ".:;"
    if not m or not (line.para or after_sentence) or len(line.text) > 400:
        return None
    # The item's sentence may wrap: its paragraph's next few lines count with it.
    para = " ".join([line.text, *(ln.text for ln in _rest_of_paragraph(lines, i, 3))])
    if _NECESSITY.search(para) or _ANY_OUTCOME.search(para):
        return m.group("body")
    ahead = [ln.text for ln in lines[i + 1 : i + 4]]
    if any(_is_label(t) or _BARE_OUTCOME.match(t) for t in ahead[:3]):
        return m.group("body")
    return None


def _paragraph_tail(block: _Block | None, intro: list[Line]) -> list[Line]:
    """Remove and return the request written above an item's labels: the lines of the last
    paragraph read that follow its last finished sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    if not source:
        return []
    start = max(i for i, ln in enumerate(source) if ln.para or i == 0)
    if source[-1].text[-1:] in '.!?;"':
        return []  # the paragraph ends a sentence: no request follows it
    ends = [k + 1 for k in range(start, len(source) - 1) if source[k].text[-1:] in '.!?:;"']
    start = max([start, *ends])
    tail = source[start:]
    text = " ".join(ln.text for ln in tail)
    if not tail or len(tail) > 3 or len(text) > 300 or _INTRO.search(text):
        return []
    del source[start:]
    return tail


_LABELLED = ("ca", "mx", "rationale")


def _wraps_into(previous: str) -> bool:
    """True when a line of prose runs on into the next line."""
    return len(previous) >= 60 and previous[-1:] not in '.:!?;"'


_HEAD_LINES = 8  # an item heading's paragraph, read back from its outcome, is short


def _heading_paragraph(source: list[Line], in_part: bool) -> int | None:
    """Where the short paragraph that ends `source` opens, when it reads as an item heading
    (no label, intro or statement of necessity in it, and not a labelled part's own first
    paragraph); None otherwise."""
    k = len(source)
    while k > 0 and len(source) - k < _HEAD_LINES:
        text = source[k - 1].text
        if len(text) > 300 or _is_label(text) or _INTRO.search(text) or _NECESSITY.search(text):
            return None
        k -= 1
        if source[k].para:
            return None if in_part and k == 0 else k
    return None


def _request_above(block: _Block | None, intro: list[Line], whole: bool = True) -> str:
    """Remove and return the request written just above an outcome line ("X" / "Decision:
    Upheld"): its whole paragraph (if `whole`), else up to two short lines that end no
    sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    start = _heading_paragraph(source, block is not None) if whole else None
    if start is not None:
        head = " ".join(ln.text for ln in source[start:])
        del source[start:]
        return head
    taken: list[str] = []
    while source and len(taken) < 2:
        text = source[-1].text
        if text[-1:] in '.!?;"' or len(text) > 200 or _is_label(text) or _INTRO.search(text):
            break
        taken.insert(0, source.pop().text)
        if text.endswith(":") or (source and source[-1].text.endswith(":")):
            break
    return " ".join(taken)


def _wrapped_request_head(block: _Block | None, intro: list[Line], line: Line) -> str:
    """Earlier lines of a request that wrapped before its "...: Upheld" line: the rest of its
    paragraph (a partial approval runs over several sentences), else the lines after the
    last finished sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    # A page break inside a request sets off its last line like a paragraph: it is one only
    # where the line before ends a sentence (or ends in anything but a word or comma).
    last = source[-1].text if source else ""
    if line.para and not (last[-1:] == "," or last[-1:].islower()):
        return ""
    start = _heading_paragraph(source, block is not None)
    if start is not None:
        text = " ".join(ln.text for ln in source[start:])
        del source[start:]
        return text
    head: list[str] = []
    while source and len(head) < 2:
        prev = source[-1]
        text = prev.text
        if (
            text[-1:] in '.:;!?")'
            or len(text) > 120
            or _is_label(text)
            or _INTRO.search(text)
            or _NECESSITY.search(text)
        ):
            break
        head.insert(0, source.pop().text)
        if prev.para:
            break
    return " ".join(head)


def _label_position(lines: list[Line], i: int, kind: str) -> bool:
    """Whether a label stands where the letter's labels do: written with a capital, and a
    request label opening a paragraph or following a finished line."""
    text = lines[i].text
    if not text[:1].isupper() and not lines[i].para:
        return False
    if kind != "request" or lines[i].para or i == 0:
        return True
    previous = lines[i - 1].text
    return previous[-1:] in '.:;!?")' or previous.rstrip(" .!").lower().endswith(_OUTCOME_ENDINGS)


def _item_number(text: str) -> int:
    """The number of a numbered line ("3." -> 3; "#3" -> 0, unknown)."""
    m = _NUMBERED.match(text)
    return int(m.group(1)) if m and m.group(1) else 0


def _next_in_sequence(
    blocks: list[_Block], numbers: dict[int, int], text: str, nested: list[int]
) -> bool:
    """Whether a numbered line may open an item: the first item, or the next number of a letter
    whose items are numbered. A numbered list inside a guideline or rationale restarts its
    numbering (nested[0] is its last number): its lines are neither."""
    if not blocks:
        return True
    if 0 not in numbers:  # the letter's first item was not numbered
        return False
    last, number = numbers[max(numbers)], _item_number(text)
    if number and (number <= last or number == nested[0] + 1):
        nested[0] = number  # a list of the item's own text
        return False
    return not last or not number or number == last + 1


def scan_items(lines: list[Line]) -> tuple[list[RawDecision], list[Line]]:
    """Items found in a run of lines, and the lines before the first item (the intro)."""
    blocks: list[_Block] = []
    intro: list[Line] = []
    cur: _Block | None = None
    numbers: dict[int, int] = {}  # block index -> its item number, for numbered items
    nested = [0]  # the last number of a list inside the current item's text
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        # Cheap tests first: most lines are prose, with no outcome word at the end and no
        # label before a colon.
        end = text.rstrip(" .!")
        ends_in_outcome = end[-1:] in "dDnN" and end.lower().endswith(_OUTCOME_ENDINGS)
        item = _ITEM_LINE.match(text) if ends_in_outcome else None
        bare = _BARE_OUTCOME.match(text) if ends_in_outcome else None
        if bare and i and text[:1].islower() and not line.para and _wraps_into(lines[i - 1].text):
            bare = None  # "... The decision regarding this request is" / "overturned."
        label = _LABEL.match(text) if text.find(":", 0, 95) >= 0 else None
        kind = _label_kind(label.group("label"), label.group("rest")) if label else None
        if kind and not _label_position(lines, i, kind):
            kind = None  # "... for the hand with:" / "treatment: Complicated, 16 visits"
        if bare:
            word = outcome_word(bare.group(1))
            labelled = cur is not None and any(k in cur.parts for k in _LABELLED)
            if cur is not None and cur.outcome is None and not labelled:
                cur.outcome = word
            elif above := _request_above(cur, intro, cur is None or cur.outcome is not None):
                cur = _Block(clean_request(above), word)
                blocks.append(cur)
            elif cur is not None and cur.outcome is None:
                cur.outcome = word
            elif cur is not None:
                cur.add(line)
            i += 1
            continue
        if item and kind not in ("ca", "mx", "rationale"):
            head = _wrapped_request_head(cur, intro, line)
            cur = _Block(clean_request(f"{head} {item.group('req')}"), outcome_word(item.group(2)))
            blocks.append(cur)
            i += 1
            continue
        if kind == "request" and label is not None:
            cur = _Block(clean_request(label.group("rest")))
            blocks.append(cur)
            i += 1
            continue
        first = text[:1]  # a numbered item opens with "(", "#" or a digit
        numbered = (
            _numbered_item(lines, i)
            if not kind
            and (first == "(" or first == "#" or first.isdigit())
            and _next_in_sequence(blocks, numbers, text, nested)
            else None
        )
        if numbered is not None:
            # A long numbered request wraps: "3. Physical therapy ... is not" / "medically ...".
            while (
                numbered[-1:] not in ".:"
                and i + 1 < len(lines)
                and not lines[i + 1].para
                and not _is_label(lines[i + 1].text)
                and len(numbered) < 400
            ):
                i += 1
                numbered = f"{numbered} {lines[i].text}"
            cur = _Block(clean_request(numbered), stated_outcome(numbered) or None)
            numbers[len(blocks)] = _item_number(text)
            nested[0] = 0
            blocks.append(cur)
            i += 1
            continue
        # A request ending in ":" with its outcome on the next line.
        following = (
            _BARE_OUTCOME.match(lines[i + 1].text)
            if text.endswith(":") and not kind and i + 1 < len(lines)
            else None
        )
        if following:
            head = _wrapped_request_head(cur, intro, line)
            cur = _Block(clean_request(f"{head} {text}"), outcome_word(following.group(1)))
            blocks.append(cur)
            i += 2
            continue
        if kind in ("ca", "mx", "rationale") and label is not None:
            starts_new = kind == "ca" and (
                cur is None or any(k in cur.parts for k in ("ca", "mx", "rationale"))
            )
            if starts_new:
                tail = _paragraph_tail(cur, intro)
                if tail or cur is None:
                    cur = _Block(clean_request(" ".join(ln.text for ln in tail)))
                    blocks.append(cur)
            if cur is None:
                intro.append(line)
                i += 1
                continue
            cur.current = kind
            rest = label.group("rest").strip()
            if rest:
                cur.add(Line(rest, True))
            i += 1
            continue
        if cur is None:
            intro.append(line)
        else:
            cur.add(line)
        i += 1
    return [_finish(b) for b in blocks], intro


def _finish(block: _Block) -> RawDecision:
    """A RawDecision from a block, inferring the outcome from its text when unstated."""
    parts = {k: join_lines(v) for k, v in block.parts.items()}
    rationale = parts.get("rationale", "")
    extra = parts.get("text", "")
    rationale = f"{rationale}\n\n{extra}".strip() if rationale and extra else rationale or extra
    outcome, stated = block.outcome, block.outcome is not None
    if outcome is None:
        outcome = stated_outcome(rationale)
        stated = outcome is not None
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
