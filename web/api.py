"""JSON twins of the pages: /api/search, /api/facets/<name>, /api/determinations/<id>[/similar]."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from flask import Blueprint, abort, jsonify, request

from search.fields import FACET_OUTCOME, FACETS
from search.results import Hit, SearchResponse

from . import urls
from .app import current_index
from .facetpage import FACET_PARAMS, facet_state
from .plaintext import add_plain_highlights
from .urls import ParamError, parse_params
from .views import FACET_LISTED, bool_arg, charts_for, reader_for, run_search

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_SIMILAR: Final = 50
SIMILAR_PARAMS: Final = frozenset(("same_drug", "same_outcome", "limit"))
SEARCH_API_PARAMS: Final = frozenset((*urls.SEARCH_PARAMS, "facet_size"))
MAX_FACET_SIZE: Final = 10_000


def hits_json(hits: list[Hit]) -> list[dict[str, Any]]:
    """Hits in the same shape as the results of SearchResponse.to_json()."""
    wrapper = SearchResponse(
        query="",
        total_determinations=len(hits),
        total_decisions=0,
        facets={},
        suggestion=None,
        results=tuple(hits),
    )
    results: list[dict[str, Any]] = wrapper.to_json()["results"]
    return add_plain_highlights(public_results(results))


def public_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON results with `source` cut to the file name (server paths stay private)."""
    for result in results:
        result["source"] = urls.public_source(result["source"])
    return results


def reject_unknown(known: frozenset[str] = urls.SEARCH_PARAMS) -> None:
    """400 naming the GET parameters this endpoint does not know (a typo must not be ignored)."""
    unknown = urls.unknown_params(request.args.keys(), known)
    if unknown:
        raise ParamError(
            ", ".join(unknown), "unknown parameter" + ("s" if len(unknown) > 1 else "")
        )


@bp.get("/charts")
def api_charts() -> Any:
    """The numbers of /charts for the same GET parameters (the outcome filter left out)."""
    reject_unknown()
    state = parse_params(request.args)
    base, view = charts_for(current_index(), state)
    return jsonify(
        {
            "query": state.q,
            "filters": {k: list(v) for k, v in base.filters.items()},
            "outcome_filter_ignored": FACET_OUTCOME in state.filters,
            **view.to_json(),
        }
    )


def parse_facet_size(raw: str | None) -> int | None:
    """?facet_size: values listed per facet (default as the page; "all": None, every value)."""
    raw = (raw or "").strip().lower()
    if not raw:
        return FACET_LISTED
    if raw == "all":
        return None
    if not re.fullmatch(r"[0-9]{1,5}", raw) or int(raw) > MAX_FACET_SIZE:
        raise ParamError(
            "facet_size", f'must be a whole number from 0 to {MAX_FACET_SIZE} or "all"'
        )
    return int(raw)


def top_counts(
    counts: Mapping[str, int], selected: tuple[str, ...], size: int | None
) -> dict[str, int]:
    """The `size` values with the most decisions (a tie goes as the engine orders it),
    selected values kept beyond it, in the engine's order."""
    if size is None or len(counts) <= size:
        return dict(counts)
    kept = set(sorted(counts, key=lambda v: -counts[v])[:size]) | set(selected)  # (stable)
    return {v: n for v, n in counts.items() if v in kept}


@bp.get("/search")
def api_search() -> Any:
    """The SearchResponse of the same GET parameters as /search, as JSON; each facet lists
    ?facet_size values (100 by default, as the page), `facet_values_total` says how many
    it has."""
    reject_unknown(SEARCH_API_PARAMS)
    state = parse_params(request.args)
    size = parse_facet_size(request.args.get("facet_size"))
    body = run_search(current_index(), state).to_json()
    facets = body["facets"]
    body["facet_values_total"] = {f: len(facets.get(f, {})) for f in FACETS}
    body["facets"] = {
        f: top_counts(counts, state.filters.get(f, ()), size) for f, counts in facets.items()
    }
    body["results"] = add_plain_highlights(public_results(body["results"]))
    return jsonify(body)


@bp.get("/facets/<name>")
def api_facet(name: str) -> Any:
    """The twin of /facets/<name>: every value of one facet for the search, narrowed by `fq`,
    with its count and whether it is selected, in the page's order."""
    reject_unknown(FACET_PARAMS)
    state, fq, values, shown = facet_state(name)
    return jsonify(
        {
            "facet": name,
            "query": state.q,
            "filters": {k: list(v) for k, v in state.filters.items()},
            "fq": fq,
            "total_values": len(values),
            "matching_values": len(shown),
            "values": [
                {"value": v, "count": n, "selected": state.is_active(name, v)} for v, n in shown
            ],
        }
    )


def _valid_or_404(det_id: str) -> None:
    """404 for malformed ids."""
    if not urls.valid_id(det_id):
        abort(404, description="No determination has this id.")


@bp.get("/determinations/<path:det_id>/similar")
def api_similar(det_id: str) -> Any:
    """Similar determinations (precedent): ?same_drug=1, ?same_outcome=1, ?limit=N (max 50)."""
    _valid_or_404(det_id)
    reject_unknown(SIMILAR_PARAMS)
    raw = (request.args.get("limit") or "10").strip()
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_SIMILAR:
        raise ParamError("limit", f"must be a whole number from 1 to {MAX_SIMILAR}")
    hits = current_index().similar(
        det_id,
        same_drug=bool_arg("same_drug"),
        same_outcome=bool_arg("same_outcome"),
        limit=int(raw),
    )
    if hits is None:
        abort(404, description=f"No determination has the id {det_id}.")
    return jsonify({"id": det_id, "results": hits_json(hits)})


@bp.get("/determinations/<path:det_id>")
def api_determination(det_id: str) -> Any:
    """The parsed record (Determination.to_dict()); with search parameters, what matched."""
    _valid_or_404(det_id)
    reject_unknown()
    state = parse_params(request.args)
    idx = current_index()
    record = idx.get(det_id)
    if record is None:
        abort(404, description=f"No determination has the id {det_id}.")
    data = record.to_dict()
    data["source"] = urls.public_source(record.source)
    if not state.is_browse:  # arriving from a search: what of this letter it matched
        reader = reader_for(idx, record, state)
        data["search"] = {
            "query": state.q,
            "filters": {k: list(v) for k, v in state.filters.items()},
            "scope": state.scope,
            "literal": state.literal,
            "matching_decisions": list(reader.matched or ()),
            "first_match": reader.first_anchor,
            "highlights": reader.marks,
            "results_url": urls.state_url(state),
            "url": urls.reader_url(det_id, state, reader.first_anchor),
        }
    return jsonify(data)
