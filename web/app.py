"""The Flask application factory: index holder, blueprints, security headers, error pages."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from markupsafe import Markup, escape
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
)

from search.engine.evaluate import SearchTimeout
from search.fields import (
    DEFAULT_PAGE_SIZE,
    FACET_LABELS,
    FACETS,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    OUTCOME_OVERTURNED,
    OUTCOME_UPHELD,
    OUTCOMES,
    SECTION_LABELS,
    SORTS,
    age_band,
)
from search.results import QueryError

from . import urls
from .admission import BUSY_MESSAGE, WAITED_KEY, Admission
from .urls import ParamError

if TYPE_CHECKING:
    from search.engine.searcher import SearchIndex

log = logging.getLogger(__name__)

DEFAULT_INDEX_PATH: Final = "index"
EXTENSION_KEY: Final = "imr_search_index"
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
BUSY_WAIT: Final = 0.05  # a request that waited this long for its turn found the server busy
_MARK_RE: Final = re.compile(r"(</?mark>)")
_PARA_RE: Final = re.compile(r"\n[ \t]*\n")


class IndexUnavailable(RuntimeError):
    """The search index could not be opened (missing, or being rebuilt)."""


class IndexHolder:
    """One SearchIndex per worker process, opened on first use, refreshed at most every interval."""

    def __init__(
        self, path: str, refresh_interval: float = 1.0, threads: int | None = None
    ) -> None:
        self.path = path
        self.refresh_interval = refresh_interval
        self.threads = threads  # threads one search may use (None: the engine's default)
        self._lock = threading.Lock()
        self._index: SearchIndex | None = None
        self._pid = 0
        self._checked = 0.0

    def get(self) -> SearchIndex:
        """The open index, refreshed when it is time to look for new commits."""
        with self._lock:
            if self._index is None or self._pid != os.getpid():
                self._index = self._open()
                self._pid = os.getpid()
                self._checked = time.monotonic()
                return self._index
            index = self._index
            due = time.monotonic() - self._checked >= self.refresh_interval
            if due:
                self._checked = time.monotonic()
        # The refresh runs outside the lock: this request reopens the changed segments while
        # the process's other requests go on with the current snapshot instead of waiting.
        if due:
            try:
                index.refresh()
            except Exception:  # a re-index in progress: keep serving the old generation
                log.warning("index refresh failed; serving the previous generation", exc_info=True)
        return index

    def _open(self) -> SearchIndex:
        """Open the index or raise IndexUnavailable."""
        from search.engine.searcher import SearchIndex

        try:
            return SearchIndex.open(self.path, threads=self.threads)
        except Exception as exc:  # whatever the engine raises for a missing/corrupt index
            raise IndexUnavailable(f"No search index could be opened at {self.path!r}.") from exc


def current_index() -> SearchIndex:
    """The index of the current app (see IndexHolder)."""
    holder: IndexHolder = current_app.extensions[EXTENSION_KEY]
    return holder.get()


def safe_highlight(passage: str) -> Markup:
    """An engine highlight passage as Markup: only <mark> tags survive, all else is escaped.

    The engine already escapes its passages; unescaping and re-escaping each text part is a
    no-op for those and turns any stray markup into text.
    """
    parts = []
    inside = False
    for part in _MARK_RE.split(passage):
        if part in ("<mark>", "</mark>"):
            if inside is (part == "</mark>"):  # keep only balanced, non-nested tags
                parts.append(part)
                inside = not inside
        else:
            parts.append(str(escape(Markup(part).unescape())))
    return Markup("".join(parts) + ("</mark>" if inside else ""))


def paragraphs(text: str) -> list[str]:
    """Text split at blank lines, each paragraph's line breaks folded into spaces."""
    return [" ".join(p.split()) for p in _PARA_RE.split(text) if p.strip()]


def wants_json() -> bool:
    """True for requests to the JSON API."""
    return request.path.startswith("/api/")


def error_response(status: int, title: str, message: str) -> Response:
    """A JSON {"error": ...} for the API, else the friendly error page."""
    if wants_json():
        response = jsonify({"error": message})
    else:
        page = render_template("error.html", status=status, title=title, message=message)
        response = make_response(page)
    response.status_code = status
    return response


def _handle_http(exc: HTTPException) -> Response:
    """Every HTTP error as a page (or JSON), never Werkzeug's bare default."""
    status = exc.code or 500
    titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
    title = titles.get(status, exc.name)
    description = exc.description or title
    if status == 404 and description == NotFound.description:  # not one of our own
        description = "There is no page at this address. Try a search instead."
    response = error_response(status, title, description)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _handle_500(exc: InternalServerError) -> Response:
    """Unexpected failures: logged, with a calm page and no details."""
    original = getattr(exc, "original_exception", None)
    if original is not None:
        log.error("unhandled error on %s", request.path, exc_info=original)
    return error_response(
        500, "Something went wrong", "The server hit an unexpected error. Please try again."
    )


def _handle_query_error(exc: QueryError) -> Response:
    """The engine refused the query: 400 with its message."""
    return error_response(400, "This search could not be run", str(exc))


def heavy_lock_path(index: str) -> str:
    """The heavy-request lock file of an index's servers (in the temporary folder, so a
    read-only index can be served)."""
    key = hashlib.sha1(os.path.abspath(index).encode(), usedforsecurity=False).hexdigest()
    return os.path.join(tempfile.gettempdir(), f"imr-search-heavy-{key[:16]}.lock")


def heavy_turn() -> AbstractContextManager[None]:
    """A heavy slot of the app's admission control for one step of a long job (an export's
    page), or nothing when the app runs without it."""
    gate = current_app.wsgi_app
    return gate.heavy_turn() if isinstance(gate, Admission) else nullcontext()


def server_busy(exc: Exception) -> bool:
    """True for a search out of time after its request waited for its turn: the server was
    busy (503, try again), not the search too heavy (400)."""
    waited = float(request.environ.get(WAITED_KEY, 0.0))
    return isinstance(exc, SearchTimeout) and waited >= BUSY_WAIT


def _handle_timeout(exc: SearchTimeout) -> Response:
    """Out of time: 503 with Retry-After when the server was busy, else 400."""
    if server_busy(exc):
        response = error_response(503, "The server is busy", BUSY_MESSAGE)
        response.headers["Retry-After"] = "1"
        response.headers["Cache-Control"] = "no-store"
        return response
    return _handle_query_error(exc)


def _handle_param_error(exc: ParamError) -> Response:
    """A parameter out of range: 400 naming it."""
    return error_response(400, "Bad request", f"Parameter {exc}.")


def _handle_unavailable(exc: IndexUnavailable) -> Response:
    """No index: 503 explaining how to build one."""
    message = f"{exc} Build one with `imr-search index PATH`, or start `imr-search serve`."
    return error_response(503, "The search index is not available", message)


def _security_headers(response: Response) -> Response:
    """Add the security headers to every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app; config: INDEX_PATH, REFRESH_INTERVAL, EXPORT_MAX_ROWS, EXPORT_PAGE_SIZE,
    MAX_ACTIVE, ADMISSION_WAIT, REQUEST_DEADLINE, HEAVY_ACTIVE, HEAVY_WAIT, HEAVY_LOCK,
    SEARCH_THREADS."""
    app = Flask(__name__)
    app.config.update(
        INDEX_PATH=DEFAULT_INDEX_PATH,
        REFRESH_INTERVAL=1.0,
        EXPORT_MAX_ROWS=50_000,
        EXPORT_PAGE_SIZE=MAX_PAGE_SIZE,
        MAX_CONTENT_LENGTH=64 * 1024,
        # Admission: requests at work at once per process, and how long one more may wait
        # for a slot before a fast 503 (searches are CPU-bound: more at once only queue).
        MAX_ACTIVE=4,
        ADMISSION_WAIT=1.0,
        # Seconds from a request's arrival to its answer: the wait for a slot and its
        # searches share it (a search gets what is left, at most the engine's TIME_LIMIT).
        REQUEST_DEADLINE=5.0,
        # Heavy requests (exports, pages over 100 hits) at work at once per process, in
        # slots of their own: a flood of them sheds among themselves, never light requests.
        HEAVY_ACTIVE=1,
        HEAVY_WAIT=0.5,
        # A file shared by the server's processes: one heavy request at a time in all.
        HEAVY_LOCK=None,
        # Threads one search may use (None: the cores; the server gives each of its
        # processes its share of them).
        SEARCH_THREADS=None,
    )
    if config:
        app.config.update(dict(config))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.merge_slashes = False  # "/determinations//x" is a 404, not a redirect
    app.extensions[EXTENSION_KEY] = IndexHolder(
        str(Path(app.config["INDEX_PATH"])),
        float(app.config["REFRESH_INTERVAL"]),
        app.config["SEARCH_THREADS"],
    )
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["highlight"] = safe_highlight
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["breakable"] = lambda text: str(text).replace("/", "/\u200b")
    app.jinja_env.filters["basename"] = lambda path: str(path).rsplit("/", 1)[-1]
    app.jinja_env.globals.update(
        urls=urls,
        age_band=age_band,
        FACETS=FACETS,
        FACET_LABELS=FACET_LABELS,
        SECTION_LABELS=SECTION_LABELS,
        OUTCOMES=OUTCOMES,
        OUTCOME_UPHELD=OUTCOME_UPHELD,
        OUTCOME_OVERTURNED=OUTCOME_OVERTURNED,
        SORTS=SORTS,
        MAX_QUERY_LENGTH=MAX_QUERY_LENGTH,
        DEFAULT_PAGE_SIZE=DEFAULT_PAGE_SIZE,
    )

    from .api import bp as api_bp
    from .facetpage import bp as facetpage_bp
    from .feeds import bp as feeds_bp
    from .openapi import bp as openapi_bp
    from .precedent import bp as precedent_bp
    from .views import bp as views_bp

    app.register_blueprint(views_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(facetpage_bp)
    app.register_blueprint(precedent_bp)
    app.register_blueprint(openapi_bp)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_500)
    app.register_error_handler(QueryError, _handle_query_error)
    app.register_error_handler(SearchTimeout, _handle_timeout)
    app.register_error_handler(ParamError, _handle_param_error)
    app.register_error_handler(IndexUnavailable, _handle_unavailable)
    app.after_request(_security_headers)
    app.wsgi_app = Admission(  # type: ignore[method-assign]
        app.wsgi_app,
        int(app.config["MAX_ACTIVE"]),
        float(app.config["ADMISSION_WAIT"]),
        SECURITY_HEADERS,
        budget=float(app.config["REQUEST_DEADLINE"]),
        heavy_limit=int(app.config["HEAVY_ACTIVE"]),
        heavy_wait=float(app.config["HEAVY_WAIT"]),
        heavy_lock=app.config["HEAVY_LOCK"] or heavy_lock_path(app.config["INDEX_PATH"]),
    )
    return app
