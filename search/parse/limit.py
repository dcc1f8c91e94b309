"""A per-letter parse time limit: a letter that takes too long fails, the batch goes on."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Final

from ..model import Determination
from .load import LoadedText, LoadError

# CPU seconds one letter may take to parse. The parse is linear in the letter's size (about
# 1-2 MB/s on one core for the worst shapes), so only a file near the 20 MB cap that is no
# letter at all comes close; PDF extraction has its own limit (pdf.DEFAULT_TIMEOUT).
DEFAULT_PARSE_TIMEOUT: Final = 30.0


class ParseTimeout(Exception):
    """Parsing one letter used up its CPU time."""


# Raised only in a frame of our own code: a signal can land in a gc callback or a __del__
# of any library, which would swallow the exception; there, the timer fires again shortly.
_PACKAGE: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_RETRY: Final = 0.005


def _expired(signum: int, frame: FrameType | None) -> None:
    if frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        raise ParseTimeout
    signal.setitimer(signal.ITIMER_PROF, _RETRY)


@contextlib.contextmanager
def cpu_time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ParseTimeout in the block once this process has used `seconds` of CPU time in
    it (SIGPROF: CPU time, so a busy machine does not fail a letter). Only the main thread
    can take signals: elsewhere, and for None or 0, the block runs unlimited."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGPROF, _expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def parse_limited(
    loaded: LoadedText, seconds: float | None = DEFAULT_PARSE_TIMEOUT
) -> Determination:
    """parse_loaded within a CPU time limit; raises LoadError naming the file when it runs out."""
    from .resolve import parse_loaded

    try:
        with cpu_time_limit(seconds):
            return parse_loaded(loaded)
    except ParseTimeout:
        raise LoadError(
            loaded.source,
            f"parsing took longer than {seconds:g} s of CPU time; skipped (is it one letter?)",
        ) from None
