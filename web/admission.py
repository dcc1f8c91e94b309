"""Admission control: a bounded number of requests at work, a fast 503 beyond it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# WSGI shapes, as far as this module needs them.
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Admission:
    """WSGI middleware: at most `limit` requests at work; one more waits at most `wait`
    seconds for a slot, then gets 503 with Retry-After, instead of queueing without bound.

    A slot is held while the app computes its response (the search, the page); a streamed
    body (the CSV export) goes on outside the slot, so exports never block searches.
    """

    def __init__(
        self,
        app: WSGIApp,
        limit: int,
        wait: float,
        headers: Mapping[str, str],
        retry_after: int = 1,
    ) -> None:
        if limit < 1:
            raise ValueError(f"admission limit must be at least 1, not {limit}")
        self.app = app
        self.limit = limit
        self.wait = max(0.0, wait)
        self.headers = dict(headers)
        self.retry_after = retry_after
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the request in a slot, or refuse it with 503 when none frees up in time."""
        if not self._slots.acquire(timeout=self.wait):
            return self._busy(environ, start_response)
        try:
            return self.app(environ, start_response)
        finally:
            self._slots.release()

    def _busy(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """503 with Retry-After and the security headers, JSON for the API, else text."""
        message = "The server is busy; try again in a moment."
        if str(environ.get("PATH_INFO", "")).startswith("/api/"):
            body = json.dumps({"error": "busy", "message": message}).encode()
            kind = "application/json"
        else:
            body = message.encode()
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
