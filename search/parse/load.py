"""Find letter files (.txt, .pdf) and turn each into text, one clear error per bad file."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

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

SNIFF_BYTES = 64 * 1024
MAX_CONTROL_RATIO = 0.30
MAX_NUL_RATIO = 0.01
# Text in a legacy encoding has next to no C0 controls; random or compressed bytes have ~11%,
# and under 40% printable ASCII where Western text has far more.
MAX_CONTROL_RATIO_NOT_UTF8 = 0.05
MAX_CONTROL_RATIO_NOT_UTF8_NOT_ASCII = 0.005
MIN_ASCII_RATIO = 0.6

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# C0 controls other than tab, LF, VT, FF, CR and ESC (ANSI colour codes are still text), and DEL.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_ASCII_TEXT_BYTES = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
_CONTROL_CHARS = re.compile("[" + re.escape(_CONTROL_BYTES.decode("latin-1")) + "]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _cp1252_table() -> str:
    """cp1252, with latin-1 for the five bytes cp1252 leaves undefined: decodes any byte."""
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars)


_CP1252 = _cp1252_table()


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the bytes UTF-8 rejected as cp1252 (latin-1 if undefined)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return codecs.charmap_decode(exc.object[exc.start : exc.end], "strict", _CP1252)[0], exc.end


_FALLBACK = "search.parse.load.cp1252"
codecs.register_error(_FALLBACK, _cp1252_fallback)


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


def _normalize(text: str) -> str:
    """Drop NULs and turn CRLF and lone CR into LF."""
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def utf16_without_bom(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text without a byte-order mark (mostly Latin
    text: nearly every other byte is NUL, on the same side), else None."""
    if len(sample) < 8 or sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if zeros_odd >= 0.9 * len(odd) and zeros_even <= 0.1 * len(even):
        return "utf-16-le"
    if zeros_even >= 0.9 * len(even) and zeros_odd <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(data: bytes) -> str:
    """Decode a text file's bytes whatever the common encoding; never raises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            errors = _FALLBACK if encoding == "utf-8" else "replace"
            return _normalize(data[len(bom) :].decode(encoding, errors))
    if wide := utf16_without_bom(data[:SNIFF_BYTES]):
        return _normalize(data.decode(wide, "replace"))
    try:
        return _normalize(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", "replace")
    bad = as_utf8.count("\ufffd")
    good = len(as_utf8) - len(as_utf8.encode("ascii", "ignore")) - bad
    if good > bad:
        # Mostly UTF-8 with stray legacy bytes (e.g. pasted from a cp1252 document).
        return _normalize(data.decode("utf-8", _FALLBACK))
    return _normalize(codecs.charmap_decode(data, "strict", _CP1252)[0])


def _is_utf8(sample: bytes) -> bool:
    """Whether a prefix of a file is valid UTF-8 (a sequence cut at the end is fine)."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3
    return True


def looks_binary(data: bytes) -> bool:
    """Whether the start of a file is binary content rather than text."""
    sample = data[:SNIFF_BYTES].rstrip(b"\x00")  # NUL padding after a crash is still text
    if not sample:
        return False
    for bom, encoding in _BOMS:
        if sample.startswith(bom) and encoding != "utf-8":
            text = sample[len(bom) :].decode(encoding, "replace")
            return len(_CONTROL_CHARS.findall(text)) > MAX_CONTROL_RATIO * max(len(text), 1)
    if wide := utf16_without_bom(data[:SNIFF_BYTES]):
        text = data[:SNIFF_BYTES].decode(wide, "replace")
        return len(_CONTROL_CHARS.findall(text)) > MAX_CONTROL_RATIO * max(len(text), 1)
    controls = len(sample.translate(None, _TEXT_BYTES))
    if controls > MAX_CONTROL_RATIO * len(sample):
        return True
    if sample.count(0) > MAX_NUL_RATIO * len(sample):
        return True
    if controls <= MAX_CONTROL_RATIO_NOT_UTF8_NOT_ASCII * len(sample) or _is_utf8(sample):
        return False
    if controls > MAX_CONTROL_RATIO_NOT_UTF8 * len(sample):
        return True
    ascii_text = len(sample) - len(sample.translate(None, _ASCII_TEXT_BYTES))
    return ascii_text < MIN_ASCII_RATIO * len(sample)


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
    text = _normalize(_SURROGATES.sub("\ufffd", raw))
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
