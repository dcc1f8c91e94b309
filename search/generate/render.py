"""Render a generated letter's blocks as text: clean, or with pdftotext-like noise.

Noise: blank line after every line, hard wraps, hyphenation, page footers and headers with
form feeds, tabs, double spaces, CRLF. Prose ("P") wraps and hyphenates; an item heading
("W") wraps like prose but is never hyphenated, and a page break may fall inside it; other
lines stay whole.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from . import vocab as V
from .vocab import Block, pick, rint, sample

_WRAP: dict[int, re.Pattern[str]] = {}
_NO_HYPHEN = V.DRUG_WORDS | {"upheld", "overturned"}
_FOOTERS = (("", "Page {p} of {t}"), ("Page {p}",), (), ("", "", ""))
# Lines at the top of a page after a form feed (only where the letter states its case number).
_HEADERS = (("{case}",), ("Case Number: {case}",), ("IMR Case Number {case}", ""))
_PAGE_HEADER = ("Page {p}",)


def _wrap(width: int) -> re.Pattern[str]:
    pat = _WRAP.get(width)
    if pat is None:
        pat = _WRAP[width] = re.compile(rf"(.{{1,{width}}})(?:\s+|$)")
    return pat


def _hyphenate(rng: random.Random, chunks: list[str]) -> None:
    """Split the first word of some wrapped lines across the break: "medi-" / "cation"."""
    for i in range(len(chunks) - 1):
        if rng.random() < 0.2:
            nxt = chunks[i + 1]
            sp = nxt.find(" ")
            word = nxt if sp < 0 else nxt[:sp]
            if len(word) >= 8 and word.isalpha() and word.islower() and word not in _NO_HYPHEN:
                cut = rint(rng, 3, len(word) - 3)
                chunks[i] += f" {word[:cut]}-"
                chunks[i + 1] = nxt[cut:]


def _page_breaks(
    rng: random.Random,
    lines: list[str],
    glued: set[int],
    inside: list[int],
    header: tuple[str, ...],
) -> None:
    """Insert footers (and headers) with form feeds at a few line boundaries, never before a
    glued line; one of them inside a wrapped item heading when `inside` offers places."""
    n = len(lines)
    if n < 12:
        return
    k = rint(rng, 1, max(1, n // 45))
    spots = {p for p in sample(rng, range(5, n - 2), k) if p not in glued}
    if inside:
        spots.add(pick(rng, inside))
    ordered = sorted(spots, reverse=True)
    footer = pick(rng, _FOOTERS)
    total = len(ordered) + 1
    ff = footer != ("", "", "") or bool(header)
    for j, pos in enumerate(ordered):
        page = total - 1 - j
        top = [x.format(p=page + 1, t=total) for x in header]
        if ff:
            top = [f"\f{top[0]}", *top[1:]] if top else []
            if not top:
                lines[pos] = "\f" + lines[pos]
        lines[pos:pos] = [x.format(p=page, t=total) for x in footer] + top


def render(
    rng: random.Random,
    blocks: Sequence[Block],
    noise: bool,
    *,
    traps: bool = False,
    case: str | None = None,
) -> str:
    """The text of a letter: clean (one line per paragraph) or with pdftotext-like noise.
    With traps, item headings may wrap narrower and a page break may fall inside one; page
    headers are drawn (the case number among them when the letter states it, `case`)."""
    if not noise:
        out: list[str] = []
        for kind, text in blocks:
            if kind != "B" or (out and out[-1]):
                out.append(text)
        return "\n".join(out).strip("\n").replace("\x01", " ").replace("\x02", "    ") + "\n"
    wrap = rng.random() < 0.9
    width = rint(rng, 86, 100)
    hyph = rng.random() < 0.35
    dbl = rng.random() < 0.35
    lead = rng.random() < 0.3
    tabs = rng.random() < 0.15
    sep = "\t" if tabs and rng.random() < 0.5 else pick(rng, (" ", " ", "  ", "   "))
    gap = "\t" if tabs else " " * rint(rng, 3, 14)
    pat = _wrap(width)
    ipat = _wrap(width if not traps or rng.random() < 0.6 else rint(rng, 45, 80))
    lines: list[str] = []
    glued: set[int] = set()
    inside: list[int] = []  # line boundaries within wrapped item headings
    for kind, text in blocks:
        if kind == "P":
            if dbl:
                text = text.replace(". ", ".  ")
            if wrap and len(text) > width:
                chunks = pat.findall(text)
                if hyph:
                    _hyphenate(rng, chunks)
                lines += chunks
            else:
                lines.append(text)
        elif kind == "W":
            chunks = ipat.findall(text) if wrap else [text]
            inside += [len(lines) + i for i in range(1, len(chunks))]
            lines += chunks
        elif kind == "B":
            if lines and lines[-1]:
                lines.append("")
        elif kind == "K":
            glued.add(len(lines))
            lines.append(text)
        else:
            lines.append(f" {text}" if lead and kind == "H" else text)
    if rng.random() < (0.6 if inside and traps else 0.4):
        header: tuple[str, ...] = ()
        if traps:
            heads = (*_HEADERS, _PAGE_HEADER) if case else (_PAGE_HEADER,)
            header = tuple(h.replace("{case}", case or "") for h in pick(rng, ((), *heads)))
        _page_breaks(rng, lines, glued, inside if traps else [], header)
    end = (" \n" if rng.random() < 0.6 else "\n") + ("\n" if rng.random() < 0.45 else "")
    text = end.join(lines) + end
    text = text.replace("\x01", sep).replace("\x02", gap)
    return text.replace("\n", "\r\n") if rng.random() < 0.1 else text
