"""JSON twins of the pages: /api/search, /api/determinations/<id>[/similar]."""

from __future__ import annotations

import re
from typing import Any, Final

from flask import Blueprint, abort, jsonify, request

from search.fields import FACET_OUTCOME
from search.results import Hit, SearchResponse

from . import urls
from .app import current_index
from .plaintext import add_plain_highlights
from .urls import ParamError, parse_params
from .views import bool_arg, charts_for, reader_for, run_search

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_SIMILAR: Final = 50
SIMILAR_PARAMS: Final = frozenset(("same_drug", "same_outcome", "limit"))


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


@bp.get("/search")
def api_search() -> Any:
    """The SearchResponse of the same GET parameters as /search, as JSON."""
    reject_unknown()
    state = parse_params(request.args)
    body = run_search(current_index(), state).to_json()
    body["results"] = add_plain_highlights(public_results(body["results"]))
    return jsonify(body)


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
