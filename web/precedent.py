"""How did cases like mine go? /precedent and /api/precedent: more-like-this over decisions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Blueprint, jsonify, render_template, request

from search.fields import (
    FACET_CATEGORY,
    FACET_DRUG,
    FACET_YEAR,
    OUTCOME_OVERTURNED,
    OUTCOME_UPHELD,
)
from search.model import Determination
from search.results import SearchRequest, SearchResponse
from search.schema import tokenize

from . import urls
from .api import reject_unknown
from .app import current_index
from .charts import wilson
from .plaintext import plain_passage
from .urls import MultiArgs, ParamError, clean_text

bp = Blueprint("precedent", __name__)

MAX_REQUEST: Final = 500  # characters of the request
MAX_SUMMARY: Final = 6000  # characters of the clinical summary or UR denial text
DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 50
PRECEDENT_FILTERS: Final = (FACET_DRUG, FACET_CATEGORY, FACET_YEAR)
# Filters typed with suggestions, not picked from a list: the drug facet has thousands of
# values at scale (5,748 at 300k letters: a <select> of them made the page 566 KB).
TYPED_FILTERS: Final = frozenset((FACET_DRUG,))
SUGGESTED: Final = 300  # a typed filter's suggestions: the values with the most decisions
PARAMS: Final = frozenset(("request", "summary", "limit", *PRECEDENT_FILTERS))
RATIONALE_PREVIEW: Final = 400  # characters shown when no passage matched


@dataclass(frozen=True, slots=True)
class PrecedentQuery:
    """What the user pasted, the filters, and how many decisions to list."""

    request: str = ""
    summary: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT

    @property
    def empty(self) -> bool:
        """True before anything was pasted."""
        return not (self.request or self.summary)

    @property
    def text(self) -> str:
        """The text to match: the request counts twice (it names the disputed item)."""
        return " ".join((self.request, self.request, self.summary))


@dataclass(frozen=True, slots=True)
class Precedent:
    """One similar decision, with the rationale passages that matched."""

    id: str
    ordinal: int
    case_number: str | None
    request: str
    outcome: str | None
    drug: str | None
    category: str | None
    year: int | None
    passages: tuple[str, ...]
    rationale_start: str

    @property
    def url(self) -> str:
        """Permalink of the decision."""
        return urls.determination_url(self.id, f"decision-{self.ordinal}")


@dataclass(frozen=True, slots=True)
class Split:
    """Outcomes of the similar decisions, with the 95% Wilson interval of the overturn rate."""

    overturned: int
    upheld: int

    @property
    def total(self) -> int:
        """Decisions with a stated outcome."""
        return self.overturned + self.upheld

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% Wilson interval of the overturn rate."""
        return wilson(self.overturned, self.total)

    @property
    def rate(self) -> float | None:
        """The overturn rate, None when no decision has an outcome."""
        return self.overturned / self.total if self.total else None


def parse_precedent(args: MultiArgs) -> PrecedentQuery:
    """The PrecedentQuery of a query string; ParamError naming a bad parameter."""

    def text(name: str, limit: int) -> str:
        values = [clean_text(v) for v in args.getlist(name)]
        value = next((v for v in reversed(values) if v), "")
        if len(value) > limit:
            raise ParamError(name, f"is longer than {limit} characters")
        return value

    filters: dict[str, tuple[str, ...]] = {}
    for facet in PRECEDENT_FILTERS:
        values = tuple(dict.fromkeys(v for v in (clean_text(x) for x in args.getlist(facet)) if v))
        if values:
            filters[facet] = values
    raw = (args.getlist("limit") or [str(DEFAULT_LIMIT)])[-1].strip() or str(DEFAULT_LIMIT)
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ParamError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return PrecedentQuery(
        request=text("request", MAX_REQUEST),
        summary=text("summary", MAX_SUMMARY),
        filters=filters,
        limit=int(raw),
    )


def overlap(words: Sequence[str], request_text: str, rationale: str) -> int:
    """How many of the query's words a decision uses (its request counts twice)."""
    req = set(tokenize(request_text))
    rat = set(tokenize(rationale))
    return sum(2 * (w in req) + (w in rat) for w in words)


def precedents(
    resp: SearchResponse, fetch: Any, limit: int, words: Sequence[str] = ()
) -> tuple[list[Precedent], Split]:
    """The `limit` most similar matching decisions, and their outcome split.

    Letters come ranked by the engine; each decision is then ranked by the query words it
    shares, so a letter's other items do not crowd out the item that is alike.
    """
    ranked: list[tuple[int, int, Precedent]] = []
    for rank, hit in enumerate(resp.results):
        record: Determination | None = fetch(hit.id)
        full = {d.ordinal: d for d in record.decisions} if record else {}
        for d in hit.decisions:
            decision = full.get(d.ordinal)
            rationale = " ".join((decision.rationale if decision else "").split())
            found = Precedent(
                id=hit.id,
                ordinal=d.ordinal,
                case_number=hit.case_number,
                request=d.request,
                outcome=d.outcome,
                drug=d.drug,
                category=decision.category if decision else None,
                year=record.year if record else None,
                passages=d.highlights,
                rationale_start=rationale[:RATIONALE_PREVIEW],
            )
            ranked.append((-overlap(words, d.request, rationale), rank, found))
    ranked.sort(key=lambda t: (t[0], t[1], t[2].ordinal))
    out = [p for _, _, p in ranked[:limit]]
    split = Split(
        overturned=sum(p.outcome == OUTCOME_OVERTURNED for p in out),
        upheld=sum(p.outcome == OUTCOME_UPHELD for p in out),
    )
    return out, split


def find_precedents(query: PrecedentQuery) -> tuple[tuple[str, ...], list[Precedent], Split]:
    """Run the more-like-this search of a query: (words used, decisions, split)."""
    if query.empty:
        return (), [], Split(0, 0)
    idx = current_index()
    # Letters hold several decisions: ask for as many letters as decisions wanted.
    words, resp = idx.more_like_text(query.text, query.filters, size=query.limit)
    found, split = precedents(resp, idx.get, query.limit, words)
    return words, found, split


def filter_options() -> dict[str, list[str]]:
    """The values offered for each precedent filter (whole index): a list's values by name,
    a typed filter's suggestions by decisions (the engine's order), the most first."""
    facets = current_index().search(SearchRequest(size=1)).facets
    options = {
        f: list(facets.get(f, {}))[:SUGGESTED] if f in TYPED_FILTERS else sorted(facets.get(f, {}))
        for f in PRECEDENT_FILTERS
    }
    options[FACET_YEAR].reverse()
    return options


def precedent_json(
    query: PrecedentQuery, words: tuple[str, ...], found: list[Precedent], split: Split
) -> dict[str, Any]:
    """The body of /api/precedent."""
    low, high = split.interval
    return {
        "request": query.request,
        "summary": query.summary,
        "filters": {k: list(v) for k, v in query.filters.items()},
        "limit": query.limit,
        "words": list(words),
        "outcomes": {
            OUTCOME_OVERTURNED: split.overturned,
            OUTCOME_UPHELD: split.upheld,
            "total": split.total,
            "overturn_rate": split.rate,
            "interval_95": [low, high] if split.total else None,
        },
        "results": [
            {
                "id": p.id,
                "url": p.url,
                "case_number": p.case_number,
                "decision": p.ordinal,
                "request": p.request,
                "outcome": p.outcome,
                "drug": p.drug,
                "category": p.category,
                "year": p.year,
                "highlights": list(p.passages),
                "highlights_text": [plain_passage(x) for x in p.passages],
            }
            for p in found
        ],
    }


@bp.get("/precedent")
def precedent_page() -> Any:
    """The form, the outcome split of the most similar decisions, and their rationales."""
    query = parse_precedent(request.args)
    words, found, split = find_precedents(query)
    return render_template(
        "precedent.html",
        query=query,
        words=words,
        found=found,
        split=split,
        options=filter_options(),
        ignored=urls.unknown_params(request.args.keys(), PARAMS),
        PRECEDENT_FILTERS=PRECEDENT_FILTERS,
        TYPED_FILTERS=TYPED_FILTERS,
    )


@bp.get("/api/precedent")
def api_precedent() -> Any:
    """The JSON twin of /precedent (400 for unknown parameters)."""
    reject_unknown(PARAMS)
    query = parse_precedent(request.args)
    words, found, split = find_precedents(query)
    return jsonify(precedent_json(query, words, found, split))
