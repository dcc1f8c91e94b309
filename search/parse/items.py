"""Stage 2, find: the disputed items of a letter, their outcomes, guidelines and rationales."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from .clean import Line, join_lines, open_end
from .grammar import (
    ANY_OUTCOME,
    BARE_OUTCOME,
    INTRO,
    ITEM_LINE,
    LABEL,
    NUMBERED_LINE,
    OUTCOME_ENDINGS,
    is_label,
    item_number,
    label_kind,
    marker_style,
    outcome_word,
)
from .sentences import NECESSITY, clean_request, necessity_outcome, stated_outcome


class RawDecision(NamedTuple):
    """A disputed item as found in the text, before normalization."""

    request: str
    outcome: str | None
    outcome_stated: bool  # False when the outcome was inferred from "(not) medically necessary"
    claims_administrator_guideline: str
    maximus_guideline: str
    rationale: str


@dataclass(slots=True)
class Block:
    """An item being read: its request, stated outcome and labelled parts."""

    request: str
    outcome: str | None = None
    parts: dict[str, list[Line]] = field(default_factory=dict)
    current: str = "text"
    implied: str | None = None  # what its heading's sentence implies: "X is not medically ..."

    def add(self, line: Line) -> None:
        """Append a line to the part being read."""
        self.parts.setdefault(self.current, []).append(line)


_OWN_SUBJECT = re.compile(r"(?:the|this|these|that|it|its|such)\b", re.I)


def heading_lines(
    lines: list[Line], i: int, head: str, end: int, stop: Callable[[Line], bool] | None = None
) -> tuple[str, int]:
    """An item heading's text (`head`, read from line i), with the lines before `end` that
    continue it: those that end its decision sentence (up to its full stop: "Item 2: Percocet
    #20" / "DOS 3/21/15 is not medically necessary."), else its wrapped lines and a partial
    approval's further sentences; and the line after it. `stop` marks more lines that end it."""

    def ends(line: Line) -> bool:
        return (
            _ends_heading(line.text, line.para)
            or _decision_of_its_own(line.text)
            or (stop is not None and stop(line))
        )

    j, ahead = i + 1, []
    while j < end and j - i <= 3 and not ends(lines[j]):
        ahead.append(lines[j].text)
        j += 1
        if ahead[-1].endswith("."):
            break
    sentence = " ".join(ahead)
    # (Not a sentence of its own: "The request is not medically necessary." has its subject.)
    ends_it = (
        ahead
        and ahead[-1].endswith(".")
        and _OWN_SUBJECT.match(sentence) is None
        and (NECESSITY.search(sentence) or ANY_OUTCOME.search(sentence))
    )
    if ends_it and not (NECESSITY.search(head) or ANY_OUTCOME.search(head)):
        return f"{head} {sentence}", j
    j = i + 1
    while (
        j < end
        and j - i <= 4
        and not ends(lines[j])
        and (
            partial_goes_on(head, lines[j].text)
            or (
                head[-1:] not in ".:"
                and (
                    wraps_into(lines[j - 1].text)
                    or open_end(lines[j - 1].text)
                    or not lines[j].text[:1].isupper()
                )
            )
        )
    ):
        head = f"{head} {lines[j].text}"
        j += 1
    return head, j


def _decision_of_its_own(text: str) -> bool:
    """Whether a line opens a decision sentence with its own subject ("This request is not
    medically necessary ...", "The previous non-certification is upheld.")."""
    return (
        _OWN_SUBJECT.match(text) is not None
        and (ANY_OUTCOME.search(text) or NECESSITY.search(text)) is not None
    )


def _ends_heading(text: str, para: bool) -> bool:
    """Whether a line ends the heading above it: a new paragraph, a label or an outcome."""
    return para or is_label(text) or BARE_OUTCOME.match(text) is not None


def partial_goes_on(heading: str, following: str) -> bool:
    """Whether a partial approval's heading ("X was the original request. Y was authorized
    ...") goes on into the next line: no decision stated in it or that line yet."""
    return (
        "original request" in heading.lower()
        and NECESSITY.search(heading) is None
        and ANY_OUTCOME.search(following) is None
    )


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
    m = NUMBERED_LINE.match(line.text)
    after_sentence = i > 0 and lines[i - 1].text[-1:] in ".:;"
    if not m or not (line.para or after_sentence) or len(line.text) > 400:
        return None
    # The item's sentence may wrap: its paragraph's next few lines count with it.
    rest = _rest_of_paragraph(lines, i, 3)
    para = " ".join([line.text, *(ln.text for ln in rest)])
    if NECESSITY.search(para) or ANY_OUTCOME.search(para):
        return m.group("body")
    ahead = [ln.text for ln in lines[i + 1 + len(rest) : i + 4 + len(rest)]]
    if any(is_label(t) or BARE_OUTCOME.match(t) for t in ahead[:3]):
        return m.group("body")
    # A heading with the decision's sentence under it ("... regarding this request is upheld.")
    if stated_outcome(" ".join(ahead[:2])):
        return m.group("body")
    return None


def _paragraph_tail(block: Block | None, intro: list[Line]) -> list[Line]:
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
    if not tail or len(tail) > 3 or len(text) > 300 or INTRO.search(text):
        return []
    del source[start:]
    return tail


_LABELLED = ("ca", "mx", "rationale")


def wraps_into(previous: str) -> bool:
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
        if len(text) > 300 or is_label(text) or INTRO.search(text) or NECESSITY.search(text):
            return None
        k -= 1
        if source[k].para:
            return None if in_part and k == 0 else k
    return None


def _request_above(block: Block | None, intro: list[Line], whole: bool = True) -> str:
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
        if text[-1:] in '.!?;"' or len(text) > 200 or is_label(text) or INTRO.search(text):
            break
        taken.insert(0, source.pop().text)
        if text.endswith(":") or (source and source[-1].text.endswith(":")):
            break
    return " ".join(taken)


def _wrapped_request_head(block: Block | None, intro: list[Line], line: Line) -> str:
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
            or is_label(text)
            or INTRO.search(text)
            or NECESSITY.search(text)
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
    return previous[-1:] in '.:;!?")' or previous.rstrip(" .!").lower().endswith(OUTCOME_ENDINGS)


def _next_in_sequence(
    blocks: list[Block],
    numbers: dict[int, int],
    text: str,
    nested: list[int],
    listed: bool,
    style: str,
) -> bool:
    """Whether a numbered line may open an item: the first item, or the next number of a letter
    whose items are numbered. A numbered list inside a guideline or rationale restarts its
    numbering (nested[0] is its last number), or follows its lead line's colon (`listed`):
    its lines are neither."""
    if not blocks:
        return True
    if 0 not in numbers:  # the letter's first item was not numbered
        return False
    if marker_style(text) != style:  # "(1)" under items numbered "1.": a list of its text
        return False
    last, number = numbers[max(numbers)], item_number(text)
    if number and (number <= last or number == nested[0] + 1 or listed):
        nested[0] = number  # a list of the item's own text
        return False
    return not last or not number or number == last + 1


def scan_items(lines: list[Line]) -> tuple[list[RawDecision], list[Line]]:
    """Items found in a run of lines, and the lines before the first item (the intro)."""
    blocks: list[Block] = []
    intro: list[Line] = []
    cur: Block | None = None
    numbers: dict[int, int] = {}  # block index -> its item number, for numbered items
    style = ""  # how the items are numbered: "9.", "9)", "(9)", "#9"
    nested = [0]  # the last number of a list inside the current item's text
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        # Cheap tests first: most lines are prose, with no outcome word at the end and no
        # label before a colon.
        end = text.rstrip(" .!")
        ends_in_outcome = end[-1:] in "dDnN" and end.lower().endswith(OUTCOME_ENDINGS)
        item = ITEM_LINE.match(text) if ends_in_outcome else None
        bare = BARE_OUTCOME.match(text) if ends_in_outcome else None
        if bare and i and text[:1].islower() and not line.para and wraps_into(lines[i - 1].text):
            bare = None  # "... The decision regarding this request is" / "overturned."
        label = LABEL.match(text) if text.find(":", 0, 95) >= 0 else None
        kind = label_kind(label.group("label"), label.group("rest")) if label else None
        if kind and not _label_position(lines, i, kind):
            kind = None  # "... for the hand with:" / "treatment: Complicated, 16 visits"
        if bare:
            word = outcome_word(bare.group(1))
            labelled = cur is not None and any(k in cur.parts for k in _LABELLED)
            if cur is not None and cur.outcome is None and not labelled:
                cur.outcome = word
            elif above := _request_above(cur, intro, cur is None or cur.outcome is not None):
                cur = Block(clean_request(above), word)
                blocks.append(cur)
            elif cur is not None and cur.outcome is None:
                cur.outcome = word
            elif cur is not None:
                cur.add(line)
            i += 1
            continue
        if item and kind not in ("ca", "mx", "rationale"):
            head = _wrapped_request_head(cur, intro, line)
            cur = Block(clean_request(f"{head} {item.group('req')}"), outcome_word(item.group(2)))
            blocks.append(cur)
            i += 1
            continue
        if kind == "request" and label is not None:
            # "Item 2: Retrospective Percocet 7.5/325MG #20" / "DOS 3/21/15 is not medically
            # necessary and" / "appropriate.", or a request that wraps ("... 4%/Capsaicin").
            head, i = heading_lines(lines, i, label.group("rest"), len(lines))
            said = stated_outcome(head)
            if ended := ITEM_LINE.match(head):
                head, said = ended.group("req"), outcome_word(ended.group(2))
            cur = Block(clean_request(head), said)
            cur.implied = necessity_outcome(head)
            blocks.append(cur)
            continue
        # A numbered item opens with "(", "#" or a digit; inside an item, a numbered line
        # after one ending in a colon is a list of its text ("Section(s):" / "3. Opioids").
        first = text[:1]
        numbered = (
            _numbered_item(lines, i)
            if not kind
            and (first == "(" or first == "#" or first.isdigit())
            and _next_in_sequence(
                blocks,
                numbers,
                text,
                nested,
                i > 0 and lines[i - 1].text.endswith(":"),
                style,
            )
            else None
        )
        if numbered is not None:
            # A long numbered request wraps: "3. Physical therapy ... is not" / "medically ...";
            # a short line before a capital ends a heading ("2. Tramadol 50mg #60" / "The
            # Claims Administrator's decision ... is overturned.").
            while (
                i + 1 < len(lines)
                and not lines[i + 1].para
                and not is_label(lines[i + 1].text)
                and len(numbered) < 400
                and (
                    partial_goes_on(numbered, lines[i + 1].text)
                    or (
                        numbered[-1:] not in ".:"
                        and (
                            wraps_into(lines[i].text)
                            or open_end(lines[i].text)
                            or not lines[i + 1].text[:1].isupper()
                        )
                    )
                )
            ):
                i += 1
                numbered = f"{numbered} {lines[i].text}"
            said = stated_outcome(numbered)
            if ended := ITEM_LINE.match(numbered):  # "... the original request, X - Upheld"
                numbered, said = ended.group("req"), outcome_word(ended.group(2))
            cur = Block(clean_request(numbered), said)
            cur.implied = necessity_outcome(numbered)
            numbers[len(blocks)] = item_number(text)
            style = style or marker_style(text)
            nested[0] = 0
            blocks.append(cur)
            i += 1
            continue
        # A request ending in ":" with its outcome on the next line.
        following = (
            BARE_OUTCOME.match(lines[i + 1].text)
            if text.endswith(":") and not kind and i + 1 < len(lines)
            else None
        )
        if following:
            head = _wrapped_request_head(cur, intro, line)
            cur = Block(clean_request(f"{head} {text}"), outcome_word(following.group(1)))
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
                    cur = Block(clean_request(" ".join(ln.text for ln in tail)))
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
            i += 1
            continue
        if cur.outcome is None and not cur.parts and (said := stated_outcome(text)):
            cur.outcome = said  # the sentence under an item's heading: "... is upheld."
        cur.add(line)
        i += 1
    return [finish(b) for b in blocks], intro


def finish(block: Block) -> RawDecision:
    """A RawDecision from a block, inferring the outcome from its text when unstated."""
    parts = {k: join_lines(v) for k, v in block.parts.items()}
    rationale = parts.get("rationale", "")
    extra = parts.get("text", "")
    rationale = f"{rationale}\n\n{extra}".strip() if rationale and extra else rationale or extra
    outcome, stated = block.outcome, block.outcome is not None
    if outcome is None:
        outcome = stated_outcome(rationale)
        stated = outcome is not None
    if outcome is None:  # the heading's own sentence, before the reasons' last word on it
        outcome = block.implied
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
