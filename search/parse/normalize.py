"""Normalization of request, credential and guideline text: drugs, states, specialties, pages.

Pure functions over the vocabularies in ``search/parse/data`` (drugs.tsv, states.json,
specialties.json, guidelines.json, categories.json), each loaded once, on first use.

* Drugs: generics are lowercase; combinations join ingredients with "/" (USP order for known
  products: "hydrocodone/acetaminophen", "acetaminophen/codeine"; else as written). Kits of
  compounded topicals (Terocin, LidoPro, Medrox, Menthoderm...) map to their ingredients, class
  "compounded topical"; "compound cream" naming no ingredient gives generic "compounded topical".
  Unknown combinations are "compounded topical" when topical (cream/gel/% written, or usual
  compound ingredients only), else "combination". One NSAID or local anesthetic written with a
  cream, gel, % or patch is "topical NSAID" / "topical anesthetic"; another usual compound
  ingredient in a cream/gel/% is "compounded topical". Hydrocodone, oxycodone, codeine or
  tramadol followed by "N/325" (300, 325, 500, 650, 750) is the acetaminophen combination.
* Quantity: "#N", else "Qty N", else "N tablets/patches/tubes/sessions/visits...", else
  frequency times duration ("2x4", "2 times a week for 4 weeks" -> "8"), else "x N", else a bulk
  amount with its unit ("180 g", "120 ml"); never the strength.
* Specialties: ABMS names, US spelling, "and" for "&": "Orthopedic Surgery", "Family Medicine",
  "Physical Medicine and Rehabilitation"; "Acupuncture and Pain Medicine" is one specialty.
* categorize trusts its drug argument (None: no drug); procedure words (epidural, facet, trigger
  point, urine drug screen...) outrank a drug, see the rule order in categories.json.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple

from ..fields import CATEGORIES

_DATA = __name__.rpartition(".")[0] + ".data"


class _Rx:
    """A regular expression compiled on first use (keeps the module quick to import)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def __call__(self) -> re.Pattern[str]:
        """The compiled pattern."""
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled


_WORD = _Rx(r"[A-Za-z0-9]+")
_NAME_GAP = _Rx(r"[\s\-/.#&+]{1,4}")


def _wordset(words: str) -> frozenset[str]:
    """The set of the space-separated words."""
    return frozenset(words.split())


_SALTS = _wordset(
    "hcl hci hydrochloride sodium potassium bitartrate tartrate sulfate sulphate citrate maleate "
    "succinate besylate mesylate phosphate acetate cypionate enanthate epolamine mg mcg"
)
_RELEASE = _wordset("er xr cr sr xl la ds dr ec odt ir xt")
_JOIN_WORDS = _wordset("and with w plus")
_APAP_PARTNERS = _wordset("hydrocodone oxycodone codeine tramadol")
_APAP_DOSE = _Rx(
    r"[\s\w]{0,20}?(?<![\d.])\d+(?:\.\d+)?\s*(?:mg)?\s*[/-]\s*(?:300|325|500|650|750)(?!\d)"
)
_TOPICAL_CLASSES = frozenset(
    ["topical NSAID", "topical anesthetic", "topical analgesic", "compounded topical"]
)
_TO_TOPICAL = {"NSAID": "topical NSAID", "local anesthetic": "topical anesthetic"}
_FORM = _Rx(
    r"(?<![a-z])(?:creams?|gels?|ointments?|lotions?|topicals?|compound(?:ed|s)?|rub|balm|"
    r"liniment|emulgel)(?![a-z])|\d\s*%",
    re.I,
)
_PATCH = _Rx(r"(?<![a-z])(?:patch(?:es)?|transdermal)(?![a-z])", re.I)
_COMPOUND_BEFORE = _Rx(r"(?<![a-z])(?:compound|topical|transdermal)", re.I)
_INJECT = _Rx(r"inject|(?<![a-z])(?:inj|im|iv)(?![a-z])", re.I)
_HYPHEN_BREAK = _Rx(r"(?<=[A-Za-z])-\s+(?=[A-Za-z])")


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
    synonyms: dict[str, tuple[str, ...]]


def _read(name: str) -> str:
    """Text of a data file of the package (imported here: keeps the module quick to import)."""
    from importlib import resources

    return resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")


def _json(name: str) -> Any:
    """A JSON data file of the package."""
    import json

    return json.loads(_read(name))


@cache
def _drugs() -> _Drugs:
    """The drug vocabulary, indexed by the first word of every name."""
    index: dict[str, list[tuple[tuple[str, ...], _Drug, bool]]] = {}
    generics: dict[str, _Drug] = {}
    names: dict[str, _Drug] = {}
    written: dict[str, list[str]] = {}
    for line in _read("drugs.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        generic, klass, flags, aliases, brands = line.split("\t")
        drug = _Drug(generic, klass, "t" in flags, "p" in flags)
        generics.setdefault(generic, drug)
        group = written.setdefault(generic, [generic])
        rows = [(generic, False)] + [(a, False) for a in aliases.split("|") if a != "-"]
        for name, brand in rows + [(b, True) for b in brands.split("|") if b != "-"]:
            lower = " ".join(name.lower().split())
            names.setdefault(lower, drug)
            group += [] if lower in group else [lower]
            for variant in [lower, lower + "es"] if lower.endswith("patch") else [lower]:
                words = tuple(_WORD().findall(variant))
                if words and all(words != w for w, _, _ in index.get(words[0], ())):
                    index.setdefault(words[0], []).append((words, drug, brand))
    combos: dict[frozenset[str], _Drug] = {}
    for drug in generics.values():
        if "/" in drug.generic:
            combos.setdefault(frozenset(drug.generic.split("/")), drug)
    synonyms = {name: tuple(group) for group in written.values() for name in group}
    by_length = {k: tuple(sorted(v, key=lambda c: -len(c[0]))) for k, v in index.items()}
    return _Drugs(by_length, generics, names, combos, synonyms)


def _scan(text: str, vocab: _Drugs) -> tuple[list[_Hit], set[int]]:
    """Every drug name in the text, left to right, longest first; and hyphen-joined hits."""
    index = vocab.by_word
    words = " ".join(_WORD().findall(text)).lower().split()
    if index.keys().isdisjoint(words) and not (
        "-" in text and any(a + b in index for a, b in pairwise(words))
    ):
        return [], set()  # the usual service request: no span work at all
    starts, ends = [], []
    for m in _WORD().finditer(text):
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
    for word in _WORD().findall(gap.lower()):
        if word in _JOIN_WORDS:
            weak = True
        elif not (word[0].isdigit() or word in _SALTS or word in _RELEASE):
            return None
    punct = _WORD().sub("", gap)
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


def _topical(text: str) -> bool:
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
    topical: bool | None = None  # computed when first needed
    for nxt in hits[k + 1 :] if not hits[k].brand else ():
        sep = _separator(text, parts[-1].end, nxt.start)
        if nxt.brand or nxt.drug.placeholder or sep is None:
            break
        more = [g for g in nxt.drug.generic.split("/") if g not in ingredients]
        if sep == "weak" and frozenset(ingredients + more) not in vocab.combos:
            topical = _topical(text) if topical is None else topical
            if not topical:
                break
        parts.append(nxt)
        ingredients += more
    first = parts[0]
    if len(ingredients) == len(first.drug.generic.split("/")):
        after = hits[k + len(parts)].start if k + len(parts) < len(hits) else len(text)
        generic, klass = first.drug.generic, _single_class(text, first, after)
        if generic in _APAP_PARTNERS and _APAP_DOSE().match(text, first.end):
            apap = vocab.combos[frozenset((generic, "acetaminophen"))]
            generic, klass = apap.generic, apap.drug_class
        return DrugMatch(generic, _written(text, first, joined), klass)
    written = "/".join(_written(text, p, joined) for p in parts)
    combo = vocab.combos.get(frozenset(ingredients))
    if combo is not None:
        return DrugMatch(combo.generic, written, combo.drug_class)
    topical = _topical(text) if topical is None else topical
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


def drug_synonyms() -> dict[str, tuple[str, ...]]:
    """Every drug name (lowercase) -> all names of that drug, the generic first."""
    return dict(_drugs().synonyms)


# --- states ------------------------------------------------------------------------------

_STATE_PREFIX = _Rx(r"^\s*(?:the\s+)?(?:state|commonwealth)\s+of\s+", re.I)
_STATE_LIST_SEP = _Rx(r"\s*(?:[,;/&\n]|\band\b)\s*", re.I)
_LAST_IN = _Rx(r".*\b(?:in|of)\s", re.S)


def _squash(text: str) -> str:
    """Letters only, lowercase: "N. Y." -> "ny"."""
    return "".join(c for c in text.lower() if "a" <= c <= "z")


@cache
def _states() -> tuple[dict[str, str], re.Pattern[str]]:
    """(squashed name, code or abbreviation -> name; pattern of names in prose)."""
    by_key: dict[str, str] = {}
    prose: list[str] = []
    for s in _json("states.json")["states"]:
        for name in [s["name"], s["usps"], *s["abbreviations"], *s["text"]]:
            by_key.setdefault(_squash(name), s["name"])
        prose += [s["name"], *s["text"]]
    body = "|".join(r"[\s,]+".join(map(re.escape, p.split())) for p in sorted(prose, key=len)[::-1])
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

_SPECIALTY_PREFIX = _Rx(
    r"^(?:\W|(?:is|and|has|a|an|in|the|with|of|board|certified|certification|specialty|"
    r"specialties|subspecialty|sub-specialty|subspecialties)\b)+",
    re.I,
)
_SPECIALTY_PHRASE = _Rx(
    r"\b(?:(?:and\s+)?(?:has|with)\s+(?:an?\s+)?sub-?specialt(?:y|ies)(?:\s+(?:in|of))?|"
    r"sub-?specialt(?:y|ies)\s*(?:in|of|:)?|(?:is\s+)?board[-\s]+certified\s+(?:in\s+)?|"
    r"certified\s+in|as\s+well\s+as|specialt(?:y|ies)\s*:)",
    re.I,
)
_SPECIALTY_SEP = _Rx(r"\s*(?:[,;/&+\n]|\band\b|\bwith\b)\s*", re.I)
_SMALL_WORDS = _wordset("and of in the for with on to")


def _specialty_key(text: str) -> str:
    """Lowercase words, "&" as "and", punctuation dropped."""
    return " ".join(_WORD().findall(text.lower().replace("&", " and ")))


@cache
def _specialties() -> tuple[dict[str, str], re.Pattern[str]]:
    """(key of every name and variant -> canonical name; pattern of them, longest first)."""
    by_key: dict[str, str] = {}
    for canonical, variants in _json("specialties.json")["specialties"].items():
        for name in [canonical, *variants]:
            by_key.setdefault(_specialty_key(name), canonical)
    parts = [
        r"[\s\-/&.,]*".join("(?:and|&)" if w == "and" else re.escape(w) for w in key.split())
        for key in sorted(by_key, key=len, reverse=True)
    ]
    return by_key, re.compile(rf"(?<![A-Za-z])(?:{'|'.join(parts)})(?![A-Za-z])", re.I)


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
    """The canonical name of a specialty; an unknown one title-cased and cleaned."""
    cleaned = _SPECIALTY_PREFIX().sub("", " ".join(text.split())).strip(" .,;:-")
    return _specialties()[0].get(_specialty_key(cleaned)) or _title(cleaned)


def split_specialties(text: str) -> tuple[str, ...]:
    """The specialties of a credential line, each normalized, in order, without repeats."""
    flat = _SPECIALTY_PHRASE().sub(";", " ".join(text.split()))
    known = [m.span() for m in _specialties()[1].finditer(flat)]
    cuts = [0]
    for m in _SPECIALTY_SEP().finditer(flat):
        if not any(a < m.end() and m.start() < b for a, b in known):
            cuts += [m.start(), m.end()]
    cuts.append(len(flat))
    pieces = (normalize_specialty(flat[a:b]) for a, b in zip(cuts[::2], cuts[1::2], strict=True))
    return tuple(dict.fromkeys(p for p in pieces if p))


# --- guidelines and pages ----------------------------------------------------------------

_COMMON_WORDS = _wordset(
    "guidelines guideline treatment medical pain practice of and the american official work"
)
_NON_BEFORE = _Rx(r"non[-\s]*$")
_PAGE_ITEM = r"\d{1,3}(?:\s*[-–—]\s*\d{1,3})?"
_PAGE_LIST_SEP = _Rx(r"\s*(?:,|and|&)\s*")
_PAGE_DASH = _Rx(r"\s*[-–—]\s*")
_PAGES = _Rx(  # "(?<![a-z])p..." written "p(?<![a-z]p)...": a search skips from p to p
    rf"p(?<![a-z]p)(?:age\s*\(s\)|ages?|gs?|p?)\.?\s*:?\s*"
    rf"({_PAGE_ITEM}(?:\s*(?:,|and|&)\s*{_PAGE_ITEM})*)(?![\d/])(?!\s*of\s+\d)"
)


@cache
def _guidelines() -> tuple[tuple[str, tuple[tuple[str, re.Pattern[str], int], ...]], ...]:
    """Per source, its names grouped by a distinctive word: (word, pattern, window)."""
    out = []
    for source, names in _json("guidelines.json")["sources"].items():
        groups: dict[str, list[str]] = {}
        for name in names:
            words = _WORD().findall(name.lower())
            key = max([w for w in words if w not in _COMMON_WORDS] or words, key=len)
            groups.setdefault(key, []).append(r"\s+".join(map(re.escape, name.lower().split())))
        keyed = []
        for key, bodies in groups.items():  # (?<![a-z]) after the first letter: a fast search
            alts = [f"{b[0]}(?<![a-z]{b[0]}){b[1:]}" if b[:1].isalpha() else f"(?<![a-z]){b}"
                    for b in sorted(bodies, key=len, reverse=True)]  # fmt: skip
            pattern = re.compile(rf"(?:{'|'.join(alts)})s?(?![a-z])")
            keyed.append((key, pattern, 4 * max(map(len, bodies)) + 40))
        out.append((source, tuple(keyed)))
    return tuple(out)


def _negated(lower: str, start: int) -> bool:
    """True for "Non-MTUS" and "did not base their decision on the MTUS"."""
    before = lower[max(0, start - 160) : start]
    if _NON_BEFORE().search(before[-8:]):
        return True
    sentence = before[before.rfind(".") + 1 :]
    return "not base" in sentence or "not rely" in sentence


def _cited(lower: str, key: str, pattern: re.Pattern[str], window: int) -> bool:
    """True when a name of a guideline occurs, not negated (found by its distinctive word)."""
    at = lower.find(key)
    while at >= 0:
        end = min(len(lower), at + window)
        for m in pattern.finditer(lower, max(0, at - window), end):
            if (m.end() < end or end == len(lower)) and not _negated(lower, m.start()):
                return True
        at = lower.find(key, end)
    return False


def guideline_sources(text: str) -> tuple[str, ...]:
    """The guideline sources cited ("MTUS", "ODG", "ACOEM"), in that order."""
    lower = text.lower()
    out: list[str] = []
    for source, keyed in _guidelines():
        for key, pattern, window in keyed:
            if key in lower and _cited(lower, key, pattern, window):
                out.append(source)
                break
    return tuple(out)


def mtus_pages(text: str) -> tuple[str, ...]:
    """Page numbers and ranges cited ("Page(s): 78, 91" -> ("78", "91")), in order."""
    out: list[str] = []
    for m in _PAGES().finditer(text.lower()):  # (a fast search: _PAGES opens with a plain "p")
        out += [_PAGE_DASH().sub("-", item) for item in _PAGE_LIST_SEP().split(m[1])]
    return tuple(dict.fromkeys(out))


# --- strength and quantity ---------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?"
_NUMBER_RUN = _Rx(r"[\d.][\d.,]*")
_STRENGTH = _Rx(  # matched at the start of a number, on lowercase text
    r"(?P<ratio>\d+(?:\.\d+)?(?:\s*(?:mg)?\s*/\s*\d+(?:\.\d+)?)+)\s*(?P<rmg>mg|mcg)(?![a-z])"
    rf"|(?P<num>{_NUM})\s*(?P<unit>mg|mcg|µg|μg|ug|meq|iu|units?)(?![a-z])"
    r"(?:\s*/\s*(?P<per>hr|hour|h|ml|5\s*ml|day|24\s*hrs?|actuation|spray)(?![a-z]))?"
    rf"|(?P<pct>{_NUM})\s*%"
    r"|(?P<apap>\d+(?:\.\d+)?)\s*[/-]\s*(?P<apap2>300|325|500|650|750)(?![\d/])"
)
_RATIO_SEP = _Rx(r"\s*(?:mg)?\s*/\s*")
_PERCENT = _Rx(rf"(?<![\d.,])({_NUM})\s*%")
_UNITS = {"µg": "mcg", "μg": "mcg", "ug": "mcg", "meq": "mEq", "iu": "IU", "unit": "units"}
_TYLENOL = _Rx(r"tylenol\s*(?:(?:with|w/)\s*codeine\s*)?(?:#|no\.?|number)\s*[1-4]\b")
_HASH = _Rx(r"#\s*(\d[\d,]*)")
_QTY = _Rx(r"\b(?:qty|quantity|qnty|quant)\.?\s*[:#=]?\s*(?:of\s+)?(\d[\d,]*)")
_COUNT = _Rx(
    r"(?<![\d.,/])(\d[\d,]*)\s*(?:x\s*)?(?:tablets?|tabs?|capsules?|caps?|pills?|patch(?:es)?|"
    r"tubes?|bottles?|boxes?|jars?|containers?|packs?|packets?|vials?|syringes?|ampules?|sprays?|"
    r"suppositories?|lozenges?|films?|pens?|inhalers?|kits?|units?|sessions?|visits?|"
    r"treatments?|injections?)\b"
)
_SMALL = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_N = r"(\d{1,2}|once|twice|" + "|".join(_SMALL) + ")"
_TIMES = _Rx(
    rf"(?<![\w.]){_N}\s*(?:x|times|visits?|sessions?)?\s*(?:a|per|/|each)?\s*(?:week|wk)(?:s|ly)?"
    rf"\s*(?:for|x|times|over)?\s*{_N}\s*(?:weeks?|wks?)\b"
    r"|(?<![\w.])(\d{1,2})\s*[x×]\s*(\d{1,2})(?!\s*(?:mg|mcg|%|cm|mm|ml|g\b|\.\d|\d))"
)
_TIMES_X = _Rx(r"(?<![\w.])[x×]\s*(\d{1,3})(?!\s*(?:mg|mcg|%|\.\d|\d))")
_BULK = _Rx(r"(?<![\d.,/])(\d+(?:\.\d+)?)\s*(g|gm|gms|grams?|ml|oz|ounces?)(?![a-z])")
_DIGIT = _Rx(r"\d")


def _number(text: str) -> str:
    """A number as written, without thousands separators or a bare leading dot."""
    text = text.replace(",", "")
    return "0" + text if text.startswith(".") else text


def parse_strength(text: str) -> str | None:
    """The strength of a request ("4 mg", "10/325 mg", "1%", "20%/10%", "5 mcg/hr"), or None."""
    lower = text.lower()
    for run in _NUMBER_RUN().finditer(lower):
        start = run.start()
        m = None if start and lower[start - 1] in ",/" else _STRENGTH().match(lower, start)
        if m is None or not any(c.isdigit() for c in m.group()):
            continue
        if m["ratio"]:
            return "/".join(_RATIO_SEP().split(m["ratio"])) + " " + m["rmg"]
        if m["apap"]:
            return f"{m['apap']}/{m['apap2']} mg"
        if m["unit"]:
            per = " ".join((m["per"] or "").split())
            per = "/" + {"hour": "hr", "h": "hr"}.get(per, per) if per else ""
            return f"{_number(m['num'])} {_UNITS.get(m['unit'], m['unit'])}{per}"
        pcts = [_number(p) for p in _PERCENT().findall(lower) if any(c.isdigit() for c in p)]
        return "/".join(f"{p}%" for p in pcts)
    return None


def _count(word: str) -> int:
    """A small number written as digits or a word."""
    if word.isdigit():
        return int(word)
    return {"once": 1, "twice": 2}.get(word) or _SMALL.index(word) + 1


def parse_quantity(text: str) -> str | None:
    """The quantity of a request ("#30", "Qty: 60", "30 Tablets", "2x4" -> "8"), or None."""
    lower = text.lower()
    if not _DIGIT().search(lower) and "week" not in lower:
        return None
    lower = _TYLENOL().sub(" ", lower) if "tylenol" in lower else lower
    for pattern in (_HASH, _QTY, _COUNT):
        if m := pattern().search(lower):
            return m[1].replace(",", "")
    if m := _TIMES().search(lower):
        a, b = (g for g in m.groups() if g)
        return str(_count(a) * _count(b))
    if m := _TIMES_X().search(lower):
        return m[1]
    if m := _BULK().search(lower):
        return f"{m[1]} {'g' if m[2][0] == 'g' else 'oz' if m[2][0] == 'o' else 'ml'}"
    return None


# --- categories ----------------------------------------------------------------------------

_PIECE = _Rx(r"[A-Za-z]+|[0-9]+|%")
_RELEASE_WORDS = _Rx(r" (?:extended|sustained|controlled|immediate|delayed) release ")


def _phrase(phrase: str) -> str:
    """The pattern of a categories.json phrase over a text's words joined by single spaces."""
    body = phrase.removeprefix("=")
    words = _PIECE().findall(body if phrase.startswith("=") else body.lower())
    star = "[A-Za-z]*" if phrase.startswith("=") else "[a-z]*"
    head, tail = star if body.startswith("*") else "", star if body.endswith("*") else ""
    return head + " ".join(map(re.escape, words)) + tail


_Rule = tuple[str | None, frozenset[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]


@cache
def _rules() -> tuple[_Rule, ...]:
    """(category, first two letters of its phrases, pattern of lowercase phrases, of exact ones)."""
    out: list[_Rule] = []
    for rule in _json("categories.json")["rules"]:
        category = None if rule.get("drug") else rule["category"]
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"categories.json: unknown category {category!r}")
        phrases = rule.get("phrases", [])
        stems = {_PIECE().findall(p.lower())[0][:2] for p in phrases if not p.startswith("*")}
        loose = [_phrase(p) for p in phrases if not p.startswith("=")]
        exact = [_phrase(p) for p in phrases if p.startswith("=")]
        loose_rx, exact_rx = (
            re.compile(f" (?:{'|'.join(p)})(?= )") if p else None for p in (loose, exact)
        )
        wild = any(p.startswith("*") for p in phrases)
        out.append((category, None if wild else frozenset(stems), loose_rx, exact_rx))
    return tuple(out)


def categorize(text: str, drug: str | None) -> str:
    """The service category of a request (one of fields.CATEGORIES), given its drug if any."""
    original = " " + " ".join(_PIECE().findall(text)) + " "
    lower = original.lower()
    if " release " in lower:
        lower = _RELEASE_WORDS().sub(" ", lower)  # "extended release" is a tablet, not a surgery
    stems = {w[:2] for w in lower.split()}
    for category, firsts, loose, exact in _rules():
        if category is None:
            if drug:
                return "medication"
        elif firsts is not None and firsts.isdisjoint(stems):
            continue
        elif (loose and loose.search(lower)) or (exact and exact.search(original)):
            return category
    return "other"
