"""HTML pages: search, determination, charts, and the CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from search.engine.searcher import highlight_terms, understood_request
from search.fields import (
    AGE_BANDS,
    DEFAULT_PAGE_SIZE,
    FACET_AGE,
    FACET_OUTCOME,
    FACET_YEAR,
    FACETS,
    MAX_PAGE,
    OUTCOME_OVERTURNED,
    OUTCOMES,
    SCOPE_AUTO,
    SCOPE_DECISION,
    SCOPE_LETTER,
)
from search.model import Determination
from search.results import Hit, QueryError, SearchRequest, SearchResponse
from search.understand import merge_filters, understand, without_facet

from . import urls
from .app import current_index, heavy_turn, server_busy
from .charts import ChartsView, build_view
from .export import csv_lines, export_filename
from .reader import Reader, build_reader
from .urls import ParamError, SearchState, parse_params

if TYPE_CHECKING:
    from search.engine.searcher import SearchIndex

bp = Blueprint("views", __name__)

FACET_VISIBLE: Final = 8  # values shown before "more"
FACET_LISTED: Final = 100  # values a facet lists in the page; the rest on /facets/<name>
SCOPE_CHOICES: Final = (
    (SCOPE_AUTO, "Auto: drug and service names in their decision"),
    (SCOPE_DECISION, "Decision only"),
    (SCOPE_LETTER, "Whole letter"),
)
SIMILAR_LIMIT: Final = 10


def to_request(state: SearchState, **changes: Any) -> SearchRequest:
    """The engine request of a page state."""
    req = SearchRequest(
        q=state.q,
        filters=dict(state.filters),
        sort=state.sort,
        page=state.page,
        size=state.size,
        scope=state.scope,
        literal=state.literal,
        count_elsewhere=True,  # the page and its JSON twin say "also mentioned in N letters"
    )
    return replace(req, **changes) if changes else req


def facet_values(
    facet: str, counts: Mapping[str, int], state: SearchState
) -> list[tuple[str, int]]:
    """(value, count) pairs to list, selected values always included, in display order."""
    merged = dict(counts)
    for value in state.filters.get(facet, ()):
        merged.setdefault(value, 0)
    if facet == FACET_OUTCOME:
        rank = {v: i for i, v in enumerate(OUTCOMES)}
        keys = sorted(merged, key=lambda v: (rank.get(v, len(rank)), v))
    elif facet == FACET_YEAR:
        keys = sorted(merged, key=lambda v: v, reverse=True)
    elif facet == FACET_AGE:
        rank = {label: i for i, (label, _, _) in enumerate(AGE_BANDS)}
        keys = sorted(merged, key=lambda v: (rank.get(v, len(rank)), v))
    else:
        keys = sorted(merged, key=lambda v: (not state.is_active(facet, v), -merged[v], v.lower()))
    return [(k, merged[k]) for k in keys]


def bool_arg(name: str) -> bool:
    """A yes/no GET parameter ("1", "true", "on", "yes" / "", "0", "false", "off", "no")."""
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "off", "no"):
        return False
    if raw in ("1", "true", "on", "yes"):
        return True
    raise ParamError(name, "must be 1 or 0")


def run_search(idx: SearchIndex, state: SearchState) -> SearchResponse:
    """The engine's response for a page state."""
    resp: SearchResponse = idx.search(to_request(state))
    return resp


@bp.get("/")
@bp.get("/search")
def search_page() -> Any:
    """The search page: form, facets, chips, results, pager (and the browse view with no query)."""
    state = parse_params(request.args)
    idx = current_index()
    try:
        resp = run_search(idx, state)
    except QueryError as exc:
        if server_busy(exc):
            raise  # 503 with Retry-After (the app's handler)
        return render_template("search.html", state=state, resp=None, error=str(exc)), 400
    # The engine counts each facet under the other facets' filters (values of one facet OR).
    # Values read from the words show as ticked; unticking one removes its words from q.
    understood = resp.interpreted
    chips = understood.chips if understood else ()
    read = {(c.facet, c.value.casefold()): urls.query_url(state, c.without) for c in chips}
    shown = state
    if understood:
        shown = replace(state, filters=merge_filters(state.filters, understood.filters))
    facets = {f: facet_values(f, resp.facets.get(f, {}), shown) for f in FACETS}
    would = understand(state.q) if state.literal else None
    return render_template(
        "search.html",
        state=state,
        ignored=urls.unknown_params(request.args.keys()),
        resp=resp,
        error=None,
        facets=facets,
        SCOPE_CHOICES=SCOPE_CHOICES,
        read=read,
        would=would if would is not None and would.interpreted else None,
        facet_visible=FACET_VISIBLE,
        facet_listed=FACET_LISTED,
        export_url=urls.state_url(replace(state, page=1), "/search.csv"),
        charts_url=urls.state_url(replace(state, page=1, size=DEFAULT_PAGE_SIZE), "/charts"),
    )


def _record_or_404(det_id: str) -> tuple[SearchIndex, Determination]:
    """The index and the record of a valid, known id, else 404."""
    if not urls.valid_id(det_id):
        abort(404, description="No determination has this id.")
    idx = current_index()
    record = idx.get(det_id)
    if record is None:
        abort(404, description=f"No determination has the id {det_id}.")
    return idx, record


def reader_for(idx: SearchIndex, record: Determination, state: SearchState) -> Reader:
    """The record as a reader; arriving from a search, its matching decisions and words marked.

    A query the engine refuses reads the letter unmarked (the search page explains the error).
    """
    if state.is_browse:
        return build_reader(record)
    try:
        req = to_request(state)
        matched = idx.matching_ordinals(record.id, req)
        terms = highlight_terms(*understood_request(req))
    except QueryError:
        return build_reader(record)
    return build_reader(record, terms, matched or ())


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon where browsers look for it by default."""
    return current_app.send_static_file("favicon.svg")


@bp.get("/determinations/<path:det_id>")
def determination_page(det_id: str) -> Any:
    """One determination: decisions, letter sections with anchors, similar determinations."""
    same_drug = bool_arg("same_drug")
    same_outcome = bool_arg("same_outcome")
    state = parse_params(request.args)
    idx, record = _record_or_404(det_id)
    similar = idx.similar(
        det_id, same_drug=same_drug, same_outcome=same_outcome, limit=SIMILAR_LIMIT
    )
    return render_template(
        "determination.html",
        record=record,
        reader=reader_for(idx, record, state),
        state=state,
        results_url=None if state.is_browse else urls.state_url(state),
        similar=similar or [],
        same_drug=same_drug,
        same_outcome=same_outcome,
    )


def all_hits(idx: SearchIndex, first: SearchResponse, req: SearchRequest) -> Iterator[Hit]:
    """Every hit of a search, page after page, starting from the first page's response."""
    yield from first.results
    page = 2
    while page <= min(first.pages, MAX_PAGE):
        with heavy_turn():  # each page takes its turn with the heavy requests
            resp = idx.search(replace(req, page=page))
        if not resp.results:
            return
        yield from resp.results
        page += 1


@bp.get("/search.csv")
def export_csv() -> Response:
    """All matching decisions as CSV (streamed, capped at EXPORT_MAX_ROWS rows)."""
    state = parse_params(request.args)
    idx = current_index().pinned()  # every page from one committed state, whatever refreshes
    req = to_request(state, page=1, size=int(current_app.config["EXPORT_PAGE_SIZE"]))
    first = idx.search(req)  # a QueryError here is still a clean 400
    max_rows = int(current_app.config["EXPORT_MAX_ROWS"])
    lines = csv_lines(all_hits(idx, first, req), idx.get, request.host_url, max_rows)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(state)}"'
    response.headers["X-Total-Decisions"] = str(first.total_decisions)
    if first.total_decisions > max_rows:
        response.headers["X-Export-Truncated"] = f"first {max_rows} rows"
    return response


def charts_for(idx: SearchIndex, state: SearchState) -> tuple[SearchState, ChartsView]:
    """The charts of a search with its outcome filter left out (each chart compares both)."""
    base_filters = {f: v for f, v in state.filters.items() if f != FACET_OUTCOME}
    # An outcome word of the query ("overturned") is an outcome filter too: left out.
    q = state.q if state.literal else without_facet(state.q, FACET_OUTCOME)
    base = replace(state, q=q, filters=base_filters, page=1)
    everything = idx.search(to_request(base, size=1))
    overturned = idx.search(
        to_request(base, size=1, filters={**base_filters, FACET_OUTCOME: (OUTCOME_OVERTURNED,)})
    )
    return base, build_view(everything.facets, overturned.facets, OUTCOME_OVERTURNED)


@bp.get("/charts")
def charts_page() -> Any:
    """Overturn rates (count, 95% interval) per facet value and by year for the current search."""
    state = parse_params(request.args)
    try:
        base, view = charts_for(current_index(), state)
    except QueryError as exc:
        if server_busy(exc):
            raise  # 503 with Retry-After (the app's handler)
        return render_template("charts.html", state=state, error=str(exc), view=None), 400
    return render_template(
        "charts.html",
        state=state,
        base=base,
        error=None,
        view=view,
        ignored_outcome=FACET_OUTCOME in state.filters,
        search_url=urls.state_url(replace(state, page=1)),
        api_url=urls.state_url(replace(state, page=1), "/api/charts"),
    )
