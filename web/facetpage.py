"""A long facet list searched without JavaScript: /facets/<name>?<search state>&fq=<text>."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, abort, render_template, request

from search.fields import FACETS
from search.results import QueryError

from . import urls
from .app import current_index, server_busy
from .urls import MAX_VALUE_LENGTH, ParamError, SearchState, clean_text, parse_params

bp = Blueprint("facetpage", __name__)

FACET_PARAMS: Final = frozenset((*urls.SEARCH_PARAMS, "fq"))
PAGE_VALUES: Final = 1000  # values one page lists, most frequent first (fq finds the others)


def matching_values(values: list[tuple[str, int]], fq: str) -> list[tuple[str, int]]:
    """The (value, count) pairs whose value contains every word of fq (case-insensitive)."""
    words = fq.casefold().split()
    return [(v, n) for v, n in values if all(w in v.casefold() for w in words)]


def facet_state(name: str) -> tuple[SearchState, str, list[tuple[str, int]], list[tuple[str, int]]]:
    """(state, fq, every value of the facet for the search, those matching fq); 404 for an
    unknown facet, ParamError for a bad parameter, QueryError for a query that cannot run."""
    from .views import facet_values, run_search

    if name not in FACETS:
        abort(404, description=f"There is no filter called {name[:60]!r}.")
    state = parse_params(request.args)
    fq = clean_text((request.args.getlist("fq") or [""])[-1])
    if len(fq) > MAX_VALUE_LENGTH:
        raise ParamError("fq", f"is longer than {MAX_VALUE_LENGTH} characters")
    resp = run_search(current_index(), state)
    values = facet_values(name, resp.facets.get(name, {}), state)
    return state, fq, values, matching_values(values, fq)


@bp.get("/facets/<name>")
def facet_page(name: str) -> Any:
    """Every value of one facet for the current search, narrowed by `fq`, each a toggle link."""
    try:
        state, fq, values, shown = facet_state(name)
    except QueryError as exc:
        if server_busy(exc):
            raise  # 503 with Retry-After (the app's handler)
        return render_template(
            "error.html", status=400, title="This search could not be run", message=str(exc)
        ), 400
    return render_template(
        "facets.html",
        state=state,
        facet=name,
        fq=fq,
        values=shown[:PAGE_VALUES],
        matching=len(shown),
        total=len(values),
        ignored=urls.unknown_params(request.args.keys(), FACET_PARAMS),
    )
