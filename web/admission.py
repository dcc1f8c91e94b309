"""Admission control: a bounded number of requests at work, a fast 503 beyond it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from search.engine.deadline import deadline_at

# WSGI shapes, as far as this module needs them.
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ARRIVAL_KEY: Final = "imr_search.arrival"  # time.monotonic() when the request was read
DEADLINE_KEY: Final = "imr_search.deadline"  # when the answer is due
WAITED_KEY: Final = "imr_search.waited"  # seconds from arrival to a slot
BUSY_MESSAGE: Final = "The server is busy; try again in a moment."


class Admission:
    """WSGI middleware: at most `limit` requests at work; one more waits at most `wait`
    seconds for a slot, then gets 503 with Retry-After, instead of queueing without bound.

    Each request has one deadline, `budget` seconds after it arrived (read whole by the
    server, whose queue counts too): the wait for a slot ends by it, and the engine's
    searches get only what is left (search.engine.deadline). A slot is held while the app
    computes its response (the search, the page); a streamed body (the CSV export) goes on
    outside the slot and the deadline, so exports never block searches.
    """

    def __init__(
        self,
        app: WSGIApp,
        limit: int,
        wait: float,
        headers: Mapping[str, str],
        retry_after: int = 1,
        budget: float = 5.0,
    ) -> None:
        if limit < 1:
            raise ValueError(f"admission limit must be at least 1, not {limit}")
        self.app = app
        self.limit = limit
        self.wait = max(0.0, wait)
        self.headers = dict(headers)
        self.retry_after = retry_after
        self.budget = budget
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the request in a slot, or refuse it with 503 when none frees up in time."""
        arrived = float(environ.get(ARRIVAL_KEY) or time.monotonic())
        deadline = arrived + self.budget
        wait = min(self.wait, deadline - time.monotonic())
        if wait < 0 or not self._slots.acquire(timeout=wait):
            return self._busy(environ, start_response)
        environ[DEADLINE_KEY] = deadline
        environ[WAITED_KEY] = time.monotonic() - arrived
        try:
            with deadline_at(deadline):
                return self.app(environ, start_response)
        finally:
            self._slots.release()

    def _busy(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """503 with Retry-After and the security headers, JSON for the API, else text."""
        if str(environ.get("PATH_INFO", "")).startswith("/api/"):
            body = json.dumps({"error": "busy", "message": BUSY_MESSAGE}).encode()
            kind = "application/json"
        else:
            body = BUSY_MESSAGE.encode()
            kind = "text/plain; charset=utf-8"
        headers = [
            ("Content-Type", kind),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(self.retry_after)),
            ("Cache-Control", "no-store"),
            *self.headers.items(),
        ]
        start_response("503 Service Unavailable", headers)
        return [body]
