"""Stage 1, clean: undo PDF-extraction noise into logical lines with paragraph marks."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from operator import methodcaller
from typing import NamedTuple

# The word-finding helpers live in scan.py; the later stages still import them from here.
from .scan import fold, ifinditer, ifinditer_low, lower_in_place, matches_at, places

__all__ = [
    "Line",
    "clean_lines",
    "clean_text",
    "fold",
    "ifinditer",
    "ifinditer_low",
    "join_lines",
    "lower_in_place",
    "matches_at",
    "open_end",
    "places",
]

# Characters that carry no text: zero-width marks, BOM; the soft hyphen is handled apart.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_CHARS = "".join(map(chr, [*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F]))
_SPACES = re.compile(
    r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
_SPACE_RUN = re.compile("  +")
_WIDE_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
# Page furniture that a PDF repeats on every page: "Page 2 of 4", "- 3 -", "2 of 4".
_PAGE_FOOTER = re.compile(
    r"^(?:page\s*\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?|\d{1,3}\s*of\s*\d{1,3}|-\s*\d{1,3}\s*-"
    r"|.{0,60}\bpage\s*\d{1,3}\s*(?:of|/)\s*\d{1,3})$",
    re.IGNORECASE,
)
_EIGHT_LETTERS = re.compile(r"(?:[^A-Za-z]*[A-Za-z]){8}")
# Prefixes that keep their hyphen when a line break splits the compound ("non-\nopioid").
_HYPHEN_PREFIXES = frozenset(
    [
        "non",
        "anti",
        "self",
        "well",
        "semi",
        "multi",
        "short",
        "long",
        "low",
        "high",
        "left",
        "right",
        "mid",
        "follow",
        "first",
        "second",
        "third",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
    ]
)


class Line(NamedTuple):
    """One logical line; `para` marks the first line of a paragraph."""

    text: str
    para: bool


# Builds a Line from a (text, para) pair in C: a letter makes dozens of them.
_new_line = tuple.__new__


def _normalize_chars(raw: str) -> str:
    """Unify newlines, page breaks, spaces and invisible characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n") if "\r" in raw else raw
    text = text.replace("\f", "\n\n\n") if "\f" in text else text
    # Rare: 29 substring tests (each a memchr) cost less than one regex scan.
    if any(map(text.__contains__, _CONTROL_CHARS)):
        text = _CONTROL.sub(" ", text)
    if text.isascii():
        return text
    text = _INVISIBLE.sub("", text)
    # A soft hyphen at a line end is a hyphenation point; elsewhere it is invisible.
    text = re.sub("\u00ad[ \t]*\n", "-\n", text).replace("\u00ad", "")
    return text.replace("\u2010", "-").replace("\u2011", "-")


def _collapse_spaces(text: str) -> str:
    """Every run of spaces and tabs (and wide spaces) as one space."""
    if not text.isascii() and _WIDE_SPACE.search(text):
        return _SPACES.sub(" ", text)
    if "\t" in text:
        text = text.replace("\t", " ")
    return _SPACE_RUN.sub(" ", text)  # opens with a plain "  ": the search skips fast


_SINGLE_BLANK = re.compile(b"(?=\x01\x00\x01)")  # a text line, one blank line, a text line


def _is_double_spaced(lines: list[str]) -> bool:
    """True when most text lines are followed by exactly one blank line (pdftotext noise)."""
    flags = bytes(map(bool, lines))  # one byte a line, 1 for text: counted in C
    text_lines = flags.count(1, 0, max(len(flags) - 2, 0))
    singles = len(_SINGLE_BLANK.findall(flags))
    return text_lines >= 4 and singles >= 0.6 * text_lines


_ENDS_WITH_HYPHEN = methodcaller("endswith", "-")
# Runs of the characters a word-count treats as part of a word; counting a word means
# counting the runs equal to it, so each letter is tokenized once (linear time), never
# searched once per hyphen-ended line (quadratic: a 1 MB letter of such lines took minutes).
_RUN = re.compile(r"[a-z'-]+")
_RUN_DIGITS = re.compile(r"[a-z0-9'-]+")


_RUN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz'-")
_RUN_CHARS_DIGITS = _RUN_CHARS | frozenset("0123456789")
_FIND_COUNTS = 24  # words counted by str.find before the letter is tokenized once


class Vocabulary:
    """Word counts of a letter in lowercase, to decide how a line-end hyphen joins."""

    def __init__(self, lines: list[str]) -> None:
        self.text = f" {' '.join(lines).lower()} "  # a space stands for each edge
        self._words: Counter[str] | None = None
        self._alnum: Counter[str] | None = None
        self._finds = _FIND_COUNTS

    def count(self, word: str) -> int:
        """How often a word stands alone in the letter (between characters that are not
        letters, apostrophes or hyphens; a word with digits: between non-alphanumerics)."""
        digits = any(c.isdigit() for c in word)
        # The first few words by str.find (a few scans in C cost less than tokenizing the
        # letter); after that, tokenized once: never a scan per line (quadratic).
        if self._finds > 0:
            self._finds -= 1
            return self._find_count(word, _RUN_CHARS_DIGITS if digits else _RUN_CHARS)
        if not digits:
            if self._words is None:
                self._words = Counter(_RUN.findall(self.text))
            return self._words.get(word, 0)
        if self._alnum is None:
            self._alnum = Counter(_RUN_DIGITS.findall(self.text))
        return self._alnum.get(word, 0)

    def _find_count(self, word: str, inside: frozenset[str]) -> int:
        """The occurrences of `word` with no character of `inside` on either side."""
        text, n, size = self.text, 0, len(word)
        if not size:
            return 0
        at = text.find(word)
        while at >= 0:
            if text[at - 1] not in inside and text[at + size] not in inside:
                n += 1
                at = text.find(word, at + size)
            else:
                at = text.find(word, at + 1)
        return n


def _join_hyphen(head: str, tail: str, vocab: Vocabulary) -> str:
    """Join "medi-" + "cation" as "medication", but "non-" + "opioid" as "non-opioid"."""
    h, t = head.lower(), tail.lower()
    whole, hyphenated = vocab.count(h + t), vocab.count(f"{h}-{t}")
    if hyphenated > whole:
        return f"{head}-{tail}"
    if whole:
        return head + tail
    # Both halves standing alone elsewhere in the letter (the tail also here): a compound.
    if len(head) > 1 and vocab.count(h) and vocab.count(t) > 1:
        return f"{head}-{tail}"
    if (
        head.lower() in _HYPHEN_PREFIXES
        or any(c.isdigit() for c in head)
        or tail[:1].isupper()
        or tail[:1].isdigit()
        or head.isupper()
    ):
        return f"{head}-{tail}"
    return head + tail


# The lookbehind lets a match start only where a run starts: without it, search() retried
# from every character of a long run, each try scanning to the run's end (quadratic).
_TRAILING_FRAGMENT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]+)-$")
_LEADING_FRAGMENT = re.compile(r"^([A-Za-z0-9]+)([,.;:)]?)(?:\s+|$)")


def _dehyphenate(lines: list[Line], vocab: Vocabulary) -> list[Line]:
    """Mend words split across line breaks, moving the tail onto the earlier line."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        head = _TRAILING_FRAGMENT.search(text) if text.endswith("-") else None
        if head and nxt is not None and not nxt.para:
            tail = _LEADING_FRAGMENT.match(nxt.text)
            if tail and tail.group(1)[:1].isalnum():
                word = _join_hyphen(head.group(1), tail.group(1), vocab)
                text = text[: head.start()] + word + tail.group(2)
                rest = nxt.text[tail.end() :]
                out.append(Line(text, line.para))
                if rest:
                    lines[i + 1] = Line(rest, False)
                    i += 1
                else:
                    i += 2
                continue
        out.append(line)
        i += 1
    return out


# A case number, found by its tail: a search for a pattern that opens with a plain "-" skips
# ahead in C, where one opening with [A-Z] is tried at every capital (20x slower).
_CASE_NUMBER_TAIL = re.compile(r"-\d{7}")
_CASE_NUMBER_HEAD = re.compile(r"[A-Z]{2}\d{2}")
# A line that is only the case number, perhaps labelled: "CM18-4017317", "IMR Case Number CM..".
_CASE_LINE = re.compile(
    r"(?:[A-Za-z ]{0,30}?case\s*(?:number|no\.?|#)\s*:?\s*)?[A-Z]{2}\d{2}-\d{7}", re.I
)


def _first_case_number(text: str) -> tuple[str, int] | None:
    """The first match of [A-Z]{2}\\d{2}-\\d{7} in text, and where it ends."""
    for tail in _CASE_NUMBER_TAIL.finditer(text):
        at = tail.start()
        if at >= 4 and _CASE_NUMBER_HEAD.fullmatch(text, at - 4, at):
            return text[at - 4 : tail.end()], tail.end()
    return None


def _without_page_headers(lines: list[str], case: str) -> list[str]:
    """The lines without the case number that a page header repeats: each line that is only
    the case number, after the first line that holds it (the letter's own header)."""
    out: list[str] = []
    seen = False
    for ln in lines:
        if seen and ln.endswith(case) and len(ln) <= 60 and _CASE_LINE.fullmatch(ln):
            continue
        seen = seen or case in ln
        out.append(ln)
    return out


_JOINING_WORDS = frozenset(
    [
        "and",
        "or",
        "with",
        "of",
        "for",
        "to",
        "the",
        "a",
        "an",
        "x",
        "per",
        "at",
        "in",
        "on",
        "by",
        "from",
        "plus",
    ]
)


def open_end(text: str) -> bool:
    """True when a line ends where nothing can end: on "/", ",", "&", "-", "+" or "(" or a
    joining word ("Cyclobenzaprine 10% / Gabapentin 6% /" / "Amitriptyline 10%")."""
    end = text.rstrip()
    if end[-1:] in "/,&-+(":
        return bool(end)
    return end.rpartition(" ")[2].lower() in _JOINING_WORDS


def _continues(previous: str, line: str) -> bool:
    """True when `line` plainly continues the sentence that `previous` left open."""
    if previous.endswith("-") and previous[-2:-1].isalnum():
        return line[:1].isalnum()
    # (A lowercase word after a word or number: a page break inside a sentence or heading.)
    last = previous[-1:]
    if last == "," or (last.isalnum() and line[:1].islower()):
        return True
    if last.islower() and line[:1] == "#" and line[1:2].isdigit():  # "... patch" / "#15 is"
        return True
    return (last.isalpha() or last in "/&-+(") and open_end(previous)  # (most end in ".")


def clean_lines(raw: str) -> list[Line]:
    """Logical lines of a letter: de-noised, de-hyphenated, with paragraph starts marked."""
    text = _collapse_spaces(_normalize_chars(raw))
    # Page furniture such as "Page 2 of 4" goes; cheap tests before the regex, inline since
    # a letter has a hundred physical lines.
    physical = [
        ln
        for ln in map(str.strip, text.split("\n"))
        if not ln
        or len(ln) > 80
        or not (ln[-1].isdigit() or ln[-1] == "-")  # every footer ends so
        or not (ln[0].isdigit() or ln[0] == "-" or "age" in ln or "AGE" in ln)
        or _PAGE_FOOTER.match(ln) is None
    ]
    if (case := _first_case_number(text)) and text.count(*case):
        physical = _without_page_headers(physical, case[0])
    gap = 2 if _is_double_spaced(physical) else 1
    lines: list[Line] = []
    blanks = gap  # the first line opens a paragraph
    previous_title = False
    last = ""
    for ln in physical:
        if not ln:
            blanks += 1
            continue
        # A short line in capitals with several words: "CLINICAL CASE SUMMARY".
        title = (
            len(ln) <= 100 and " " in ln and ln.isupper() and _EIGHT_LETTERS.match(ln) is not None
        )
        # A break inside a sentence ("physical and" / "psychosocial") is a page gap.
        para = blanks >= gap and not (last and _continues(last, ln))
        # A title in capitals stands alone even where no blank line sets it off.
        lines.append(_new_line(Line, (ln, para or title or previous_title)))
        blanks = 0
        previous_title = title
        last = ln
    if text.isascii():  # all whitespace is now " " or "\n": strip() left "-" at a line end
        hyphens = "-\n" in text or "- \n" in text or text.rstrip().endswith("-")
    else:
        hyphens = any(map(_ENDS_WITH_HYPHEN, physical))
    if not hyphens:  # (a footer that ends in "-" costs a scan that changes nothing)
        return lines
    return _dehyphenate(lines, Vocabulary(physical))


def join_lines(lines: Sequence[Line]) -> str:
    """Paragraph text: wrapped lines joined by spaces, paragraphs by a blank line."""
    if len(lines) < 2:
        return lines[0].text if lines else ""
    out: list[str] = []
    for text, para in lines:  # (one plain loop beats slicing into paragraphs)
        out += ("\n\n" if para else " ", text)
    out[0] = ""  # no separator before the first line
    return "".join(out)


def clean_text(raw: str) -> str:
    """The whole letter as de-noised paragraphs."""
    return join_lines(clean_lines(raw))
