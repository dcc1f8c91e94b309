"""Stage 1, clean: undo PDF-extraction noise into logical lines with paragraph marks."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Characters that carry no text: zero-width marks, BOM; the soft hyphen is handled apart.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACES = re.compile(
    r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
)
# Page furniture that a PDF repeats on every page: "Page 2 of 4", "- 3 -", "2 of 4".
_PAGE_FOOTER = re.compile(
    r"^(?:page\s*\d{1,3}(?:\s*(?:of|/)\s*\d{1,3})?|\d{1,3}\s*of\s*\d{1,3}|-\s*\d{1,3}\s*-"
    r"|.{0,60}\bpage\s*\d{1,3}\s*(?:of|/)\s*\d{1,3})$",
    re.IGNORECASE,
)
_EIGHT_LETTERS = re.compile(r"(?:[^A-Za-z]*[A-Za-z]){8}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
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


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line; `para` marks the first line of a paragraph."""

    text: str
    para: bool


def _normalize_chars(raw: str) -> str:
    """Unify newlines, page breaks, spaces and invisible characters."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n\n")
    text = _CONTROL.sub(" ", text)
    if text.isascii():
        return text
    text = _INVISIBLE.sub("", text)
    # A soft hyphen at a line end is a hyphenation point; elsewhere it is invisible.
    text = re.sub("\u00ad[ \t]*\n", "-\n", text).replace("\u00ad", "")
    return text.replace("\u2010", "-").replace("\u2011", "-")


def _is_double_spaced(lines: list[str]) -> bool:
    """True when most text lines are followed by exactly one blank line (pdftotext noise)."""
    text_lines = singles = 0
    for i, line in enumerate(lines[:-2]):
        if line:
            text_lines += 1
            if not lines[i + 1] and lines[i + 2]:
                singles += 1
    return text_lines >= 4 and singles >= 0.6 * text_lines


def _vocabulary(lines: list[str]) -> str:
    """The letter in lowercase, to count words in when deciding how a line-end hyphen joins."""
    return f" {' '.join(lines).lower()} "


def _count(vocab: str, word: str) -> int:
    """How often a word stands alone in the letter (its occurrences between non-letters)."""
    return len(re.findall(rf"(?<![a-z'-]){re.escape(word)}(?![a-z'-])", vocab))


def _join_hyphen(head: str, tail: str, vocab: str) -> str:
    """Join "medi-" + "cation" as "medication", but "non-" + "opioid" as "non-opioid"."""
    h, t = head.lower(), tail.lower()
    whole, hyphenated = _count(vocab, h + t), _count(vocab, f"{h}-{t}")
    if hyphenated > whole:
        return f"{head}-{tail}"
    if whole:
        return head + tail
    # Both halves standing alone elsewhere in the letter (the tail also here): a compound.
    if len(head) > 1 and _count(vocab, h) and _count(vocab, t) > 1:
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


_TRAILING_FRAGMENT = re.compile(r"([A-Za-z0-9]+)-$")
_LEADING_FRAGMENT = re.compile(r"^([A-Za-z0-9]+)([,.;:)]?)(?:\s+|$)")


def _dehyphenate(lines: list[Line], vocab: str) -> list[Line]:
    """Mend words split across line breaks, moving the tail onto the earlier line."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        head = _TRAILING_FRAGMENT.search(text)
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


def _continues(previous: str, line: str) -> bool:
    """True when `line` plainly continues the sentence that `previous` left open."""
    if previous.endswith("-") and previous[-2:-1].isalnum():
        return line[:1].isalnum()
    return previous[-1:] in "," or (previous[-1:].islower() and line[:1].islower())


def _is_footer(line: str) -> bool:
    """True for page furniture such as "Page 2 of 4" (cheap tests before the regex)."""
    if not line or len(line) > 80:
        return False
    if not (line[0].isdigit() or line[0] == "-" or "age" in line or "AGE" in line):
        return False
    return _PAGE_FOOTER.match(line) is not None


def _is_title(line: str) -> bool:
    """True for a short line in capitals with several words: "CLINICAL CASE SUMMARY"."""
    if len(line) > 100 or " " not in line or not line.isupper():
        return False
    return _EIGHT_LETTERS.match(line) is not None


def clean_lines(raw: str) -> list[Line]:
    """Logical lines of a letter: de-noised, de-hyphenated, with paragraph starts marked."""
    text = _SPACES.sub(" ", _normalize_chars(raw))
    physical = [ln.strip() for ln in text.split("\n")]
    physical = [ln for ln in physical if not _is_footer(ln)]
    gap = 2 if _is_double_spaced(physical) else 1
    lines: list[Line] = []
    blanks = gap  # the first line opens a paragraph
    previous_title = False
    for ln in physical:
        if not ln:
            blanks += 1
            continue
        title = _is_title(ln)
        # A break inside a sentence ("physical and" / "psychosocial") is a page gap.
        para = blanks >= gap and not (lines and _continues(lines[-1].text, ln))
        # A title in capitals stands alone even where no blank line sets it off.
        lines.append(Line(ln, para or title or previous_title))
        blanks = 0
        previous_title = title
    if not any(ln.text.endswith("-") for ln in lines):
        return lines
    return _dehyphenate(lines, _vocabulary(physical))


def join_lines(lines: list[Line]) -> str:
    """Paragraph text: wrapped lines joined by spaces, paragraphs by a blank line."""
    paragraphs: list[list[str]] = []
    for line in lines:
        if line.para or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.text)
    return "\n\n".join(" ".join(p) for p in paragraphs)


def clean_text(raw: str) -> str:
    """The whole letter as de-noised paragraphs."""
    return join_lines(clean_lines(raw))
