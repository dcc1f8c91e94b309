"""Sandboxed PDF text extraction: a pool of long-lived worker processes (pdf_worker.py)."""

# Each job runs in a worker process under an address-space limit (RLIMIT_AS) and a CPU-time
# limit (RLIMIT_CPU); the parent adds a wall-clock timeout and kills the worker when it expires,
# so a hostile PDF costs one file, never the batch or the machine. Workers read with PDFium
# (pypdfium2) when it is installed; a PDF that crashes PDFium is read again with pypdf.

from __future__ import annotations

import contextlib
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

from . import pdf_worker
from .pdf_worker import (
    DEFAULT_MAX_PAGES,
    ENCRYPTED,
    NEEDS_CRYPTOGRAPHY,
    NO_TEXT,
    PDFIUM,
    PYPDF,
    PdfExtractionError,
    describe,
    out_of_memory,
)

__all__ = [
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "ENCRYPTED",
    "NEEDS_CRYPTOGRAPHY",
    "NO_TEXT",
    "PdfExtractionError",
    "PdfExtractor",
    "out_of_memory",
    "shared_extractor",
    "timed_out",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 512
STARTUP_TIMEOUT = 60.0
# Exit signals after which a PDFium job is given to pypdf: PDFium aborts when the address-space
# limit stops an allocation, and a crash on a malformed file is PDFium's, not the file's last
# word. SIGXCPU (out of CPU time) and SIGKILL (killed from outside) are final.
_PDFIUM_CRASHES = frozenset({signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGILL})


def timed_out(timeout: float) -> str:
    """The reason given when extraction ran out of time."""
    return f"PDF extraction timed out after {timeout:g}s"


class _WorkerGone(Exception):
    """The worker process ended without answering."""


class _PdfiumCrashed(Exception):
    """PDFium crashed or ran out of memory on the job: pypdf is to read it."""


class _Worker:
    """One worker process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        # Run by file path with -P so the worker needs neither the package on sys.path nor the
        # caller's working directory, and sibling modules cannot shadow library imports.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", os.path.abspath(pdf_worker.__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        self.fd = self.proc.stdout.fileno()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)
        self.buffer = bytearray()
        self.closed = False

    def read_message(self, deadline: float) -> dict[str, Any] | None:
        """The next JSON line, or None when the deadline passes first."""
        while (end := self.buffer.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self.selector.select(remaining):
                continue
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                raise _WorkerGone
            self.buffer += chunk
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        message: dict[str, Any] = json.loads(line)
        return message

    def send_job(self, data: bytes, header: dict[str, Any]) -> None:
        """Hand the worker one PDF (header: its size, limits and backend)."""
        try:
            self.stdin.write(json.dumps(header).encode("ascii") + b"\n")
            self.stdin.write(data)
            self.stdin.flush()
        except (BrokenPipeError, ConnectionResetError):
            raise _WorkerGone from None

    def exit_code(self) -> int | None:
        """The worker's exit status once it has ended (None if it hangs on)."""
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    @staticmethod
    def exit_reason(code: int | None, timeout: float) -> str:
        """Why the worker died without answering."""
        if code is None:
            return "PDF extraction failed: the worker stopped answering"
        if code == -signal.SIGXCPU:
            return timed_out(timeout)
        if code == -signal.SIGKILL:
            return "PDF extraction failed: the worker was killed (out of memory?)"
        return f"PDF extraction crashed (worker exit status {code})"

    def kill(self) -> None:
        """Kill the process without touching the pipes (safe from another thread)."""
        with contextlib.suppress(OSError):
            self.proc.kill()

    def close(self) -> None:
        """Kill the process, reap it and close the pipes."""
        if self.closed:
            return
        self.closed = True
        self.kill()
        self.proc.wait()
        self.selector.close()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _close_all(workers: set[_Worker], owner: int) -> None:
    """Close every worker in the set (a finalizer: touches no extractor state)."""
    if os.getpid() != owner:
        return  # a forked child must never kill its parent's workers
    for worker in list(workers):
        worker.close()
    workers.clear()


class PdfExtractor:
    """A pool of sandboxed, long-lived extraction workers, safe to share between threads."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._slots: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._slots.put(None)  # workers start on first use
        self._lock = threading.Lock()
        self._live: set[_Worker] = set()
        self._busy: set[_Worker] = set()
        self._closed = False
        self._unavailable: str | None = None
        self._owner = os.getpid()
        self._finalizer = weakref.finalize(self, _close_all, self._live, self._owner)

    @property
    def closed(self) -> bool:
        """Whether close() has been called."""
        return self._closed

    def __enter__(self) -> PdfExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def extract(
        self,
        data: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        max_chars: int | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> str:
        """The text of one PDF given as bytes; raises PdfExtractionError."""
        if timeout <= 0 or memory_mb <= 0 or max_pages <= 0:
            raise ValueError("timeout, memory_mb and max_pages must be positive")
        deadline = time.monotonic() + timeout
        job: dict[str, Any] = {"size": len(data), "timeout": timeout, "memory_mb": memory_mb}
        job.update(max_pages=max_pages, backend=PDFIUM)
        if max_chars is not None:
            job["max_chars"] = max_chars
        try:
            return self._job(data, job, timeout, deadline)
        except _PdfiumCrashed:
            # The retry gets what is left of the time limit, so a file never costs more.
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfExtractionError(timed_out(timeout)) from None
            job.update(backend=PYPDF, timeout=left)
            try:
                return self._job(data, job, timeout, deadline)
            except _PdfiumCrashed:  # pragma: no cover - only PDFium jobs raise it
                raise PdfExtractionError("PDF extraction crashed") from None

    def _job(self, data: bytes, job: dict[str, Any], timeout: float, deadline: float) -> str:
        """One job on a worker of the pool (started if need be)."""
        if self._unavailable is not None:
            raise PdfExtractionError(self._unavailable)
        if self._closed:
            raise PdfExtractionError("PDF extraction failed: the extractor is closed")
        if os.getpid() != self._owner:
            raise PdfExtractionError(
                "PDF extraction failed: extractor inherited from another process"
            )
        worker = self._slots.get()
        try:
            if worker is None or worker.proc.poll() is not None:
                self._discard(worker)
                worker = self._start()
            return self._run(worker, data, job, timeout, deadline)
        finally:
            self._release(worker)

    def _start(self) -> _Worker:
        """Start a worker and wait until it has loaded its PDF library."""
        with self._lock:
            if self._closed:
                raise PdfExtractionError("PDF extraction failed: the extractor is closed")
            try:
                worker = _Worker()
            except OSError as exc:
                raise PdfExtractionError(
                    f"PDF extraction failed: could not start a worker: {describe(exc)}"
                ) from None
            self._live.add(worker)
            self._busy.add(worker)
        try:
            ready = worker.read_message(time.monotonic() + STARTUP_TIMEOUT)
        except (_WorkerGone, ValueError):
            ready = None
        if not ready or not ready.get("ready"):
            self._discard(worker)
            reason = "PDF extraction failed: the worker process did not start"
            if ready and ready.get("error"):
                reason = self._unavailable = str(ready["error"])
            raise PdfExtractionError(reason)
        return worker

    def _run(
        self, worker: _Worker, data: bytes, job: dict[str, Any], timeout: float, deadline: float
    ) -> str:
        """One job on a started worker; timeout is the file's whole limit, for messages."""
        with self._lock:
            self._busy.add(worker)
        try:
            worker.send_job(data, job)
            reply = worker.read_message(deadline)
        except _WorkerGone:
            code = worker.exit_code()
            worker.close()
            if self._closed:
                raise PdfExtractionError(
                    "PDF extraction failed: the extractor was closed"
                ) from None
            if job["backend"] == PDFIUM and code is not None and -code in _PDFIUM_CRASHES:
                raise _PdfiumCrashed from None
            raise PdfExtractionError(worker.exit_reason(code, timeout)) from None
        except ValueError:
            worker.close()
            raise PdfExtractionError(
                "PDF extraction failed: garbled reply from the worker"
            ) from None
        if reply is None:
            worker.close()
            raise PdfExtractionError(timed_out(timeout))
        if reply.get("retire"):
            worker.close()
        if "error" in reply:
            raise PdfExtractionError(str(reply["error"]))
        return str(reply["text"])

    def _discard(self, worker: _Worker | None) -> None:
        """Close a worker that is done for and forget it."""
        if worker is None:
            return
        worker.close()
        with self._lock:
            self._live.discard(worker)
            self._busy.discard(worker)

    def _release(self, worker: _Worker | None) -> None:
        """Give the slot back (closing the worker if it is dead or the pool is closed)."""
        if worker is not None and (self._closed or worker.proc.poll() is not None):
            self._discard(worker)
            worker = None
        with self._lock:
            if worker is not None:
                self._busy.discard(worker)
            self._slots.put(worker)

    def close(self) -> None:
        """Stop every worker; jobs still running end with an error."""
        if os.getpid() != self._owner:
            return
        with self._lock:
            self._closed = True
            busy = list(self._busy)
        for worker in busy:
            worker.kill()  # its thread closes it when the job returns
        drained = 0
        while True:
            try:
                idle = self._slots.get_nowait()
            except queue.Empty:
                break
            self._discard(idle)
            drained += 1
        for _ in range(drained):
            self._slots.put(None)  # a late extract() then fails fast instead of waiting forever
        if not self._busy:
            self._finalizer()


_shared: PdfExtractor | None = None
_shared_lock = threading.Lock()
_inherited: list[PdfExtractor] = []


def shared_extractor() -> PdfExtractor:
    """This process's extractor for callers that bring none; its workers start on demand."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.closed:
            _shared = PdfExtractor(max(1, min(4, os.cpu_count() or 1)))
        return _shared


def _after_fork_in_child() -> None:
    """Give a forked child its own extractor, leaving the parent's untouched."""
    global _shared, _shared_lock
    if _shared is not None:
        _inherited.append(_shared)  # kept referenced: collecting it would run its finalizer
    _shared = None
    _shared_lock = threading.Lock()  # the parent may have held it while forking


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
