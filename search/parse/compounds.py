"""Ingredients of a compound that the drug vocabulary does not know, kept as written.

A compounded topical lists its ingredients with strengths, joined by "/", "+", "," or "and"
("Flurbiprofen 10%/Dextromethorphan 5%/Lidocaine 5%"). The drug scanner finds the known
names; these functions read the pieces of the list around them, so an unknown ingredient is
kept (lowercase, salts dropped) instead of ending the list. A piece counts as an ingredient
when it is one to three name words followed by a percent strength, or a single drug-like word
("...ine", "...ol", ...) between two "/" of a topical. Anything else ends the list.
"""

from __future__ import annotations

from typing import NamedTuple

from .lexicon import Rx, wordset

_TOKEN = Rx(r"[A-Za-z][A-Za-z'\-]*|\d*\.?\d+|\S")
_SEPARATORS = frozenset("/+,&")
_JOINS = wordset("and plus")
_SALTS = wordset(
    "hcl hci hbr hydrochloride hydrobromide sodium potassium calcium magnesium bitartrate "
    "tartrate sulfate sulphate citrate maleate succinate besylate mesylate phosphate acetate "
    "epolamine base"
)
_UNITS = wordset("mg mcg gm g ml")
_NOT_NAMES = wordset(
    "cream creams gel gels ointment ointments lotion lotions compound compounded compounds "
    "topical topicals transdermal patch patches solution suspension spray tube tubes jar jars "
    "bottle refill refills with and for the of in to a an per on at as or by retro retrospective "
    "request requested prescription prescribed unknown medication medications kit pump dos qty "
    "quantity days day daily bid tid qid prn tablet tablets tab tabs capsule capsules caps apply "
    "lipoderm versapro pcca pentravan ultra dermabase mediderm vanpen emollient cap "
    "left right bilateral knee knees back neck shoulder hip wrist hand ankle foot lumbar "
    "cervical spine date service times week weeks month months count supply total each"
)
_DRUGLIKE = (
    "ine", "ane", "ene", "one", "ol", "en", "in", "ide", "ate", "am", "an", "il", "ac", "ic",
    "oid", "ium", "yl", "ex", "ox", "ix",
)  # fmt: skip


class Unknown(NamedTuple):
    """An ingredient the vocabulary does not know: where it is written, as written, generic."""

    start: int
    end: int
    written: str
    generic: str


class _Piece(NamedTuple):
    name: list[tuple[str, int, int]]  # name words with their offsets
    percent: bool  # a percent strength follows the name
    rest: bool  # tokens follow that are no part of the ingredient


def _tokens(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """The tokens of text[start:end] with absolute offsets."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN().finditer(text, start, end)]


def _split(tokens: list[tuple[str, int, int]]) -> tuple[list[list[tuple[str, int, int]]], str]:
    """Segments between separators, and the kinds of separator seen ("/", ",", "and"...)."""
    segments: list[list[tuple[str, int, int]]] = [[]]
    kinds = ""
    for tok in tokens:
        if tok[0] in _SEPARATORS or tok[0].lower() in _JOINS:
            segments.append([])
            kinds += tok[0][0]
        else:
            segments[-1].append(tok)
    return segments, kinds


def _is_name_word(word: str) -> bool:
    """A word that may be part of a drug name."""
    low = word.lower()
    return word[0].isalpha() and len(word) >= 3 and low not in _NOT_NAMES and low not in _UNITS


def _piece(seg: list[tuple[str, int, int]], lead: bool) -> _Piece | None:
    """Read a segment as name words, salts, a strength; None when it is something else."""
    i = 0
    if lead:  # the first piece of a list may follow other words: "Compound: Ketamine 10%"
        digits = [k for k, t in enumerate(seg) if t[0][0].isdigit() or t[0][0] == "."]
        stop = digits[0] if digits else len(seg)
        i = stop
        while i > 0 and (_is_name_word(seg[i - 1][0]) or seg[i - 1][0].lower() in _SALTS):
            i -= 1
    name: list[tuple[str, int, int]] = []
    while i < len(seg) and _is_name_word(seg[i][0]) and seg[i][0].lower() not in _SALTS:
        name.append(seg[i])
        i += 1
    while i < len(seg) and seg[i][0].lower() in _SALTS:
        i += 1
    if not name or len(name) > 3:
        return None
    percent = False
    if i < len(seg) and seg[i][0] == "(":
        i += 1
    if i + 1 < len(seg) and seg[i][0][-1].isdigit() and seg[i + 1][0] in ("%", "mg", "mcg"):
        percent = seg[i + 1][0] == "%"
        i += 2
        i += 1 if i < len(seg) and seg[i][0] == ")" else 0
    return _Piece(name, percent, i < len(seg))


def _druglike(piece: _Piece) -> bool:
    """One word that reads like a drug name."""
    return (
        len(piece.name) == 1
        and len(piece.name[0][0]) >= 6
        and piece.name[0][0].lower().endswith(_DRUGLIKE)
    )


def _unknown(text: str, piece: _Piece) -> Unknown:
    """The ingredient of a piece."""
    start, end = piece.name[0][1], piece.name[-1][2]
    written = " ".join(text[start:end].split())
    return Unknown(start, end, written, " ".join(w.lower() for w, _, _ in piece.name))


def _empty(seg: list[tuple[str, int, int]]) -> bool:
    """A segment of strengths, salts and release words only (the tail of a known name)."""
    return all(
        not t[0][0].isalpha() or t[0].lower() in _SALTS or t[0].lower() in _UNITS
        or t[0].lower() in ("er", "xr", "sr", "cr", "dr", "ds")
        for t in seg
    )  # fmt: skip


def between(text: str, start: int, end: int, topical: bool) -> list[Unknown] | None:
    """Unknown ingredients listed between two known ones, or None when the gap is no list."""
    if end - start > 120 or any(c in text[start:end] for c in "#;:\n"):
        return None
    segments, kinds = _split(_tokens(text, start, end))
    if len(segments) < 3 or not (_empty(segments[0]) and not segments[-1]):
        return None
    out = []
    for seg in segments[1:-1]:
        piece = _piece(seg, lead=False)
        if piece is None or piece.rest:
            return None
        if not (piece.percent or (topical and set(kinds) <= {"/", "+"} and _druglike(piece))):
            return None
        out.append(_unknown(text, piece))
    return out


def after(text: str, start: int, topical: bool) -> list[Unknown]:
    """Unknown ingredients listed after the last known one."""
    end = min(len(text), start + 200)
    stop = next((k for k in range(start, end) if text[k] in "#;:\n"), end)
    segments, kinds = _split(_tokens(text, start, stop))
    if len(segments) < 2 or not _empty(segments[0]):
        return []
    out = []
    for k, seg in enumerate(segments[1:]):
        piece = _piece(seg, lead=False)
        if piece is None or not (
            piece.percent or (topical and kinds[k] in "/+" and _druglike(piece))
        ):
            break
        out.append(_unknown(text, piece))
        if piece.rest:
            break
    return out


def before(text: str, end: int, topical: bool) -> list[Unknown]:
    """Unknown ingredients listed before the first known one, in order."""
    start = max(0, end - 200)
    stop = max((k + 1 for k in range(start, end) if text[k] in "#;:\n"), default=start)
    segments, kinds = _split(_tokens(text, stop, end))
    if len(segments) < 2 or segments[-1]:
        return []
    out: list[Unknown] = []
    for k in range(len(segments) - 2, -1, -1):
        piece = _piece(segments[k], lead=True)
        whole = piece is not None and not piece.rest
        if (
            piece is None
            or not whole
            or not (piece.percent or (topical and kinds[k] in "/+" and _druglike(piece)))
        ):
            break
        out.insert(0, _unknown(text, piece))
        if segments[k][0][1] < piece.name[0][1]:
            break  # words before the name: the list starts here
    return out
