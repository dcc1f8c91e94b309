"""Strength and quantity of a request.

Quantity: "#N", else "Qty N", else "N tablets/patches/tubes/sessions/visits...", else frequency
times duration ("2x4", "2 times a week for 4 weeks" -> "8"), else "x N", else a bulk amount
with its unit ("180 g", "120 ml"); never the strength.
"""

from __future__ import annotations

from .lexicon import Rx

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?"
_NUMBER_RUN = Rx(r"[\d.][\d.,]*")
_STRENGTH = Rx(  # matched at the start of a number, on lowercase text
    r"(?P<ratio>\d+(?:\.\d+)?(?:\s*(?:mg)?\s*/\s*\d+(?:\.\d+)?)+)\s*(?P<rmg>mg|mcg)(?![a-z])"
    rf"|(?P<num>{_NUM})\s*(?P<unit>mg|mcg|µg|μg|ug|meq|iu|units?)(?![a-z])"
    r"(?:\s*/\s*(?P<per>hr|hour|h|ml|5\s*ml|day|24\s*hrs?|actuation|spray)(?![a-z]))?"
    rf"|(?P<pct>{_NUM})\s*%"
    r"|(?P<apap>\d+(?:\.\d+)?)\s*[/-]\s*(?P<apap2>300|325|500|650|750)(?![\d/])"
)
_RATIO_SEP = Rx(r"\s*(?:mg)?\s*/\s*")
_PERCENT = Rx(rf"(?<![\d.,])({_NUM})\s*%")
_UNITS = {"µg": "mcg", "μg": "mcg", "ug": "mcg", "meq": "mEq", "iu": "IU", "unit": "units"}
_TYLENOL = Rx(r"tylenol\s*(?:(?:with|w/)\s*codeine\s*)?(?:#|no\.?|number)\s*[1-4]\b")
_HASH = Rx(r"#\s*(\d[\d,]*)")
_QTY = Rx(r"\b(?:qty|quantity|qnty|quant)\.?\s*[:#=]?\s*(?:of\s+)?(\d[\d,]*)")
_COUNT = Rx(
    r"(?<![\d.,/])(\d[\d,]*)\s*(?:x\s*)?(?:tablets?|tabs?|capsules?|caps?|pills?|patch(?:es)?|"
    r"tubes?|bottles?|boxes?|jars?|containers?|packs?|packets?|vials?|syringes?|ampules?|sprays?|"
    r"suppositories?|lozenges?|films?|pens?|inhalers?|kits?|units?|sessions?|visits?|"
    r"treatments?|injections?)\b"
)
_SMALL = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_N = r"(\d{1,2}|once|twice|" + "|".join(_SMALL) + ")"
_TIMES = Rx(
    rf"(?<![\w.]){_N}\s*(?:x|times|visits?|sessions?)?\s*(?:a|per|/|each)?\s*(?:week|wk)(?:s|ly)?"
    rf"\s*(?:for|x|times|over)?\s*{_N}\s*(?:weeks?|wks?)\b"
    r"|(?<![\w.])(\d{1,2})\s*[x×]\s*(\d{1,2})(?!\s*(?:mg|mcg|%|cm|mm|ml|g\b|\.\d|\d))"
)
_TIMES_X = Rx(r"(?<![\w.])[x×]\s*(\d{1,3})(?!\s*(?:mg|mcg|%|\.\d|\d))")
_BULK = Rx(r"(?<![\d.,/])(\d+(?:\.\d+)?)\s*(g|gm|gms|grams?|ml|oz|ounces?)(?![a-z])")
_DIGIT = Rx(r"\d")


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
