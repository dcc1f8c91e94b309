"""One deadline per request: the engine's time limit never runs past its caller's deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The deadline (time.monotonic()) of the request this thread works for, if any. A context
# variable: each server thread (and each asyncio task) sees only its own request's.
_DEADLINE: ContextVar[float | None] = ContextVar("imr_search_deadline", default=None)


@contextmanager
def deadline_at(at: float) -> Iterator[None]:
    """Run the block under a deadline: every search in it ends by `at` (monotonic seconds)."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def current_deadline() -> float | None:
    """The deadline set by deadline_at, if any."""
    return _DEADLINE.get()


def search_deadline(limit: float) -> float:
    """When a search starting now must end: `limit` seconds from now, or sooner when the
    request it serves must be answered sooner."""
    own = time.monotonic() + limit
    outer = _DEADLINE.get()
    return own if outer is None else min(own, outer)
