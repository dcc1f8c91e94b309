"""Sandboxed PDF text extraction: a pool of long-lived pypdf worker processes."""

# Run as a script, this module is the worker: it reads jobs from stdin (a JSON header line, then
# the PDF's bytes) and answers each with one JSON line. Each job runs under an address-space limit
# (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU); the parent adds a wall-clock timeout and kills
# the worker when it expires, so a hostile PDF costs one file, never the batch or the machine.

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from typing import Any, BinaryIO

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 512
STARTUP_TIMEOUT = 60.0
# A worker is replaced after this many jobs, or when its heap has grown past half its limit, so
# that fragmentation or leaks from one odd PDF cannot eat into the budget of later ones.
MAX_JOBS_PER_WORKER = 200
MAX_CAUSE_CHARS = 160

ENCRYPTED = "encrypted PDF (password required)"
NEEDS_CRYPTOGRAPHY = "encrypted PDF (decrypting it needs the 'cryptography' package)"
NO_TEXT = "no extractable text (image-only PDF? OCR is not supported)"


class PdfExtractionError(Exception):
    """Text could not be extracted from one PDF; the message is the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def timed_out(timeout: float) -> str:
    """The reason given when extraction ran out of time."""
    return f"PDF extraction timed out after {timeout:g}s"


def out_of_memory(memory_mb: int) -> str:
    """The reason given when extraction ran out of memory."""
    return f"PDF extraction exceeded the memory limit ({memory_mb} MB)"


# ---------------------------------------------------------------------------- worker side


def _short(exc: BaseException) -> str:
    """A one-line, bounded description of an exception."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > MAX_CAUSE_CHARS:
        text = text[: MAX_CAUSE_CHARS - 3] + "..."
    return text


def _raised_in(exc: BaseException, places: tuple[str, ...]) -> bool:
    """Whether the innermost frame of exc's traceback is in a file whose path has one of places."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and any(p in tb.tb_frame.f_code.co_filename for p in places)


def _failure_reason(exc: Exception) -> str:
    """Map an exception raised by pypdf to a reason a person can act on."""
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

    if isinstance(exc, FileNotDecryptedError):
        return ENCRYPTED
    if isinstance(exc, DependencyError):
        if "cryptography" in str(exc) or "AES" in str(exc):
            return NEEDS_CRYPTOGRAPHY
        return f"PDF needs a package that is not installed: {_short(exc)}"
    if _raised_in(exc, ("_encryption.py", "_crypt_providers")):
        return f"encrypted PDF (cannot decrypt: {_short(exc)})"
    if isinstance(exc, LimitReachedError):
        return f"PDF exceeds a safety limit: {_short(exc)}"
    if isinstance(exc, RecursionError):
        return "corrupt PDF: objects nested too deeply"
    if type(exc).__module__.startswith("pypdf"):
        return f"corrupt PDF: {_short(exc)}"
    return f"corrupt PDF: {type(exc).__name__}: {_short(exc)}"


def extract_text(data: bytes, max_chars: int | None = None) -> str:
    """Extract the text of every page, pages joined by a blank line; raises PdfExtractionError."""
    from pypdf import PasswordType, PdfReader

    try:
        # Metadata and XMP are never read, so entity-expansion tricks there cost nothing.
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise PdfExtractionError(ENCRYPTED)
        count = len(reader.pages)
    except (PdfExtractionError, MemoryError):
        raise
    except Exception as exc:
        raise PdfExtractionError(_failure_reason(exc)) from None
    if count == 0:
        raise PdfExtractionError("corrupt PDF: no pages")
    texts: list[str] = []
    total = 0
    for number in range(count):
        try:
            texts.append(reader.pages[number].extract_text())
            total += len(texts[-1]) + 2
            if max_chars is not None and total > max_chars:
                raise PdfExtractionError(f"extracted text too large (limit {max_chars} characters)")
        except (PdfExtractionError, MemoryError):
            raise
        except Exception as exc:
            reason = _failure_reason(exc)
            if reason.startswith("corrupt PDF: ") and count > 1:
                reason = f"corrupt PDF: page {number + 1}: {reason.removeprefix('corrupt PDF: ')}"
            raise PdfExtractionError(reason) from None
    text = "\n\n".join(texts)
    if not text.strip():
        raise PdfExtractionError(NO_TEXT)
    return text


def _set_job_limits(timeout: float, memory_mb: int) -> None:
    """Cap this process's address space and the CPU time this job may use."""
    import resource

    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(usage.ru_utime + usage.ru_stime + timeout) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        cpu = min(cpu, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))


def _heap_too_big(memory_mb: int) -> bool:
    """Whether this worker's address space has grown past half its per-job limit."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return pages * os.sysconf("SC_PAGE_SIZE") > memory_mb * 1024 * 1024 // 2


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    """Read exactly size bytes (fewer only at end of input)."""
    parts: list[bytes] = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _encode(message: dict[str, Any]) -> bytes:
    """One JSON line (ASCII, so lone surrogates survive the pipe)."""
    return json.dumps(message).encode("ascii") + b"\n"


def _send(stream: BinaryIO, line: bytes) -> None:
    """Write one reply line."""
    stream.write(line)
    stream.flush()


def _answer(data: bytes, max_chars: int | None, memory_mb: int, retire: bool) -> tuple[bytes, bool]:
    """The encoded reply to one job, and whether the worker should retire after sending it."""
    try:
        try:
            reply: dict[str, Any] = {"text": extract_text(data, max_chars)}
        except PdfExtractionError as exc:
            reply = {"error": exc.reason}
        retire = retire or _heap_too_big(memory_mb)
        return _encode({**reply, "retire": retire}), retire
    except MemoryError:
        pass  # answered below, once the frames that filled the memory have been released
    return _encode({"error": out_of_memory(memory_mb), "retire": True}), True


def worker_main() -> int:
    """Serve extraction jobs from stdin until it closes."""
    import logging
    import resource
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Replies get a private copy of stdout; fd 1 goes to /dev/null so that a stray print in a
    # library cannot corrupt the protocol.
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        import pypdf  # noqa: F401
    except ImportError as exc:
        _send(stdout, _encode({"ready": False, "error": f"PDF support unavailable: {_short(exc)}"}))
        return 1
    _send(stdout, _encode({"ready": True}))
    jobs = 0
    while header := stdin.readline():
        job = json.loads(header)
        data = _read_exact(stdin, int(job["size"]))
        memory_mb = int(job["memory_mb"])
        _set_job_limits(float(job["timeout"]), memory_mb)
        jobs += 1
        line, retire = _answer(data, job.get("max_chars"), memory_mb, jobs >= MAX_JOBS_PER_WORKER)
        del data
        _send(stdout, line)
        if retire:
            break
    return 0


# ---------------------------------------------------------------------------- parent side


class _WorkerGone(Exception):
    """The worker process ended without answering."""


class _Worker:
    """One worker process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        # Run by file path with -P so the worker needs neither the package on sys.path nor the
        # caller's working directory, and sibling modules cannot shadow library imports.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", os.path.abspath(__file__)],
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

    def send_job(self, data: bytes, timeout: float, memory_mb: int, max_chars: int | None) -> None:
        """Hand the worker one PDF."""
        header = {"size": len(data), "timeout": timeout, "memory_mb": memory_mb}
        if max_chars is not None:
            header["max_chars"] = max_chars
        try:
            self.stdin.write(json.dumps(header).encode("ascii") + b"\n")
            self.stdin.write(data)
            self.stdin.flush()
        except (BrokenPipeError, ConnectionResetError):
            raise _WorkerGone from None

    def exit_reason(self, timeout: float) -> str:
        """Why the worker died without answering."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
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
    ) -> str:
        """The text of one PDF given as bytes; raises PdfExtractionError."""
        if timeout <= 0 or memory_mb <= 0:
            raise ValueError("timeout and memory_mb must be positive")
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
            return self._run(worker, data, timeout, memory_mb, max_chars)
        finally:
            self._release(worker)

    def _start(self) -> _Worker:
        """Start a worker and wait until it has loaded pypdf."""
        with self._lock:
            if self._closed:
                raise PdfExtractionError("PDF extraction failed: the extractor is closed")
            try:
                worker = _Worker()
            except OSError as exc:
                raise PdfExtractionError(
                    f"PDF extraction failed: could not start a worker: {_short(exc)}"
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
        self, worker: _Worker, data: bytes, timeout: float, memory_mb: int, max_chars: int | None
    ) -> str:
        """One job on a started worker."""
        with self._lock:
            self._busy.add(worker)
        try:
            worker.send_job(data, timeout, memory_mb, max_chars)
            reply = worker.read_message(time.monotonic() + timeout)
        except _WorkerGone:
            reason = worker.exit_reason(timeout)
            worker.close()
            if self._closed:
                reason = "PDF extraction failed: the extractor was closed"
            raise PdfExtractionError(reason) from None
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


if __name__ == "__main__":
    raise SystemExit(worker_main())
