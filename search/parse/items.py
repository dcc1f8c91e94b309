"""Stage 2, find: the disputed items of a letter, their outcomes, guidelines and rationales."""

from __future__ import annotations

import re

from .blocks import Block, RawDecision, finish
from .clean import Line, open_end
from .grammar import (
    ANY_OUTCOME,
    BARE_OUTCOME,
    ITEM_LINE,
    LABEL,
    NUMBERED_LINE,
    OUTCOME_ENDINGS,
    SERVICE_DATE_END,
    is_label,
    item_number,
    label_kind,
    marker_style,
    outcome_word,
    service_date_line,
)
from .heads import (
    gap_inside,
    heading_lines,
    opens_own_decision,
    paragraph_tail,
    partial_continues,
    partial_goes_on,
    request_above,
    wrapped_request_head,
)
from .sentences import (
    NECESSITY,
    clean_request,
    implied_outcome,
    open_sentence,
    stated_outcome,
    verdict_pending,
)
from .wraps import capitals_go_on, verdict_wraps, wraps_into

_PARTIAL_LINES = 5  # more lines a partial approval's heading may wrap over
# A line that opens a sentence of its own: "The Claims Administrator's decision ...".
_OWN_SUBJECT = re.compile(r"(?:the|this|these|that|it|its|such)\s", re.I)

__all__ = ["Block", "RawDecision", "finish", "partial_goes_on", "scan_items", "wraps_into"]


def _rest_of_paragraph(lines: list[Line], i: int, most: int) -> list[Line]:
    """Up to `most` lines after line i that continue its paragraph, or its open decision
    sentence or partial approval (over a blank line: "... the request for Cyclobenzaprine" /
    "" / "4%/...")."""
    out: list[Line] = []
    text = lines[i].text
    for ln in lines[i + 1 : i + 1 + most + _PARTIAL_LINES]:
        if len(out) >= most and not (
            partial_goes_on(text, ln.text) or (not ln.para and verdict_pending(text))
        ):
            break  # (a partial approval's three sentences, or a long sentence, wrap further)
        if ln.para and not (
            _sentence_goes_on(text, ln.text)
            or partial_continues(text, ln)
            or verdict_wraps(text, ln.text)
        ):
            break
        out.append(ln)
        text = f"{text} {ln.text}"
    return out


def _sentence_goes_on(text: str, following: str) -> bool:
    """Whether the next line goes on with an item's open decision sentence: it opens no
    item of its own ("2) MAXIMUS ...") and no labelled part."""
    if not open_sentence(text) or is_label(following) or _OWN_SUBJECT.match(following):
        return False
    m = NUMBERED_LINE.match(following)
    return m is None or not m.group("body")[:1].isupper()


def _numbered_item(lines: list[Line], i: int) -> str | None:
    """The request of a numbered item line ("1. Norco ... is not medically necessary")."""
    line = lines[i]
    m = NUMBERED_LINE.match(line.text)
    previous = lines[i - 1].text if i > 0 else ""
    after_sentence = previous[-1:] in ".:;" or previous.rstrip(" .!").lower().endswith(
        OUTCOME_ENDINGS
    )  # (after "X - Upheld": a list of items, one a line)
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


_LABELLED = ("ca", "mx", "rationale")


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


def _heading_goes_on(heading: str, lines: list[Line], i: int) -> bool:
    """Whether a numbered heading read up to line i goes on into the next line: its open
    decision sentence or partial approval (over a page break too), else a line of its
    paragraph that it runs into; never past its own outcome ("X:  Upheld" / "2. Y")."""
    if i + 1 >= len(lines) or len(heading) >= 400:
        return False
    last, following = lines[i].text, lines[i + 1]
    end = last.rstrip(" .!")
    if end[-1:] in "dDnN" and end.lower().endswith(OUTCOME_ENDINGS) and ITEM_LINE.match(last):
        return False
    if _sentence_goes_on(heading, following.text) or partial_continues(heading, following):
        return True
    if verdict_wraps(heading, following.text):
        return True
    if capitals_go_on(last, following):
        return True
    # (The capitals' last words with the item's outcome: "1. EMG/NCV OF THE BILATERAL UPPER" /
    # "EXTREMITIES: Upheld".)
    ended = ITEM_LINE.match(following.text) if ":" in following.text else None
    if ended and capitals_go_on(last, Line(ended.group("req"), following.para)):
        return True
    text = following.text
    # (A page gap inside the heading: "... (DOS" / "2/15/14)", "... DOS:" / "5/20/2018", "...
    # L4-5 and" / "L5-S1"; never the next numbered item.)
    next_item = text[:1] != "#" and NUMBERED_LINE.match(text) is not None
    if following.para and not next_item and not is_label(text):
        dated = SERVICE_DATE_END.search(heading) is not None and text[:1].isdigit()
        if dated or gap_inside(last, text):
            return True
    if following.para or is_label(text) or opens_own_decision(text):
        return False
    if partial_goes_on(heading, text):
        return True
    if heading[-1:] == ":" and SERVICE_DATE_END.search(heading):  # "DOS:" / "2/19/2020 - Upheld"
        return True
    return heading[-1:] not in ".:" and (
        wraps_into(last) or open_end(last) or not text[:1].isupper() or service_date_line(text)
    )


def _next_in_sequence(
    blocks: list[Block],
    numbers: dict[int, int],
    lines: list[Line],
    i: int,
    nested: list[int],
    style: str,
    headed: bool = False,
) -> bool:
    """Whether a numbered line may open an item: the first item, or the next number of a letter
    whose items are numbered. A numbered list inside a guideline or rationale restarts its
    numbering (nested[0] is its last number), or follows its lead line's colon: its lines
    are neither, unless the list's next number is the next item's and a decision stands
    under the line ("Section(s):" / "1. NSAIDs." / ... / "2. CBT x 18" / "... is upheld.");
    where the items' headings are labelled ("1. Request: X"), unless the line is too."""
    if not blocks:
        return True
    text = lines[i].text
    if 0 not in numbers:  # the letter's first item was not numbered
        return False
    if marker_style(text) != style:  # "(1)" under items numbered "1.": a list of its text
        return False
    last, number = numbers[max(numbers)], item_number(text)
    listed = i > 0 and lines[i - 1].text.endswith(":")
    # (An item's own heading is decided under it, or names its request by a label as the items
    # do: "3. Request: X" after a guideline's "Section(s):" / "2. Chronic pain programs.", but
    # not "3. Time-limited use." after "1. ..." / "2. ..." under "2. Request: Y".)
    nested_next = number == nested[0] + 1 and not (
        number == last + 1 and (_request_labelled(text) if headed else _decided_under(lines, i))
    )
    if number and (number <= last or nested_next or listed):
        nested[0] = number  # a list of the item's own text
        return False
    return not last or not number or number == last + 1


def _request_labelled(text: str) -> bool:
    """Whether a numbered line's text opens with a request label ("3. Request: X")."""
    m = NUMBERED_LINE.match(text)
    label = LABEL.match(m.group("body")) if m and ":" in text else None
    return label is not None and label_kind(label.group("label"), label.group("rest")) == "request"


def _decided_under(lines: list[Line], i: int) -> bool:
    """Whether a numbered line opening a paragraph has its decision in or just under it; one
    inside a paragraph (a double-spaced letter) only after a full stop, with the decision's
    own sentence on the next line."""
    if not lines[i].para:
        below = lines[i + 1].text if i + 1 < len(lines) else ""
        after_stop = i > 0 and lines[i - 1].text[-1:] == "."
        return after_stop and (BARE_OUTCOME.match(below) or stated_outcome(below)) is not None
    rest = _rest_of_paragraph(lines, i, 3)
    para = " ".join([lines[i].text, *(ln.text for ln in rest)])
    if ANY_OUTCOME.search(para) or NECESSITY.search(para):
        return True
    ahead = [ln.text for ln in lines[i + 1 + len(rest) : i + 3 + len(rest)]]
    return any(BARE_OUTCOME.match(t) for t in ahead) or stated_outcome(" ".join(ahead)) is not None


def scan_items(lines: list[Line]) -> tuple[list[RawDecision], list[Line]]:
    """Items found in a run of lines, and the lines before the first item (the intro)."""
    blocks: list[Block] = []
    intro: list[Line] = []
    cur: Block | None = None
    numbers: dict[int, int] = {}  # block index -> its item number, for numbered items
    style = ""  # how the items are numbered: "9.", "9)", "(9)", "#9"
    headed = False  # whether their headings name the request by a label: "1. Request: X"
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
            elif above := request_above(cur, intro, cur is None or cur.outcome is not None):
                cur = Block(clean_request(above), word)
                blocks.append(cur)
            elif cur is not None and cur.outcome is None:
                cur.outcome = word
            elif cur is not None:
                cur.add(line)
            i += 1
            continue
        if item and kind not in ("ca", "mx", "rationale"):
            head = wrapped_request_head(cur, intro, line)
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
            cur.implied = implied_outcome(head, cur.request)
            blocks.append(cur)
            continue
        # A numbered item opens with "(", "#" or a digit; inside an item, a numbered line
        # after one ending in a colon is a list of its text ("Section(s):" / "3. Opioids").
        first = text[:1]
        numbered = (
            _numbered_item(lines, i)
            if not kind
            and (first == "(" or first == "#" or first.isdigit())
            and _next_in_sequence(blocks, numbers, lines, i, nested, style, headed)
            else None
        )
        if numbered is not None:
            # A long numbered request wraps: "3. Physical therapy ... is not" / "medically ...";
            # a short line before a capital ends a heading ("2. Tramadol 50mg #60" / "The
            # Claims Administrator's decision ... is overturned.").
            while _heading_goes_on(numbered, lines, i):
                i += 1
                numbered = f"{numbered} {lines[i].text}"
            said = stated_outcome(numbered)
            if ended := ITEM_LINE.match(numbered):  # "... the original request, X - Upheld"
                numbered, said = ended.group("req"), outcome_word(ended.group(2))
            cur = Block(clean_request(numbered), said)
            cur.implied = implied_outcome(numbered, cur.request)
            numbers[len(blocks)] = item_number(text)
            if not style:  # the first numbered item: how the items are numbered and headed
                style, headed = marker_style(text), _request_labelled(text)
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
            head = wrapped_request_head(cur, intro, line)
            cur = Block(clean_request(f"{head} {text}"), outcome_word(following.group(1)))
            blocks.append(cur)
            i += 2
            continue
        if kind in ("ca", "mx", "rationale") and label is not None:
            starts_new = kind == "ca" and (
                cur is None or any(k in cur.parts for k in ("ca", "mx", "rationale"))
            )
            if starts_new:
                tail = paragraph_tail(cur, intro)
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
