"""Admission control: a bounded number of requests at work, a fast 503 beyond it."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import parse_qs

from search.engine.deadline import deadline_at

# WSGI shapes, as far as this module needs them.
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ARRIVAL_KEY: Final = "imr_search.arrival"  # time.monotonic() when the request was read
DEADLINE_KEY: Final = "imr_search.deadline"  # when the answer is due
WAITED_KEY: Final = "imr_search.waited"  # seconds from arrival to a slot
BUSY_MESSAGE: Final = "The server is busy; try again in a moment."
HEAVY_SIZE: Final = 100  # a page of more hits than this is a heavy request
_SIZE_PARAMS: Final = ("size", "limit")
NO_FILE: Final = -1  # SharedSlot.acquire's slot when the lock file cannot be opened


def is_heavy(environ: Mapping[str, Any]) -> bool:
    """True for requests that can take seconds: CSV exports, pages of over HEAVY_SIZE hits."""
    if str(environ.get("PATH_INFO", "")).endswith(".csv"):
        return True
    params = parse_qs(str(environ.get("QUERY_STRING", "")))
    for name in _SIZE_PARAMS:
        for value in params.get(name, ()):
            if value.strip().isascii() and value.strip().isdigit() and int(value) > HEAVY_SIZE:
                return True
    return False


class SharedSlot:
    """One slot shared by every process that opens the same lock file (an flock on it): the
    server's processes take turns with their heavy requests, so those use one core at most."""

    def __init__(self, path: str) -> None:
        self.path = path

    def acquire(self, timeout: float | None) -> int | None:
        """The slot (a file descriptor to release), or None when it stays taken `timeout` s.

        A lock file this process cannot open (say, another user's in a shared temp folder)
        gives NO_FILE: the heavy request runs under this process's own heavy slot only."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return NO_FILE
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if end is not None and time.monotonic() >= end:
                    os.close(fd)
                    return None
                time.sleep(0.005)

    @staticmethod
    def release(fd: int) -> None:
        """Give the slot back (closing the descriptor drops the lock)."""
        if fd != NO_FILE:
            os.close(fd)


class Admission:
    """WSGI middleware: at most `limit` requests at work; up to `queue` more wait at most
    `wait` seconds from their arrival for a slot, then get 503 with Retry-After; past a full
    queue the 503 comes at once, instead of queueing without bound.

    Heavy requests (is_heavy: exports, big pages) have their own `heavy_limit` slots, so a
    flood of them never takes the slots of light ones, and wait at most `heavy_wait` for
    one; with `heavy_lock`, a file every process of the server shares, one heavy request
    at a time runs in all of them (the other cores stay free for light requests). An export
    takes a heavy turn for each page it computes (heavy_turn), none while it sends.

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
        heavy_limit: int = 1,
        heavy_wait: float = 0.5,
        heavy_lock: str | None = None,
        queue: int | None = None,
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
        # At most `queue` light requests wait for a slot (default: as many as the slots);
        # past that the server is saturated and a 503 now beats one after the whole wait.
        self.queue = limit if queue is None else max(0, queue)
        self._waiting = 0
        self._waiting_lock = threading.Lock()
        self.heavy_limit = max(1, heavy_limit)
        self._heavy = threading.BoundedSemaphore(self.heavy_limit)
        self.heavy_wait = max(0.0, heavy_wait)
        self._shared = SharedSlot(heavy_lock) if heavy_lock else None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Run the request in a slot, or refuse it with 503 when none frees up in time."""
        arrived = float(environ.get(ARRIVAL_KEY) or time.monotonic())
        deadline = arrived + self.budget
        heavy = is_heavy(environ)
        # The wait counts from arrival: time queued in the server for a thread is waiting too.
        now = time.monotonic()
        until = min(arrived + (self.heavy_wait if heavy else self.wait), deadline)
        slots = self._heavy if heavy else self._slots
        if now >= deadline or not self._acquire(slots, heavy, max(0.0, until - now)):
            return self._busy(environ, start_response)
        shared = None
        if heavy and self._shared is not None:
            shared = self._shared.acquire(max(0.0, until - time.monotonic()))
            if shared is None:
                slots.release()
                return self._busy(environ, start_response)
        environ[DEADLINE_KEY] = deadline
        environ[WAITED_KEY] = time.monotonic() - arrived
        try:
            with deadline_at(deadline):
                return self.app(environ, start_response)
        finally:
            if shared is not None:
                SharedSlot.release(shared)
            slots.release()

    def _acquire(self, slots: threading.BoundedSemaphore, heavy: bool, timeout: float) -> bool:
        """A slot at once, else after waiting up to `timeout` s if the light queue has room."""
        if slots.acquire(blocking=False):
            return True
        if not heavy:
            with self._waiting_lock:
                if self._waiting >= self.queue:
                    return False
                self._waiting += 1
        try:
            return slots.acquire(timeout=timeout)
        finally:
            if not heavy:
                with self._waiting_lock:
                    self._waiting -= 1

    @contextmanager
    def heavy_turn(self) -> Iterator[None]:
        """Hold a heavy slot for one step of a long job (a page of an export): such jobs
        take turns with heavy requests, never with light ones."""
        with self._heavy:
            shared = self._shared.acquire(None) if self._shared is not None else None
            try:
                yield
            finally:
                if shared is not None:
                    SharedSlot.release(shared)

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
