"""Find letter files (.txt, .pdf) and turn each into text, one clear error per bad file."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .decode import decode_text, looks_binary, normalize_newlines, utf16_without_bom
from .pdf import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    NO_TEXT,
    PdfExtractionError,
    PdfExtractor,
    shared_extractor,
)

SUPPORTED_SUFFIXES = (".txt", ".pdf")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_PDF_TIMEOUT = DEFAULT_TIMEOUT
DEFAULT_PDF_MEMORY_MB = DEFAULT_MEMORY_MB
# Decoding is its own stage (decode.py); these stay importable from here.
__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadError",
    "LoadedText",
    "decode_text",
    "iter_files",
    "load_all",
    "load_file",
    "looks_binary",
    "utf16_without_bom",
]

_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class LoadedText:
    """The text of one letter file."""

    source: str
    text: str
    sha256: str


class LoadError(Exception):
    """One file that could not be loaded: str(e) == f"{path}: {reason}"."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[LoadError], tuple[str, str]]:
        return (LoadError, (self.path, self.reason))


def _os_reason(exc: OSError) -> str:
    """'no such file or directory' and the like, from an OSError."""
    text = exc.strerror or type(exc).__name__
    return text[:1].lower() + text[1:]


def _supported(name: str) -> bool:
    """Whether a file name has a suffix this stage loads."""
    return os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES


def _unsupported(path: Path) -> LoadError:
    """The error for an explicitly named file of another type."""
    suffix = repr(path.suffix) if path.suffix else "(no suffix)"
    expected = ", ".join(SUPPORTED_SUFFIXES)
    return LoadError(str(path), f"unsupported file type {suffix} (expected {expected})")


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path | LoadError]:
    """Each loadable file under the given files and folders, in a deterministic order."""
    for raw in paths:
        path = Path(raw)
        try:
            info = path.stat()
        except OSError as exc:
            broken = isinstance(exc, FileNotFoundError) and path.is_symlink()
            yield LoadError(str(path), "broken symbolic link" if broken else _os_reason(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(path, info)
        elif not _supported(path.name):
            yield _unsupported(path)
        elif not stat.S_ISREG(info.st_mode):
            yield LoadError(str(path), "not a regular file")
        else:
            yield path


def _sorted_entries(folder: Path) -> Iterator[os.DirEntry[str]] | LoadError:
    """The visible entries of a folder sorted by name, or the error listing it."""
    try:
        with os.scandir(folder) as scan:
            entries = [e for e in scan if not e.name.startswith(".")]
    except OSError as exc:
        return LoadError(str(folder), _os_reason(exc))
    return iter(sorted(entries, key=lambda e: e.name))


def _walk(root: Path, info: os.stat_result) -> Iterator[Path | LoadError]:
    """Depth-first, name-sorted walk; each real folder is entered once, so symlink loops end."""
    seen = {(info.st_dev, info.st_ino)}
    # An explicit stack rather than recursion: folder depth is not bounded by anything.
    stack: list[tuple[Path, Iterator[os.DirEntry[str]]]] = []
    listing = _sorted_entries(root)
    if isinstance(listing, LoadError):
        yield listing
        return
    stack.append((root, listing))
    while stack:
        folder, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        path = folder / entry.name
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            yield LoadError(str(path), _os_reason(exc))
            continue
        if is_dir:
            try:
                sub = entry.stat()
            except OSError as exc:
                yield LoadError(str(path), _os_reason(exc))
                continue
            if (sub.st_dev, sub.st_ino) in seen:
                continue
            seen.add((sub.st_dev, sub.st_ino))
            listing = _sorted_entries(path)
            if isinstance(listing, LoadError):
                yield listing
            else:
                stack.append((path, listing))
        elif _supported(entry.name):
            if is_file:
                yield path
            elif entry.is_symlink() and not os.path.exists(path):
                yield LoadError(str(path), "broken symbolic link")
            else:  # a FIFO, socket or device named *.txt: said, never opened (a FIFO blocks)
                yield LoadError(str(path), "not a regular file")


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, reading at most max_bytes + 1 of them; raises LoadError."""
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO that was swapped in must not hang the batch.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LoadError(source, _os_reason(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "is a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise LoadError(source, kind)
        if info.st_size > max_bytes:
            raise LoadError(source, _too_large(info.st_size, max_bytes))
        parts: list[bytes] = []
        size = 0
        # st_size + 1 in the first read finds the end at once; the loop covers a growing file.
        want = min(info.st_size, max_bytes) + 1
        while size <= max_bytes and (chunk := os.read(fd, want)):
            parts.append(chunk)
            size += len(chunk)
            want = max_bytes + 1 - size
    except OSError as exc:
        raise LoadError(source, _os_reason(exc)) from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise LoadError(source, _too_large(max(size, info.st_size), max_bytes))
    return b"".join(parts)


def _too_large(size: int, max_bytes: int) -> str:
    """The reason for a file over the size cap."""
    return f"file too large: {size} bytes (limit {max_bytes})"


def load_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pdf_timeout: float = DEFAULT_PDF_TIMEOUT,
    pdf_memory_mb: int = DEFAULT_PDF_MEMORY_MB,
    extractor: PdfExtractor | None = None,
) -> LoadedText:
    """Load one .txt or .pdf file; raises LoadError."""
    path = Path(path)
    source = str(path)
    if not _supported(path.name):
        raise _unsupported(path)
    data = _read_capped(path, max_bytes)
    if not data.strip(b" \t\r\n\x00\x0b\x0c"):
        raise LoadError(source, "empty file")
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".pdf":
        text = _pdf_text(source, data, max_bytes, pdf_timeout, pdf_memory_mb, extractor)
    else:
        if looks_binary(data):
            raise LoadError(source, "not a text file (binary content)")
        text = decode_text(data)
        if not text.strip():
            raise LoadError(source, "empty file")
    return LoadedText(source=source, text=text, sha256=digest)


def _pdf_text(
    source: str,
    data: bytes,
    max_chars: int,
    timeout: float,
    memory_mb: int,
    extractor: PdfExtractor | None,
) -> str:
    """The normalized text of a PDF, extracted in a sandboxed worker; raises LoadError."""
    # Without an extractor of the caller's, use this process's shared one: its workers outlive
    # the call, so only the first PDF pays for starting Python and importing pypdf.
    extractor = extractor or shared_extractor()
    try:
        raw = extractor.extract(data, timeout=timeout, memory_mb=memory_mb, max_chars=max_chars)
    except PdfExtractionError as exc:
        raise LoadError(source, exc.reason) from None
    # pypdf can emit lone surrogates from broken font maps; they would break any later encode().
    text = normalize_newlines(_SURROGATES.sub("\ufffd", raw))
    if not text.strip():
        raise LoadError(source, NO_TEXT)
    return text


def _load_or_error(path: Path, extractor: PdfExtractor, limits: _Limits) -> LoadedText | LoadError:
    """load_file, with its error returned instead of raised."""
    try:
        return load_file(
            path,
            max_bytes=limits.max_bytes,
            pdf_timeout=limits.pdf_timeout,
            pdf_memory_mb=limits.pdf_memory_mb,
            extractor=extractor,
        )
    except LoadError as exc:
        return exc
    except Exception as exc:  # one file must never stop the batch, whatever went wrong
        return LoadError(str(path), f"could not load: {type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class _Limits:
    """The per-file limits of one batch."""

    max_bytes: int
    pdf_timeout: float
    pdf_memory_mb: int


def load_all(
    paths: Iterable[str | os.PathLike[str]],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    pdf_timeout: float = DEFAULT_PDF_TIMEOUT,
    pdf_memory_mb: int = DEFAULT_PDF_MEMORY_MB,
    workers: int | None = None,
) -> Generator[LoadedText | LoadError, None, None]:
    """Load every file under paths, in iter_files order; errors are yielded, never raised."""
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    limits = _Limits(max_bytes, pdf_timeout, pdf_memory_mb)
    # PDFs go to threads (each driving one worker process) so several extract at once; text
    # files are quicker loaded right here. Results are still yielded in iter_files order.
    window = 2 * workers
    pending: deque[Future[LoadedText | LoadError] | LoadedText | LoadError] = deque()
    extractor = PdfExtractor(workers)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imr-load")
    try:
        for item in iter_files(paths):
            if isinstance(item, LoadError):
                pending.append(item)
            elif item.suffix.lower() == ".pdf":
                pending.append(pool.submit(_load_or_error, item, extractor, limits))
            else:
                pending.append(_load_or_error(item, extractor, limits))
            while pending and (len(pending) > window or _ready(pending[0])):
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        # Closing the extractor first ends running PDF jobs, so an abandoned batch stops fast.
        extractor.close()
        pool.shutdown(wait=True, cancel_futures=True)
        extractor.close()


def _ready(item: Future[LoadedText | LoadError] | LoadedText | LoadError) -> bool:
    """Whether a pending batch item can be yielded without waiting."""
    return not isinstance(item, Future) or item.done()


def _result(
    item: Future[LoadedText | LoadError] | LoadedText | LoadError,
) -> LoadedText | LoadError:
    """A pending batch item's outcome (waiting for it if it is still running)."""
    return item.result() if isinstance(item, Future) else item
