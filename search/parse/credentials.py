"""Reviewer credentials: states of licensure and board specialties."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from .lexicon import WORD, Rx, alternation, read_json, wordset

# --- states ------------------------------------------------------------------------------

_STATE_PREFIX = Rx(r"^\s*(?:the\s+)?(?:state|commonwealth)\s+of\s+", re.I)
_STATE_LIST_SEP = Rx(r"\s*(?:[,;/&\n]|\band\b)\s*", re.I)
_LAST_IN = Rx(r".*\b(?:in|of)\s", re.S)


def _squash(text: str) -> str:
    """Letters only, lowercase: "N. Y." -> "ny"."""
    return "".join(c for c in text.lower() if "a" <= c <= "z")


@cache
def _states() -> tuple[dict[str, str], re.Pattern[str]]:
    """(squashed name, code or abbreviation -> name; pattern of names in prose)."""
    by_key: dict[str, str] = {}
    prose: list[str] = []
    for s in read_json("states.json")["states"]:
        for name in [s["name"], s["usps"], *s["abbreviations"], *s["text"]]:
            by_key.setdefault(_squash(name), s["name"])
        prose += [s["name"], *s["text"]]
    body = alternation(
        [r"[\s,]+".join(map(re.escape, p.split())) for p in sorted(prose, key=len)[::-1]]
    )
    return by_key, re.compile(rf"(?<![A-Za-z])(?:{body})(?![A-Za-z])", re.I)


def normalize_state(text: str) -> str | None:
    """The full name of a state written as a name, USPS code or abbreviation; else None."""
    return _states()[0].get(_squash(_STATE_PREFIX().sub("", text)))


def _state_list(text: str) -> tuple[str, ...] | None:
    """The states of a bare list ("NV, Arizona"), or None when it is not one."""
    out: list[str] = []
    for piece in _STATE_LIST_SEP().split(text.strip().rstrip(".")):
        if len(_squash(piece)) <= 2 and piece and not piece.replace(".", "").isupper():
            return None  # a lowercase "in", "or", "me" is a word, not a state
        name = normalize_state(piece) if piece else ""
        if name is None:
            return None
        out += [name] if name else []
    return tuple(dict.fromkeys(out)) or None


def find_states(text: str) -> tuple[str, ...]:
    """Full names of the states mentioned, in order, without repeats."""
    body = text.rsplit(":", 1)[-1]
    listed = _state_list(body)
    if listed is None and (m := _LAST_IN().match(body)):
        listed = _state_list(body[m.end() :])  # "licensed to practice in CA and NV"
    if listed is not None:
        return listed
    by_key, prose = _states()
    return tuple(dict.fromkeys(by_key[_squash(m.group())] for m in prose.finditer(text)))


# --- specialties -------------------------------------------------------------------------

_SPECIALTY_PREFIX = Rx(
    r"^(?:\W|(?:is|and|has|a|an|in|the|with|of|board|certified|certification|specialty|"
    r"specialties|subspecialty|sub-specialty|subspecialties)\b)+",
    re.I,
)
_SPECIALTY_PHRASE = Rx(
    r"\b(?:(?:and\s+)?(?:has|with)\s+(?:an?\s+)?sub-?specialt(?:y|ies)(?:\s+(?:in|of))?|"
    r"sub-?specialt(?:y|ies)\s*(?:in|of|:)?|(?:is\s+)?board[-\s]+certified\s+(?:in\s+)?|"
    r"certified\s+in|as\s+well\s+as|specialt(?:y|ies)\s*:)",
    re.I,
)
_SPECIALTY_SEP = Rx(r"\s*(?:[,;/&+\n]|\band\b|\bwith\b)\s*", re.I)
_SMALL_WORDS = wordset("and of in the for with on to")
# Words of credential lines that are no misspelled specialty word.
_CREDENTIAL_WORDS = wordset(
    "board boards certified certification certifications specialty specialties subspecialty "
    "subspecialties licensed license licensure practice practicing state states active clinical "
    "american osteopathic diplomate fellow fellowship trained residency physician doctor medical "
    "medicine surgery surgeon well"
)


def _specialty_key(text: str) -> str:
    """Lowercase words, "&" as "and", punctuation dropped."""
    return " ".join(WORD().findall(text.lower().replace("&", " and ")))


class _Specialties(NamedTuple):
    by_key: dict[str, str]  # key of every name and variant -> canonical name
    pattern: re.Pattern[str]  # every name and variant in prose, longest first
    words: frozenset[str]  # every word of every key, and the words of credential phrases


@cache
def _specialties() -> _Specialties:
    """The specialty vocabulary."""
    by_key: dict[str, str] = {}
    for canonical, variants in read_json("specialties.json")["specialties"].items():
        for name in [canonical, *variants]:
            by_key.setdefault(_specialty_key(name), canonical)
    parts = [
        r"[\s\-/&.,]*".join("(?:and|&)" if w == "and" else re.escape(w) for w in key.split())
        for key in sorted(by_key, key=len, reverse=True)
    ]
    pattern = re.compile(rf"(?<![A-Za-z])(?:{alternation(parts)})(?![A-Za-z])", re.I)
    words = frozenset(w for key in by_key for w in key.split()) | _CREDENTIAL_WORDS
    return _Specialties(by_key, pattern, words)


def specialty_words(text: str) -> bool:
    """Whether every word of `text` is a word of the specialty names ("Medicine, Pain
    Medicine", "& Rehabilitation"): a credential line's wrapped tail, not prose."""
    words = WORD().findall(text.lower())
    known = _specialties().words
    return bool(words) and all(w in known or w in _SMALL_WORDS for w in words)


def _distance(a: str, b: str, limit: int) -> int:
    """The edit distance (with transpositions) of a and b, or limit + 1 when above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return min(prev[-1], limit + 1)


@lru_cache(maxsize=4096)
def _correct(word: str) -> str:
    """A misspelled word of a specialty name corrected, when one known word is closest."""
    known = _specialties().words
    if word in known or len(word) < 5 or not word.isalpha():
        return word
    limit = 1 if len(word) < 9 else 2
    scored = sorted(
        (_distance(word, w, limit), w) for w in known if w[0] == word[0] or w[1:2] == word[1:2]
    )
    best = [w for d, w in scored if d == scored[0][0] and d <= limit] if scored else []
    return best[0] if len(best) == 1 else word


def _corrected(text: str) -> str:
    """Text with misspelled specialty words corrected ("Anesthesiolgy" -> "anesthesiology")."""
    known = _specialties().words
    return WORD().sub(
        lambda m: m.group() if m.group().lower() in known else _correct(m.group().lower()), text
    )


def _title(text: str) -> str:
    """Title case that keeps small words lowercase and short acronyms as written."""
    shout, out = text.isupper(), []
    for i, w in enumerate(text.replace("&", "and").split()):
        if i and w.lower() in _SMALL_WORDS:
            out.append(w.lower())
        elif not shout and w.isupper() and len(w) <= 4:
            out.append(w)
        else:
            out.append("-".join(p[:1].upper() + p[1:].lower() for p in w.split("-")))
    return " ".join(out)


def normalize_specialty(text: str) -> str:
    """The canonical name of a specialty, tolerant of case, "&"/"and" and small misspellings;
    an unknown one title-cased and cleaned."""
    cleaned = _SPECIALTY_PREFIX().sub("", " ".join(text.split())).strip(" .,;:-")
    by_key = _specialties().by_key
    key = _specialty_key(cleaned)
    return by_key.get(key) or by_key.get(_specialty_key(_corrected(key))) or _title(cleaned)


def split_specialties(text: str) -> tuple[str, ...]:
    """The specialties of a credential line, each normalized, in order, without repeats."""
    flat = _SPECIALTY_PHRASE().sub(";", " ".join(text.split()))
    vocab = _specialties()
    known = [m.span() for m in vocab.pattern.finditer(flat)]
    fixed = _corrected(flat)
    if fixed.lower() != flat.lower():  # a misspelled name: find the names in the corrected text
        flat = fixed
        known = [m.span() for m in vocab.pattern.finditer(flat)]
    cuts = [0]
    for m in _SPECIALTY_SEP().finditer(flat):
        if not any(a < m.end() and m.start() < b for a, b in known):
            cuts += [m.start(), m.end()]
    cuts.append(len(flat))
    pieces = (normalize_specialty(flat[a:b]) for a, b in zip(cuts[::2], cuts[1::2], strict=True))
    return tuple(dict.fromkeys(p for p in pieces if p))
