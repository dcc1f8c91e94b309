"""Drug names in request text: brand to generic, combinations and compounds, drug class.

The vocabulary is ``data/drugs.tsv`` (its header documents the columns). Generics are
lowercase; combinations join ingredients with "/" (USP order for known products:
"hydrocodone/acetaminophen", "acetaminophen/caffeine/dihydrocodeine"; else as written). Kits of
compounded topicals (Terocin, LidoPro, Medrox, Menthoderm...) map to their ingredients, class
"compounded topical"; "compound cream" naming no ingredient gives generic "compounded topical".
Ingredients the vocabulary does not know are kept as written (see ``compounds``). Unknown
combinations are "compounded topical" when topical (cream/gel/% written, or usual compound
ingredients only), else "combination". One NSAID or local anesthetic written with a cream, gel,
% or patch is "topical NSAID" / "topical anesthetic"; another usual compound ingredient in a
cream/gel/% is "compounded topical". Hydrocodone, oxycodone, codeine or tramadol followed by
"N/325" (300, 325, 500, 650, 750) is the acetaminophen combination.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import NamedTuple

from . import compounds
from .lexicon import WORD, Rx, read_data, wordset

_NAME_GAP = Rx(r"[\s\-/.#&+]{1,4}")

_SALTS = wordset(
    "hcl hci hbr hydrochloride hydrobromide sodium potassium calcium bitartrate tartrate sulfate "
    "sulphate citrate maleate succinate besylate mesylate phosphate acetate cypionate enanthate "
    "epolamine mg mcg"
)
_RELEASE = wordset("er xr cr sr xl la ds dr ec odt ir xt")
_JOIN_WORDS = wordset("and with w plus")
_APAP_PARTNERS = wordset("hydrocodone oxycodone codeine tramadol")
_APAP_DOSE = Rx(
    r"[\s\w]{0,20}?(?<![\d.])\d+(?:\.\d+)?\s*(?:mg)?\s*[/-]\s*(?:300|325|500|650|750)(?!\d)"
)
_TOPICAL_CLASSES = frozenset(
    ["topical NSAID", "topical anesthetic", "topical analgesic", "compounded topical"]
)
_TO_TOPICAL = {"NSAID": "topical NSAID", "local anesthetic": "topical anesthetic"}
_FORM = Rx(
    r"(?<![a-z])(?:creams?|gels?|ointments?|lotions?|topicals?|compound(?:ed|s)?|rub|balm|"
    r"liniment|emulgel)(?![a-z])|\d\s*%",
    re.I,
)
_PATCH = Rx(r"(?<![a-z])(?:patch(?:es)?|transdermal)(?![a-z])", re.I)
_COMPOUND_BEFORE = Rx(r"(?<![a-z])(?:compound|topical|transdermal)", re.I)
_INJECT = Rx(r"inject|(?<![a-z])(?:inj|im|iv)(?![a-z])", re.I)
_HYPHEN_BREAK = Rx(r"(?<=[A-Za-z])-\s+(?=[A-Za-z])")


@dataclass(frozen=True, slots=True)
class DrugMatch:
    """A drug named in a request: generic (lowercase), the name as written, and its class."""

    generic: str
    as_written: str
    drug_class: str


class _Drug(NamedTuple):
    generic: str
    drug_class: str
    topical: bool  # a usual ingredient of compounded topicals
    placeholder: bool  # "compound cream": only when no specific drug is named


class _Hit(NamedTuple):
    start: int
    end: int
    drug: _Drug
    brand: bool


class _Drugs(NamedTuple):
    by_word: dict[str, tuple[tuple[tuple[str, ...], _Drug, bool], ...]]  # first word; longest first
    generics: dict[str, _Drug]  # generic -> its first row
    names: dict[str, _Drug]  # every name, lowercase, as written in the data
    combos: dict[frozenset[str], _Drug]


@cache
def _rows() -> list[tuple[_Drug, list[tuple[str, bool]]]]:
    """The vocabulary's rows: each drug with its names as written (lowercase, spaces
    collapsed) and whether each is a brand."""
    rows = []
    for line in read_data("drugs.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        generic, klass, flags, aliases, brands = line.split("\t")
        drug = _Drug(generic, klass, "t" in flags, "p" in flags)
        written = [(generic, False)] + [(a, False) for a in aliases.split("|") if a != "-"]
        written += [(b, True) for b in brands.split("|") if b != "-"]
        rows.append((drug, [(" ".join(n.lower().split()), brand) for n, brand in written]))
    return rows


def _groups(rows: list[tuple[_Drug, list[tuple[str, bool]]]]) -> dict[str, tuple[str, ...]]:
    """Every name -> all names of its drug, the generic first (rows of one generic joined)."""
    written: dict[str, list[str]] = {}
    for drug, names in rows:
        group = written.setdefault(drug.generic, [drug.generic])
        group += [n for n in dict.fromkeys(n for n, _ in names) if n not in group]
    return {name: tuple(group) for group in written.values() for name in group}


@cache
def _drugs() -> _Drugs:
    """The drug vocabulary, indexed by the first word of every name."""
    index: dict[str, list[tuple[tuple[str, ...], _Drug, bool]]] = {}
    generics: dict[str, _Drug] = {}
    names: dict[str, _Drug] = {}
    for drug, written in _rows():
        generics.setdefault(drug.generic, drug)
        for lower, brand in written:
            names.setdefault(lower, drug)
            for variant in [lower, lower + "es"] if lower.endswith("patch") else [lower]:
                words = tuple(WORD().findall(variant))
                if words and all(words != w for w, _, _ in index.get(words[0], ())):
                    index.setdefault(words[0], []).append((words, drug, brand))
    combos: dict[frozenset[str], _Drug] = {}
    for drug in generics.values():
        if "/" in drug.generic:
            combos.setdefault(frozenset(drug.generic.split("/")), drug)
    by_length = {k: tuple(sorted(v, key=lambda c: -len(c[0]))) for k, v in index.items()}
    return _Drugs(by_length, generics, names, combos)


def _scan(text: str, vocab: _Drugs) -> tuple[list[_Hit], set[int]]:
    """Every drug name in the text, left to right, longest first; and hyphen-joined hits."""
    index = vocab.by_word
    words = " ".join(WORD().findall(text)).lower().split()
    if index.keys().isdisjoint(words) and not (
        "-" in text and any(a + b in index for a, b in pairwise(words))
    ):
        return [], set()  # the usual service request: no span work at all
    starts, ends = [], []
    for m in WORD().finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    joined: set[int] = set()
    i = 0
    while "-" in text and i < len(words) - 1:  # "Cyclobenza-\nprine": a word broken at a line end
        gap = text[ends[i] : starts[i + 1]]
        if words[i] not in index and gap.strip() == "-" and words[i] + words[i + 1] in index:
            words[i : i + 2] = [words[i] + words[i + 1]]
            ends[i : i + 2] = [ends[i + 1]]
            del starts[i + 1]
            joined.add(starts[i])
        i += 1
    hits: list[_Hit] = []
    i, n = 0, len(words)
    while i < n:
        for name, drug, brand in index.get(words[i], ()):
            k = len(name)
            if k == 1 or (
                i + k <= n
                and all(
                    words[i + j] == name[j]
                    and _NAME_GAP().fullmatch(text, ends[i + j - 1], starts[i + j])
                    for j in range(1, k)
                )
            ):
                i += k - 1
                end = ends[i]
                if i + 1 < n and words[i + 1] in _RELEASE and starts[i + 1] - end <= 2:
                    end = ends[i + 1]  # "Tramadol ER"
                hits.append(_Hit(starts[i - k + 1], end, drug, brand))
                break
        i += 1
    return hits, joined


def _separator(text: str, start: int, end: int) -> str | None:
    """How two drug names are joined: "strong" (/ + -), "weak" (and , with) or not at all."""
    gap = text[start:end]
    if len(gap) > 40 or any(c in gap for c in "#;:\n"):
        return None
    weak = False
    for word in WORD().findall(gap.lower()):
        if word in _JOIN_WORDS:
            weak = True
        elif not (word[0].isdigit() or word in _SALTS or word in _RELEASE):
            return None
    punct = WORD().sub("", gap)
    if any(c in punct for c in "/+-"):
        return "strong"
    return "weak" if weak or "," in punct or "&" in punct else None


def _combo_class(ingredients: list[str], topical: bool, vocab: _Drugs) -> str:
    """Class of a combination that is no known product."""
    rows = [vocab.generics.get(g) for g in ingredients]
    usual = all(r is not None and (r.topical or r.drug_class in _TOPICAL_CLASSES) for r in rows)
    return "compounded topical" if topical or usual else "combination"


def _written(text: str, hit: _Hit, joined: set[int]) -> str:
    """A name as written, its spaces collapsed."""
    name = " ".join(text[hit.start : hit.end].split())
    return _HYPHEN_BREAK().sub("", name) if hit.start in joined else name


def is_topical(text: str) -> bool:
    """True when a request is written as a topical (cream, gel, %), not an injection."""
    return bool(_FORM().search(text)) and not _INJECT().search(text)


def _single_class(text: str, hit: _Hit, window_end: int) -> str:
    """Class of one drug, made topical by a cream, gel or patch written with it."""
    drug, klass = hit.drug, hit.drug.drug_class
    if klass in _TOPICAL_CLASSES or not (klass in _TO_TOPICAL or drug.topical):
        return klass
    window = text[hit.start : window_end]
    if _INJECT().search(window):
        return klass
    form = bool(_FORM().search(window) or _COMPOUND_BEFORE().search(text, 0, hit.start))
    if klass in _TO_TOPICAL and (form or _PATCH().search(window)):
        return _TO_TOPICAL[klass]
    return "compounded topical" if drug.topical and form else klass


def find_drug(text: str) -> DrugMatch | None:
    """The first (most specific) drug named in a request, or None."""
    vocab = _drugs()
    hits, joined = _scan(text, vocab)
    specific = [k for k, h in enumerate(hits) if not h.drug.placeholder]
    if not specific:
        if not hits:
            return None
        only = hits[0].drug  # a placeholder: "compound cream"
        return DrugMatch(only.generic, _written(text, hits[0], joined), only.drug_class)
    k = specific[0]
    parts, ingredients = [hits[k]], hits[k].drug.generic.split("/")
    unknown: list[compounds.Unknown] = []
    topical: bool | None = None  # computed when first needed
    for nxt in hits[k + 1 :] if not hits[k].brand else ():
        if nxt.brand or nxt.drug.placeholder:
            break
        sep, listed = _separator(text, parts[-1].end, nxt.start), None
        if sep is None:
            topical = is_topical(text) if topical is None else topical
            listed = compounds.between(text, parts[-1].end, nxt.start, topical)
            if listed is None:
                break
        more = [g for g in nxt.drug.generic.split("/") if g not in ingredients]
        if sep == "weak" and frozenset(ingredients + more) not in vocab.combos:
            topical = is_topical(text) if topical is None else topical
            if not topical:
                break
        parts.append(nxt)
        unknown += listed or []
        ingredients += [u.generic for u in listed or () if u.generic not in ingredients] + more
    head, rest = text[: parts[0].start], text[parts[-1].end :]
    in_list = any(c in head or c in rest for c in "/+,&")  # "and" joins only after "," or "/"
    if in_list and not hits[k].brand and ("%" in text or (topical := is_topical(text))):
        # an unknown ingredient needs a % strength or a topical: none in "Norco 10/325 #90"
        topical = is_topical(text) if topical is None else topical
        lead = compounds.before(text, parts[0].start, topical) if head.strip() else []
        tail = compounds.after(text, parts[-1].end, topical) if rest.strip() else []
        unknown = lead + unknown + tail
        ingredients = [u.generic for u in lead] + ingredients + [u.generic for u in tail]
        ingredients = list(dict.fromkeys(ingredients))
    first = parts[0]
    if len(ingredients) == len(first.drug.generic.split("/")):
        after = hits[k + len(parts)].start if k + len(parts) < len(hits) else len(text)
        generic, klass = first.drug.generic, _single_class(text, first, after)
        if generic in _APAP_PARTNERS and _APAP_DOSE().match(text, first.end):
            apap = vocab.combos[frozenset((generic, "acetaminophen"))]
            generic, klass = apap.generic, apap.drug_class
        return DrugMatch(generic, _written(text, first, joined), klass)
    names = [(p.start, _written(text, p, joined)) for p in parts]
    written = "/".join(w for _, w in sorted(names + [(u.start, u.written) for u in unknown]))
    combo = vocab.combos.get(frozenset(ingredients))
    if combo is not None:
        return DrugMatch(combo.generic, written, combo.drug_class)
    topical = is_topical(text) if topical is None else topical
    return DrugMatch("/".join(ingredients), written, _combo_class(ingredients, topical, vocab))


def drug_class(generic: str) -> str | None:
    """The class of a generic (or of any name of a drug); None when unknown."""
    vocab = _drugs()
    key = " ".join(generic.lower().split())
    if row := vocab.generics.get(key) or vocab.names.get(key):
        return row.drug_class
    parts = [p.strip() for p in key.split("/")]
    if len(parts) > 1 and all(p in vocab.generics for p in parts):
        combo = vocab.combos.get(frozenset(parts))
        return combo.drug_class if combo else _combo_class(parts, False, vocab)
    return None


@cache
def _synonyms() -> dict[str, tuple[str, ...]]:
    """drug_synonyms' table, without the name index a search never needs (a third the time)."""
    return _groups(_rows())


def drug_synonyms() -> dict[str, tuple[str, ...]]:
    """Every drug name (lowercase) -> all names of that drug, the generic first."""
    return dict(_synonyms())


def ingredients(drug: str) -> tuple[str, ...]:
    """The ingredients of a drug (generic or any name): "a/b/c" -> ("a", "b", "c")."""
    vocab = _drugs()
    key = " ".join(drug.lower().split())
    row = vocab.names.get(key)
    if row is not None and row.placeholder:
        return ()  # "compound cream" names no ingredient
    generic = row.generic if row is not None else key
    return tuple(dict.fromkeys(p.strip() for p in generic.split("/") if p.strip()))
