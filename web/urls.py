"""Pure helpers: parse search parameters from a query string and build search/facet URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Protocol
from urllib.parse import quote, urlencode

from search.fields import (
    DEFAULT_PAGE_SIZE,
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    SCOPE_AUTO,
    SCOPES,
    SORT_RELEVANCE,
    SORTS,
)

SEARCH_PATH: Final = "/search"
MAX_FILTER_VALUES: Final = 50  # values per facet in one request
MAX_VALUE_LENGTH: Final = 200  # characters of one facet value
# Every GET parameter of a search: add new ones here (the JSON API refuses unknown names).
SEARCH_PARAMS: Final = frozenset(("q", "sort", "page", "size", "scope", "literal", *FACETS))
ID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,100}")
_CONTROL_RE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ParamError(ValueError):
    """A search parameter out of range or malformed; the message names the parameter."""

    def __init__(self, param: str, reason: str) -> None:
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


class MultiArgs(Protocol):
    """The part of werkzeug's MultiDict that the parser uses."""

    def getlist(self, key: str) -> list[str]:
        """All values of `key`, in order."""
        ...


@dataclass(frozen=True, slots=True)
class SearchState:
    """Everything a search page shows, as parsed from (and written back to) GET parameters."""

    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = SORT_RELEVANCE
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    scope: str = SCOPE_AUTO  # where words match (fields.SCOPES)
    literal: bool = False  # words of q are not read as filters

    def is_active(self, facet: str, value: str) -> bool:
        """True when `value` is selected in `facet`."""
        return value in self.filters.get(facet, ())

    @property
    def active_count(self) -> int:
        """Number of selected facet values."""
        return sum(len(v) for v in self.filters.values())

    @property
    def is_browse(self) -> bool:
        """True when there is neither a query nor a filter (show everything)."""
        return not self.q.strip() and not self.filters


def clean_text(value: str) -> str:
    """Control characters (NUL, ...) replaced by spaces, outer whitespace stripped."""
    return _CONTROL_RE.sub(" ", value).strip()


def _int_param(args: MultiArgs, name: str, default: int, low: int, high: int) -> int:
    """One integer parameter within [low, high], else ParamError naming it."""
    values = [v for v in args.getlist(name) if v.strip()]
    if not values:
        return default
    raw = values[-1].strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw):
        raise ParamError(name, f"must be a whole number from {low} to {high}")
    number = int(raw)
    if not low <= number <= high:
        raise ParamError(name, f"must be from {low} to {high}")
    return number


def parse_params(args: MultiArgs) -> SearchState:
    """The SearchState of a query string; ParamError for out-of-range or malformed values.

    Unknown parameter names are ignored (so tracking tags or old links never break a page);
    empty values are ignored; repeated facet values are de-duplicated in order.
    """
    qs = [clean_text(v) for v in args.getlist("q")]
    q = next((v for v in reversed(qs) if v), "")
    if len(q) > MAX_QUERY_LENGTH:
        raise ParamError("q", f"is longer than {MAX_QUERY_LENGTH} characters")
    sorts = [v.strip() for v in args.getlist("sort") if v.strip()]
    sort = sorts[-1] if sorts else SORT_RELEVANCE
    if sort not in SORTS:
        raise ParamError("sort", "must be one of " + ", ".join(SORTS))
    filters: dict[str, tuple[str, ...]] = {}
    for facet in FACETS:
        values: list[str] = []
        for raw in args.getlist(facet):
            value = clean_text(raw)
            if len(value) > MAX_VALUE_LENGTH:
                raise ParamError(facet, f"a value is longer than {MAX_VALUE_LENGTH} characters")
            if value and value not in values:
                values.append(value)
        if len(values) > MAX_FILTER_VALUES:
            raise ParamError(facet, f"more than {MAX_FILTER_VALUES} values")
        if values:
            filters[facet] = tuple(values)
    page = _int_param(args, "page", 1, 1, MAX_PAGE)
    size = _int_param(args, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    scopes = [v.strip() for v in args.getlist("scope") if v.strip()]
    scope = scopes[-1] if scopes else SCOPE_AUTO
    if scope not in SCOPES:
        raise ParamError("scope", "must be one of " + ", ".join(SCOPES))
    literal = _int_param(args, "literal", 0, 0, 1) == 1
    return SearchState(
        q=q, filters=filters, sort=sort, page=page, size=size, scope=scope, literal=literal
    )


def unknown_params(names: Iterable[str], known: Iterable[str] = SEARCH_PARAMS) -> tuple[str, ...]:
    """The parameter names that are not in `known`, each once, in order of appearance."""
    allowed = set(known)
    return tuple(dict.fromkeys(n for n in names if n not in allowed))


def public_source(source: str) -> str:
    """A letter's source as shown to the public: the file name, never a server path."""
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def query_pairs(state: SearchState) -> list[tuple[str, str]]:
    """The GET parameters of a state, defaults left out, facets in FACETS order."""
    pairs: list[tuple[str, str]] = []
    if state.q:
        pairs.append(("q", state.q))
    for facet in FACETS:
        pairs.extend((facet, value) for value in state.filters.get(facet, ()))
    if state.sort != SORT_RELEVANCE:
        pairs.append(("sort", state.sort))
    if state.page != 1:
        pairs.append(("page", str(state.page)))
    if state.size != DEFAULT_PAGE_SIZE:
        pairs.append(("size", str(state.size)))
    if state.scope != SCOPE_AUTO:
        pairs.append(("scope", state.scope))
    if state.literal:
        pairs.append(("literal", "1"))
    return pairs


def state_url(state: SearchState, path: str = SEARCH_PATH) -> str:
    """`path` with the state's query string ("/search?q=...&drug=...")."""
    pairs = query_pairs(state)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def feed_url(state: SearchState) -> str:
    """The Atom feed of a search: its query and filters (no page, size or sort)."""
    return state_url(SearchState(q=state.q, filters=state.filters), "/search.atom")


def with_filters(state: SearchState, filters: Mapping[str, Iterable[str]]) -> SearchState:
    """The state with other filters, back on page 1 (empty facets dropped)."""
    cleaned = {f: tuple(v) for f, v in filters.items() if tuple(v)}
    return replace(state, filters=cleaned, page=1)


def toggle_url(state: SearchState, facet: str, value: str, path: str = SEARCH_PATH) -> str:
    """URL with `value` added to `facet`'s filter, or removed when it was selected."""
    filters = dict(state.filters)
    current = filters.get(facet, ())
    if value in current:
        filters[facet] = tuple(v for v in current if v != value)
    else:
        filters[facet] = (*current, value)
    return state_url(with_filters(state, filters), path)


def remove_facet_url(state: SearchState, facet: str, path: str = SEARCH_PATH) -> str:
    """URL without any filter on `facet`."""
    filters = {f: v for f, v in state.filters.items() if f != facet}
    return state_url(with_filters(state, filters), path)


def clear_filters_url(state: SearchState, path: str = SEARCH_PATH) -> str:
    """URL keeping the query and sort but no filters."""
    return state_url(with_filters(state, {}), path)


def page_url(state: SearchState, page: int, path: str = SEARCH_PATH) -> str:
    """URL of another page of the same search."""
    return state_url(replace(state, page=page), path)


def sort_url(state: SearchState, sort: str, path: str = SEARCH_PATH) -> str:
    """URL of the same search in another order, back on page 1."""
    return state_url(replace(state, sort=sort, page=1), path)


def query_url(state: SearchState, q: str, path: str = SEARCH_PATH) -> str:
    """URL of another query with the same filters (e.g. "did you mean"), back on page 1."""
    return state_url(replace(state, q=q, page=1), path)


def scope_url(state: SearchState, scope: str, path: str = SEARCH_PATH) -> str:
    """URL of the same search with words matching in another scope, back on page 1."""
    return state_url(replace(state, scope=scope, page=1), path)


def literal_url(state: SearchState, literal: bool, path: str = SEARCH_PATH) -> str:
    """URL of the same search with the words read literally (or interpreted), page 1."""
    return state_url(replace(state, literal=literal, page=1), path)


def facet_url(facet: str, value: str, path: str = SEARCH_PATH) -> str:
    """URL of a fresh search filtered on one facet value (links from a determination)."""
    return state_url(SearchState(filters={facet: (value,)}), path)


def valid_id(value: str) -> bool:
    """True for a well-formed determination id (no slashes, no traversal, at most 100 chars)."""
    return bool(ID_RE.fullmatch(value)) and value not in {".", ".."}


def determination_url(det_id: str, anchor: str | None = None) -> str:
    """Permalink of a determination, optionally to an anchor ("decision-2")."""
    url = "/determinations/" + quote(det_id, safe="")
    return f"{url}#{anchor}" if anchor else url


def reader_url(det_id: str, state: SearchState, anchor: str | None = None) -> str:
    """A determination opened from a search: the search state rides along (page included),
    so the page can mark the query's words and link back to the same results."""
    pairs = [] if state.is_browse else query_pairs(state)
    url = "/determinations/" + quote(det_id, safe="")
    url += f"?{urlencode(pairs)}" if pairs else ""
    return f"{url}#{anchor}" if anchor else url


def similar_url(
    det_id: str, same_drug: bool, same_outcome: bool, state: SearchState | None = None
) -> str:
    """Permalink of a determination with its similar-list options, landing on the list."""
    pairs = [] if state is None or state.is_browse else query_pairs(state)
    options = (("same_drug", same_drug), ("same_outcome", same_outcome))
    pairs += [(k, "1") for k, on in options if on]
    query = f"?{urlencode(pairs)}" if pairs else ""
    return determination_url(det_id) + query + "#similar"


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to show around `page`: first, last, neighbours; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - radius), min(pages, page + radius) + 1)} - {0})
    out: list[int | None] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            out.append(None)
        out.append(number)
        previous = number
    return out
