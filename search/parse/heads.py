"""Stage 2, find: an item heading's lines: the request written around its outcome, wrapped
over lines and page breaks, never run on into the decision's own sentence."""

from __future__ import annotations

import re
from collections.abc import Callable

from .blocks import Block
from .clean import Line, open_end
from .grammar import (
    ANY_OUTCOME,
    BARE_OUTCOME,
    INTRO,
    ITEM_LINE,
    OWN_SUBJECT,
    SERVICE_DATE_END,
    is_label,
    service_date_line,
)
from .sentences import NECESSITY, stated_outcome
from .wraps import capitals_go_on, ends_in_outcome, mostly_capitals, wraps_into


def heading_lines(
    lines: list[Line],
    i: int,
    head: str,
    end: int,
    stop: Callable[[Line, str], bool] | None = None,
) -> tuple[str, int]:
    """An item heading's text (`head`, read from line i), with the lines before `end` that
    continue it: those that end its decision sentence (up to its full stop: "Item 2: Percocet
    #20" / "DOS 3/21/15 is not medically necessary."), else its wrapped lines and a partial
    approval's further sentences; and the line after it. `stop` (a line and the one before
    it) marks more lines that end it."""

    def ends(line: Line, previous: str) -> bool:
        if line.para and (
            partial_continues(head, line)
            or capitals_go_on(head, line)
            or _partial_opens(head, line.text)
        ):
            return False
        return (
            _ends_heading(line.text, line.para)
            or opens_own_decision(line.text)
            or (stop is not None and stop(line, previous))
        )

    def marks_part(j: int) -> bool:
        line = lines[j]
        return (
            is_label(line.text)
            or BARE_OUTCOME.match(line.text) is not None
            or opens_own_decision(line.text)
            or (stop is not None and stop(line, lines[j - 1].text))
        )

    if (wrapped := _wrapped_to_part(lines, i, head, end, marks_part)) is not None:
        return wrapped
    j, ahead = i + 1, []
    while j < end and j - i <= 3 and not ends(lines[j], lines[j - 1].text):
        ahead.append(lines[j].text)
        j += 1
        if ahead[-1].endswith("."):
            break
    sentence = " ".join(ahead)
    # (Not a sentence of its own: "The request is not medically necessary." has its subject.)
    ends_it = (
        ahead
        and ahead[-1].endswith(".")
        and OWN_SUBJECT.match(sentence) is None
        and (NECESSITY.search(sentence) or ANY_OUTCOME.search(sentence))
    )
    if ends_it and not (NECESSITY.search(head) or ANY_OUTCOME.search(head)):
        return f"{head} {sentence}", j
    j = i + 1
    while j < end and not ends(lines[j], lines[j - 1].text):
        text = lines[j].text
        partial = partial_goes_on(head, text) or _partial_opens(head, text)
        if j - i > (_HEAD_LINES if partial else 4):
            break
        runs_on = head[-1:] not in ".:" and (
            wraps_into(lines[j - 1].text) or open_end(lines[j - 1].text) or not text[:1].isupper()
        )
        if not (partial or runs_on):
            break
        head = f"{head} {text}"
        j += 1
    return head, j


_WRAP_LINES = 2  # a heading cut short wraps over a line or two before its item's next part
_WRAP_WIDTH = 60  # each of them short: the rest of a line


def _wrapped_to_part(
    lines: list[Line], i: int, head: str, end: int, marks_part: Callable[[int], bool]
) -> tuple[str, int] | None:
    """A heading that has not ended (no stop, no outcome, no necessity) with the short lines
    under it, when the line after them opens its item's next part (a label, an outcome, a
    decision sentence with its own subject): they are its wrap, over blank lines or a page
    break too ("Service 1: PHYSICAL THERAPY 3 X 4 WEEKS BILATERAL" / "ANKLE" / "Finding:
    ..."); None where the lines under it are not such a wrap."""
    if (head[-1:] in _FINISHED and not SERVICE_DATE_END.search(head)) or not head.strip():
        return None
    j = i + 1
    while j < end and j - i <= _WRAP_LINES + 1 and not marks_part(j):
        text = lines[j].text
        if len(text) > _WRAP_WIDTH or text[-1:] in _FINISHED or _states_decision(text):
            return None
        j += 1
    if j == i + 1 or j >= end or j - i > _WRAP_LINES + 1 or _states_decision(head):
        return None
    return " ".join([head, *(ln.text for ln in lines[i + 1 : j])]), j


_FINISHED = ".:;!?"


def _states_decision(text: str) -> bool:
    """Whether a text states an outcome or a (lack of) medical necessity."""
    return ANY_OUTCOME.search(text) is not None or NECESSITY.search(text) is not None


def _partial_opens(head: str, line: str) -> bool:
    """Whether a line goes on with a partial approval's first sentence, whose request the
    heading began ("Service 1: Oxycodone 10 mg #20" / "DOS 8/1/15 was the original
    request."): the heading not yet ended, no sentence ended in the line before it."""
    m = _ORIGINAL_SENTENCE.search(line) if "original" in line.lower() else None
    return (
        m is not None
        and head[-1:] not in _FINISHED
        and not _states_decision(head)
        and not any(c in line[: m.start()] for c in ".;:")
    )


def opens_own_decision(text: str) -> bool:
    """Whether a line opens a decision sentence with its own subject ("This request is not
    medically necessary ...", "The previous non-certification is upheld."), with a capital:
    "the bilateral knee x 3 is not medically necessary" goes on with a sentence."""
    return (
        text[:1].isupper()
        and OWN_SUBJECT.match(text) is not None
        and (ANY_OUTCOME.search(text) or NECESSITY.search(text)) is not None
    )


def _ends_heading(text: str, para: bool) -> bool:
    """Whether a line ends the heading above it: a new paragraph, a label or an outcome."""
    return para or is_label(text) or BARE_OUTCOME.match(text) is not None


def partial_goes_on(heading: str, following: str) -> bool:
    """Whether a partial approval's heading ("X was the original request. Y was authorized
    ...") goes on into the next line: no decision stated in it or that line yet."""
    return (
        partial_begun(heading, following)
        and NECESSITY.search(heading) is None
        and ANY_OUTCOME.search(following) is None
    )


def partial_begun(heading: str, following: str) -> bool:
    """Whether a partial approval has begun in `heading`: its "original request" there, or
    the verb of its first sentence, wrapped before the rest ("X was the original" /
    "request. Y was ...")."""
    low = heading.lower()
    if "original request" in low:
        return True
    if following[:4].lower() in ("was ", "were") and _ORIGINAL_SENTENCE.match(following):
        return True  # the verb opens the next line: "3. SOMA 250MG #15" / "was the original ..."
    if not low.endswith(_PARTIAL_CUTS):
        return False
    tail = heading[-40:]
    m = _ORIGINAL_SENTENCE.search(f"{tail} {following[:40]}")
    return m is not None and m.start() < len(tail)


# Where a partial approval's first sentence may be cut by a line end ("... was the" /
# "original request.").
_PARTIAL_CUTS = (" was", " were", " is", " the", " original")


def partial_continues(heading: str, line: Line) -> bool:
    """Whether a partial approval's heading goes on into `line` even where a page break sets
    it off ("... authorized by the Claims" / page / "Administrator. The remaining ..."): no
    decision in it yet, and the line holds no label or decision sentence of its own (an
    outcome only at its end: "..., Z:  Upheld")."""
    return (
        partial_begun(heading, line.text)
        and NECESSITY.search(heading) is None
        and ANY_OUTCOME.search(heading) is None
        and (ANY_OUTCOME.search(line.text) is None or ITEM_LINE.match(line.text) is not None)
        and not is_label(line.text)
        and not opens_own_decision(line.text)
        and len(line.text) < 300
    )


def paragraph_tail(block: Block | None, intro: list[Line]) -> list[Line]:
    """Remove and return the request written above an item's labels: the lines of the last
    paragraph read that follow its last finished sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    if not source:
        return []
    start = max(i for i, ln in enumerate(source) if ln.para or i == 0)
    if source[-1].text[-1:] in '.!?;"':
        return []  # the paragraph ends a sentence: no request follows it
    while start > 0 and gap_inside(source[start - 1].text, source[start].text):
        start = max(i for i in range(start) if source[i].para or i == 0)  # a heading's page gap
    ends = [k + 1 for k in range(start, len(source) - 1) if source[k].text[-1:] in '.!?:;"']
    start = max([start, *ends])
    tail = source[start:]
    text = " ".join(ln.text for ln in tail)
    # (A partial approval's three sentences wrap over more lines, and a page break may set
    # its first sentence apart: "X was the original request." / "Y was approved by ...".)
    partial = "original request" in text.lower()
    most_lines, most_chars = (_HEAD_LINES, 400) if partial else (3, 300)
    if not tail or len(tail) > most_lines or len(text) > most_chars or INTRO.search(text):
        return []
    del source[start:]
    if partial and (front := _partial_front(source, text)):
        return [Line(front, True), *tail]
    return tail


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
        if source[k].para and not (k and gap_inside(source[k - 1].text, source[k].text)):
            return None if in_part and k == 0 else k
    return None


def gap_inside(before: str, after: str) -> bool:
    """Whether a paragraph mark between two lines is a page gap inside a heading: the first
    ends no sentence, label or outcome, and the second goes on with a lowercase word or a
    number ("Ketoprofen" / "10%/Camphor 2%", "... 0.0375%" / "cream 240g"), after a joining
    word ("... FUSION AT" / "C5-6"), in a partial approval not yet decided ("... request, TENS
    UNIT" / "RENTAL X 7 DAYS is:"), or in capitals as the first ("FLECTOR 1.3%" / "PATCH")."""
    if before[-1:] in '.:;!?")' or ends_in_outcome(before) or is_label(before):
        return False
    if opens_own_decision(after) or stated_outcome(after) or NECESSITY.search(after):
        return False  # "After review, the decision of the Claims Administrator is upheld."
    first = after[:1]
    return (
        first.islower()
        or first.isdigit()
        or first in "#%"
        or open_end(before)
        or ("original request" in before.lower() and ANY_OUTCOME.search(before) is None)
        or (mostly_capitals(before) and mostly_capitals(after))
        or service_date_line(after)
    )


def _in_part(block: Block | None) -> bool:
    """Whether a block's current lines are a part of its own (labelled, or text before its
    outcome), not the lines after an item's outcome that can only be the next heading."""
    return block is not None and not (block.current == "text" and block.outcome is not None)


# What never stands as a request alone: its date of service ("DOS: 3/4/2018 - Upheld").
_DATE_ONLY = re.compile(r"\(?(?:dos|date of service)?\W*\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\)?$", re.I)
_ORIGINAL_SENTENCE = re.compile(r"\b(?:was|were|is)\s+the\s+original\s+request\b", re.I)


def _partial_front(source: list[Line], heading: str) -> str:
    """Remove and return the lines above a partial approval's heading that a page break cut
    off it: back to its "X was the original request" (a line more where that line goes on
    with a lowercase word); nothing where they are not there."""
    if "original request" not in heading.lower() or _ORIGINAL_SENTENCE.search(heading):
        return ""
    k = len(source)
    while k > 0 and len(source) - k < 4:
        text = source[k - 1].text
        if len(text) > 400 or is_label(text) or ends_in_outcome(text):
            return ""
        k -= 1
        if _ORIGINAL_SENTENCE.search(" ".join(ln.text for ln in source[k:])):
            above = source[k - 1].text if k > 0 else "."
            if source[k].text[:1].islower() and above[-1:] not in ".:;!?":
                k -= 0 if ends_in_outcome(above) else 1
            front = " ".join(ln.text for ln in source[k:])
            del source[k:]
            return front
    return ""


def _with_front(source: list[Line], head: str, rest: str) -> str:
    """`head` with a partial approval's front cut off by a page break put back before it."""
    front = _partial_front(source, f"{head} {rest}")
    return f"{front} {head}".strip() if front else head


def request_above(block: Block | None, intro: list[Line], whole: bool = True) -> str:
    """Remove and return the request written just above an outcome line ("X" / "Decision:
    Upheld"): its whole paragraph (if `whole`), else up to two short lines that end no
    sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    start = _heading_paragraph(source, _in_part(block)) if whole else None
    if start is not None:
        head = " ".join(ln.text for ln in source[start:])
        del source[start:]
        return _with_front(source, head, "")
    taken: list[str] = []
    while source and len(taken) < 2:
        text = source[-1].text
        if text[-1:] in '.!?;"' or len(text) > 200 or is_label(text) or INTRO.search(text):
            break
        taken.insert(0, source.pop().text)
        if text.endswith(":") or (source and source[-1].text.endswith(":")):
            break
    return _with_front(source, " ".join(taken), "")


def _continued(last: str, text: str) -> bool:
    """Whether an item line ("X: Upheld", or "X:" over its outcome) set apart by a page gap or
    its capitals goes on with the line above it: its request is a date of service alone, or
    the gap is inside a heading ("HYDROCODONE 7.5/325MG" / "#30: Overturned")."""
    item = ITEM_LINE.match(text)
    req = item.group("req") if item else text.rstrip(": ")
    return bool(last and req) and (_DATE_ONLY.match(req) is not None or gap_inside(last, req))


def wrapped_request_head(block: Block | None, intro: list[Line], line: Line) -> str:
    """Earlier lines of a request that wrapped before its "...: Upheld" line: the rest of its
    paragraph (a partial approval runs over several sentences), else the lines after the
    last finished sentence."""
    source = intro if block is None else block.parts.get(block.current, [])
    # A page break inside a request sets off its last line like a paragraph: it is one only
    # where the line before ends a sentence (or ends in anything but a word or comma).
    last = source[-1].text if source else ""
    if line.para and not (last[-1:] == "," or last[-1:].islower() or _continued(last, line.text)):
        return ""
    start = _heading_paragraph(source, _in_part(block))
    if start is not None:
        text = " ".join(ln.text for ln in source[start:])
        del source[start:]
        return _with_front(source, text, line.text)
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
    return _with_front(source, " ".join(head), line.text)
