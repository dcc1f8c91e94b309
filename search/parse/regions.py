"""Body regions named in request or clinical-summary text, as canonical groups.

``body_regions(text)`` gives the groups of ``fields.REGIONS`` (lumbar spine, cervical spine,
shoulder, knee, wrist/hand, psychiatric...) that the text names, in the order of their first
mention. The phrases, the phrases to ignore and the words that cancel a mention are data
(``data/regions.json``, which documents the rules: a bare "back" or "head" names nothing,
"denies neck pain" and pain "radiating down the leg" name no region). Words are looked up in
a dictionary keyed by their first word, so a long summary costs one pass over its words.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ..fields import REGIONS
from .lexicon import Rx, read_json

_WORDS = Rx(r"[a-z]+(?:'s)?")
# Spinal levels: "L4-5", "L5-S1", "C5-C6", "T11-12" (upper case, as letters write them).
_LEVEL = Rx(r"([LCT])\d{1,2}\s*[-–/]\s*(?:[LCTS]\s*)?\d{1,2}(?![0-9])")  # a class first: fast
_LEVEL_REGION = {"L": "lumbar spine", "C": "cervical spine", "T": "thoracic spine"}
_END, _BREAK = ".", ","  # tokens: a sentence end, and any other punctuation (no phrase spans it)


# Stripped from both ends of a whitespace-separated token; a token ending in a sentence end
# closes its sentence (for negations), one ending in other punctuation ends any phrase.
_STRIP = "\"'()[]{}<>,.;:!?*#%&+=_~`\u2018\u2019\u201c\u201d"
_ENDS = tuple(".;:!?")


class _Vocab(NamedTuple):
    by_word: dict[str, tuple[tuple[tuple[str, ...], str], ...]]  # first word -> longest first
    ignore: dict[str, tuple[tuple[str, ...], ...]]  # first word -> phrases to skip
    context: dict[str, tuple[frozenset[str], str]]  # word -> (words it must follow, region)
    cancel: frozenset[str]  # negations and "radiating" words
    forms: frozenset[str]  # first words as whitespace-split tokens: "knee", "knee,", "(knee"...


def _words(phrase: str) -> tuple[str, ...]:
    """The words of a data phrase."""
    return tuple(phrase.lower().replace("-", " ").replace("/", " ").split())


@cache
def _vocab() -> _Vocab:
    """The region vocabulary, indexed by first word."""
    data = read_json("regions.json")
    by_word: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for entry in [*data["regions"], *data["context"]]:
        if entry["region"] not in REGIONS:
            raise ValueError(f"regions.json: unknown region {entry['region']!r}")
    for entry in data["regions"]:
        for phrase in entry["phrases"]:
            words = _words(phrase)
            by_word.setdefault(words[0], []).append((words, entry["region"]))
    ignore: dict[str, list[tuple[str, ...]]] = {}
    for phrase in data["ignore"]:
        words = _words(phrase)
        ignore.setdefault(words[0], []).append(words)
    context = {c["word"]: (frozenset(c["after"]), c["region"]) for c in data["context"]}
    longest = {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in by_word.items()}
    skips = {k: tuple(sorted(v, key=len, reverse=True)) for k, v in ignore.items()}
    cancel = frozenset(data["negations"]) | frozenset(data["radiating"])
    firsts = set(longest) | set(skips) | set(context)
    forms = {f"{lead}{w}{tail}" for w in firsts for lead in ("", "(", '"') for tail in _TAILS}
    return _Vocab(longest, skips, context, cancel, frozenset(forms))


_NO_CONTEXT: tuple[frozenset[str], str] = (frozenset(), "")
_TAILS = ("", ",", ".", ";", ":", ")", "),", ").", "'s", '"', "?", "!")


def _positions(raw: list[str], forms: frozenset[str]) -> list[int]:
    """Indexes of the tokens that are one of the forms, in order."""
    return [i for i, t in enumerate(raw) if t in forms] if forms else []


def _at(raw: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    """True when the phrase starts at token i (whose word is its first), no punctuation inside."""
    if len(phrase) == 1:
        return True
    if i + len(phrase) > len(raw):
        return False
    for k in range(1, len(phrase)):
        if not raw[i + k - 1][-1].isalpha() or raw[i + k].strip(_STRIP) != phrase[k]:
            return False
    return True


def _cancelled(raw: list[str], i: int, cancel: frozenset[str]) -> bool:
    """True when a negation or "radiating" word stands up to 3 words before, in the sentence."""
    for k in range(i - 1, max(-1, i - 4), -1):
        if raw[k].endswith(_ENDS):
            return False
        if raw[k].strip(_STRIP) in cancel:
            return True
    return False


def body_regions(text: str) -> tuple[str, ...]:
    """The body regions (fields.REGIONS) the text names, in order of first mention (spinal
    levels after the words)."""
    vocab = _vocab()
    # Whitespace tokens and set lookups, not a regex pass: this runs over every summary.
    raw = text.lower().replace("-", " ").replace("/", " ").split()
    found: list[str] = []
    done = 0  # tokens before this index are part of a phrase already read
    for i in _positions(raw, vocab.forms.intersection(raw)):
        if i < done:
            continue
        word = raw[i].strip(_STRIP)
        ignored = vocab.ignore.get(word)
        if ignored and (skip := next((len(p) for p in ignored if _at(raw, i, p)), 0)):
            done = i + skip
            continue
        for phrase, region in vocab.by_word.get(word, ()):
            if _at(raw, i, phrase):
                if not _cancelled(raw, i, vocab.cancel):
                    found.append(region)
                done = i + len(phrase)
                break
        else:
            after, region = vocab.context.get(word, _NO_CONTEXT)
            prev = raw[i - 1] if i else ""
            named = prev[-1:].isalpha() and prev.strip(_STRIP) in after
            if named and not _cancelled(raw, i - 1, vocab.cancel):
                found.append(region)
    for m in _LEVEL().finditer(text):
        if not (m.start() and text[m.start() - 1].isalnum()):  # "L4-5", not "URL4-5"
            found.append(_LEVEL_REGION[m[1]])
    return tuple(dict.fromkeys(found))
