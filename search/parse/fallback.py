"""Stage 2, find: items of a letter whose layout is unknown, by structure alone.

Where no known decisions section holds items, the items are the openers of one family
(numbered "1." / "(2)", lettered "A." / "(b)", bulleted, or one repeated label such as
"Treatment 2:" / "Issue 1 of 3:") standing where a paragraph opens, in sequence, each
followed by a decision sentence; else the paragraphs that open with one ("the request for
X is not medically necessary").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from .blocks import Block, RawDecision, finish
from .clean import Line, open_end
from .grammar import BARE_OUTCOME, ITEM_LINE, LABEL, is_service_date, label_kind, outcome_word
from .heads import heading_lines
from .sentences import NECESSITY, SENTENCE_REQUEST, clean_request, request_key, stated_outcome

# A marker that opens an item: (family, number in its sequence, the text after it).
_NUMBER = re.compile(r"^(?:\(?(\d{1,2})[.)]|#\s*(\d{1,2})[.:)]?)\s+(\S.*)$")
_LETTER = re.compile(r"^\(?([A-Ha-h])[.)]\s+(\S.*)$")
_BULLETS = "-\u2022\u25aa\u25cf\u2013*"
_BULLET = re.compile(rf"^[{_BULLETS}]\s+(\S.*)$")
# "Treatment 2: ...", "Issue 1 of 3 - ...", "Item #2: ..." (a label of one to three words).
_NUMBERED_LABEL = re.compile(
    r"^([A-Z][A-Za-z]+(?: [A-Za-z]+){0,2})\s*(?:#|no\.?)?\s*(\d{1,2})(?:\s+of\s+\d{1,2})?"
    r"\s*(?::|\s[-\u2013\u2014])\s*(\S.*)?$"
)
# Labels that open an item's parts, never an item: the decision, its reasons, its guidelines.
_PART_KINDS = ("outcome", "rationale", "ca", "mx")
_DIGITS = re.compile(r"\d+")
_TITLE = re.compile(r"[A-Z][A-Z&',/ -]{7,}")  # "REVIEWER CREDENTIALS": letters, no numbers
_FINISHED = '.:;!?)"'
_MOST_FAMILIES = 8  # a letter has a few families; more are noise (keeps the scan linear)
_PRIORITY = {"request label": 3, "outcome line": 3, "number": 2, "letter": 1}
_KEY_CHARS = 20  # a request named by its first letters and digits
_MOST_STARTS = 4  # chains tried per family (each reads the letter once more)
_HEAD_LINES = 3  # an item's heading wraps over a few lines at most
_PARTIAL_LINES = 8  # a partial approval's heading, with its outcome under it


class _Opener(NamedTuple):
    """A line that may open an item."""

    at: int
    family: str
    number: int  # its place in the family's sequence; 0 when it has none (bullets, labels)
    head: str  # the text after the marker
    listed: bool = False  # after a line ending in a colon: a list's first line, if anything
    decided: bool = False  # a decision stated in its heading or the two lines under it
    style: str = ""  # how it is numbered: "9.", "(9)", or a numbered label's word ("item")


def _opens(line: Line, previous: str) -> bool:
    """Whether a line stands where an item may open: a paragraph's first line, or the line
    after one that ends a sentence (a page's lost blank lines) or a bulleted list's line."""
    return (
        line.para
        or not previous
        or previous[-1:] in _FINISHED
        or previous.isupper()
        or (previous[:1] in _BULLETS and _BULLET.match(previous) is not None)
    )


def _labelled(text: str) -> bool:
    """Whether a line opens with a short label ("Finding: ..."), which a wrapped line never
    does."""
    m = LABEL.match(text) if text[:1].isupper() and text.find(":", 0, 32) >= 0 else None
    return m is not None and len(m.group("label")) <= 30 and not is_service_date(m.group("label"))


def _numbered_label_line(text: str) -> bool:
    """Whether a line opens with a numbered label and its colon ("Item 2: Norco")."""
    colon = text.find(":", 0, 40)
    return colon > 0 and text[:1].isupper() and _NUMBERED_LABEL.match(text[: colon + 1]) is not None


def _opener(line: Line, previous: str) -> _Opener | None:
    """The opener a line is, where it stands as one: opening a paragraph or after a line that
    ends a sentence; a numbered label ("Item 1: X") wherever it stands (after a bulleted
    list's last line too: no wrapped line opens with one)."""
    text = line.text
    if not _opens(line, previous) and not _numbered_label_line(text):
        return None
    first = text[:1]
    listed = previous.endswith(":")
    if ITEM_LINE.match(text) and not _labelled(text):  # "Norco 10/325mg #60: Upheld"
        return _Opener(0, "outcome line", 0, text)
    if (first.isdigit() or first in "(#") and (m := _NUMBER.match(text)):
        style = _DIGITS.sub("9", text[: m.start(3)].strip())
        return _Opener(0, "number", int(m.group(1) or m.group(2)), m.group(3), listed, style=style)
    if ((first.isalpha() and text[1:2] in ".)") or first == "(") and (m := _LETTER.match(text)):
        number = ord(m.group(1).lower()) - ord("a") + 1
        return _Opener(0, "letter", number, m.group(2), listed)
    if first in "-\u2022\u25aa\u25cf\u2013*" and (m := _BULLET.match(text)):
        return _Opener(0, "bullet", 0, m.group(1), listed)
    # Numbered labels are numbers whatever their word ("Request 1:" then "Service 2:", or
    # "Item 1:" then "2) The request for X:").
    numbered_label = _NUMBERED_LABEL.match(text) if first.isupper() else None
    if numbered_label and label_kind(numbered_label.group(1), "") not in _PART_KINDS:
        m = numbered_label
        style = m.group(1).lower()
        return _Opener(0, "number", int(m.group(2)), m.group(3) or "", listed, style=style)
    if first.isupper() and (m := LABEL.match(text)) and m.group("rest").strip():
        label, rest = m.group("label"), m.group("rest")
        if len(label) > 30 or label_kind(label, "") in _PART_KINDS:  # "Outcome: The ..."
            return None
        if is_service_date(label):  # "DOS: 9/14/2021": the request's own date
            return None
        if label_kind(label, rest) == "request":  # "Requested service:", "Item:"
            return _Opener(0, "request label", 0, rest)
        return _Opener(0, "label " + " ".join(label.lower().split()), 0, rest)
    return None


def _decided(head: str, under: list[str]) -> bool:
    """Whether an opener's top states a decision: an outcome sentence in it or the two lines
    under it, an outcome line, or medical necessity in its heading or a labelled line under
    it ("Finding: The requested treatment is not medically necessary.")."""
    if stated_outcome(" ".join([head, *under])) or NECESSITY.search(head):
        return True
    return any(
        BARE_OUTCOME.match(t) or (_labelled(t) and NECESSITY.search(t) is not None) for t in under
    )


def _chain(openers: list[_Opener], start: int) -> list[_Opener]:
    """The openers of one family that open items, from openers[start] on: in sequence (1, 2,
    3 ...), a list inside an item's text (restarting at 1, or after a colon) left in it."""
    chosen = [openers[start]]
    last, nested, listing = openers[start].number, 0, ""
    for op in openers[start + 1 :]:
        if op.listed and not op.decided:  # "... the following criteria:" / "1. ..."
            nested, listing = op.number, op.style
            continue
        # The next number opens the next item, unless it goes on with a list inside this one,
        # numbered as that list is, and states no decision at its top ("2. Extracorporeal
        # ..." / "The denial ... upheld."; "1. Physical Medicine." / "Item 2: Norco" is none).
        goes_on_list = op.number == nested + 1 and op.style == listing
        if not op.number or (op.number == last + 1 and (not goes_on_list or op.decided)):
            chosen.append(op)
            last, nested = op.number, 0
        else:
            nested, listing = op.number, op.style
    return chosen


def _request(lines: list[Line], op: _Opener, end: int) -> tuple[str, int]:
    """An item's request from its heading (wrapped over a few lines), and the line after it."""
    head, i = heading_lines(lines, op.at, op.head, end, _ends_request)
    if not head and i < end:  # "Item 1:" with the request on the next line
        head, i = heading_lines(lines, i, lines[i].text, end, _ends_request)
    if m := ITEM_LINE.match(head):
        head = m.group("req")
    return clean_request(head), i


def _ends_request(line: Line, previous: str) -> bool:
    """Whether a line ends the heading above it: a labelled line or an opener standing where
    one opens (not "#10 with one refill ..." wrapped from "Theramine 355 mg")."""
    return _labelled(line.text) or _opener(line, previous) is not None


def _item(lines: list[Line], op: _Opener, end: int) -> RawDecision | None:
    """The decision an opener's lines hold, or None where they state none."""
    request, i = _request(lines, op, end)
    item = ITEM_LINE.match(op.head)
    block = Block(request, outcome_word(item.group(2)) if item else None)
    if SENTENCE_REQUEST.search(op.head):  # a heading that is a sentence opens the reasons
        block.add(Line(op.head, True))
        i = op.at + 1
    for line in lines[i:end]:
        text = line.text
        bare = BARE_OUTCOME.match(text) if len(text) < 80 else None
        label = LABEL.match(text) if text.find(":", 0, 95) >= 0 else None
        kind = label_kind(label.group("label"), label.group("rest")) if label else None
        if bare and block.outcome is None:
            block.outcome = outcome_word(bare.group(1))
            continue
        if label is not None and kind == "outcome":
            rest = label.group("rest").strip()
            if block.outcome is None and (m := BARE_OUTCOME.match(rest)):
                block.outcome = outcome_word(m.group(1))
            if not rest or m:
                continue
        if label is not None and kind in ("ca", "mx", "rationale"):
            block.current = kind
            line = Line(label.group("rest").strip(), True)
            if not line.text:
                continue
        block.add(line)
    raw = finish(block)
    if raw.outcome is None:
        # Only the heading may state it ("(1) The request for X is overturned.").
        whole = f"{op.head} " + " ".join(ln.text for ln in lines[op.at + 1 : end])
        headed = finish(Block(request, None, {"text": [Line(whole, True)]}))
        if headed.outcome is None:
            return None
        return headed._replace(rationale=raw.rationale)
    return raw


def _decision_flags(lines: list[Line]) -> list[bool]:
    """Per line: whether it may state a decision (an outcome word or medical necessity)."""
    out = []
    for line in lines:
        low = line.text.lower()
        out.append(
            "medical" in low or "upheld" in low or "overturn" in low or "uphold" in low
            or "reversed" in low or "affirmed" in low
        )  # fmt: skip
    return out


_Read = dict[tuple[int, int], RawDecision | None]  # (opener's line, end) -> its decision


def _items_of(
    lines: list[Line], chain: list[_Opener], stops: list[int], read: _Read
) -> list[RawDecision]:
    """The decisions of a chain of openers, each up to the next opener or the next stop (a
    heading in capitals); an opener whose lines state none is not an item (its lines stay
    with the item before it). `read` keeps each opener's decision by its lines: an item kept
    reads the same again, and so does one that another chain of the letter read."""

    def item(op: _Opener, end: int) -> RawDecision | None:
        if (op.at, end) not in read:
            read[op.at, end] = _item(lines, op, end)
        return read[op.at, end]

    bounds = [op.at for op in chain[1:]] + [len(lines)]
    ends = [min(end, stops[op.at]) for op, end in zip(chain, bounds, strict=True)]
    kept = [op for op, end in zip(chain, ends, strict=True) if item(op, end)]
    if not kept:
        return []
    bounds = [op.at for op in kept[1:]] + [len(lines)]
    ends = [min(end, stops[op.at]) for op, end in zip(kept, bounds, strict=True)]
    found = (item(op, end) for op, end in zip(kept, ends, strict=True))
    return [raw for raw in found if raw is not None]


def _stops(lines: list[Line]) -> list[int]:
    """For each line, the next line after it that is a heading in capitals ("REVIEWER
    CREDENTIALS"), where an item ends; len(lines) when none is."""
    out = [len(lines)] * len(lines)
    nxt = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        out[i] = nxt
        text = lines[i].text
        # (Not the wrap of a line left open: "... 2 X 6 FOR THE" / "" / "LUMBAR SPINE".)
        title = lines[i].para and len(text) <= 60 and text.isupper() and _TITLE.fullmatch(text)
        if title and not (i and open_end(lines[i - 1].text)):
            nxt = i
    return out


def _sentence_items(lines: list[Line]) -> list[RawDecision]:
    """Paragraphs that open with a decision sentence naming their request."""
    starts = [i for i, ln in enumerate(lines) if _opens(ln, lines[i - 1].text if i else "")]
    out: list[RawDecision] = []
    for a, b in zip(starts, [*starts[1:], len(lines)], strict=False):
        first = lines[a].text
        text = " ".join(ln.text for ln in lines[a:b])
        sentence = text[: text.find(". ", len(first) // 2) + 1 or len(text)]
        if len(sentence) > 400 or not SENTENCE_REQUEST.search(sentence):
            continue
        raw = finish(Block(clean_request(sentence), None, {"text": list(lines[a:b])}))
        if raw.outcome is not None and raw.request:
            out.append(raw)
    return out


def _list_goes_on(op: _Opener, following: Line | None) -> bool:
    """Whether the line after a numbered opener goes on with its list: the next number, as it
    is numbered, no paragraph between."""
    if following is None or following.para or not op.number:
        return False
    m = _NUMBER.match(following.text)
    return (
        m is not None
        and int(m.group(1) or m.group(2)) == op.number + 1
        and _DIGITS.sub("9", following.text[: m.start(3)].strip()) == op.style
    )


def _names_one(head: str, keys: list[str]) -> bool:
    """Whether an opener's heading names one of the requests (by their keys)."""
    key = request_key(head)
    return any(k in key for k in keys)


def fallback_items(lines: list[Line], named: Sequence[str] = ()) -> list[RawDecision]:
    """Items of a letter of unknown layout: the family of openers with the most decisions
    (the first one on a tie), else sentence paragraphs; [] when neither states a decision.
    An opener naming one of the `named` requests (the items the letter has already listed)
    opens an item even where no decision stands at its top."""
    keys = [k for k in (request_key(r)[:_KEY_CHARS] for r in named) if len(k) >= 4]
    flagged = _decision_flags(lines)
    stops = _stops(lines)
    families: dict[str, list[_Opener]] = {}
    previous = ""
    for i, line in enumerate(lines):
        op = _opener(line, previous)
        previous = line.text
        if op is None or (op.family not in families and len(families) >= _MOST_FAMILIES):
            continue
        under = [ln.text for ln in lines[i + 1 : i + 3]]
        if op.listed and _list_goes_on(op, lines[i + 1] if i + 1 < len(lines) else None):
            under = []  # a list's line ("Section(s):" / "2. X," / "3. Y."): its own words only
        elif "original request" in " ".join([op.head, *under]).lower():
            # (A partial approval's three sentences wrap over more lines before its outcome.)
            under = [ln.text for ln in lines[i + 1 : i + 1 + _PARTIAL_LINES]]
        decided = _decided(op.head, under) or bool(keys and _names_one(op.head, keys))
        families.setdefault(op.family, []).append(op._replace(at=i, decided=decided))
    best: list[RawDecision] = []
    rank = (0, 0)
    read: _Read = {}  # (a line opens at most one opener: its items are the same in any chain)
    for family, openers in families.items():
        # Each "1." may open the items (an earlier one may open a list of diagnoses, a later
        # one a list inside an item's reasons): the chain that gives the most items wins.
        # (A list after a colon opens the items only where nothing else does.)
        firsts = [k for k, op in enumerate(openers) if op.number <= 1]
        starts = sorted(firsts, key=lambda k: openers[k].listed)[:_MOST_STARTS]
        for k in starts:
            # A chain none of whose lines says anything of a decision is passed over unread.
            if not any(flagged[openers[k].at :]):
                break
            if openers[k].listed and best:
                break
            items = _items_of(lines, _chain(openers, k), stops, read)
            # More items first; on a tie, labels that name a request, then numbering.
            if (len(items), _PRIORITY.get(family, 0)) > rank:
                best, rank = items, (len(items), _PRIORITY.get(family, 0))
    return best or _sentence_items(lines)
