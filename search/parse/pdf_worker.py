"""The sandboxed PDF-to-text worker: PDFium (pypdfium2) first, pypdf when PDFium cannot decide."""

# Run as a script (search/parse/pdf.py starts it), this module reads jobs from stdin (a JSON
# header line, then the PDF's bytes) and answers each with one JSON line. Each job runs under an
# address-space limit (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU). It imports nothing from the
# package, so it runs by file path without the package on sys.path.

from __future__ import annotations

import ctypes
import io
import json
import math
import os
import re
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

MAX_CAUSE_CHARS = 160
# A worker is replaced after this many jobs, or when its heap has grown past half its limit, so
# that fragmentation or leaks from one odd PDF cannot eat into the budget of later ones.
MAX_JOBS_PER_WORKER = 200
DEFAULT_MAX_PAGES = 1000
PDFIUM = "pdfium"
PYPDF = "pypdf"

ENCRYPTED = "encrypted PDF (password required)"
NEEDS_CRYPTOGRAPHY = "encrypted PDF (decrypting it needs the 'cryptography' package)"
NO_TEXT = "no extractable text (image-only PDF? OCR is not supported)"

# PDFium joins a word hyphenated at a line end into one line and marks the hyphen U+FFFE.
_LINE_BREAK = re.compile("\r\n|\ufffe")
_SAME_LINE = 1.0  # points: a blank object this close to a text baseline is on that line


class PdfExtractionError(Exception):
    """Text could not be extracted from one PDF; the message is the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PdfiumCannot(Exception):
    """PDFium could not open the document as it is (pypdf decides instead)."""


def describe(exc: BaseException) -> str:
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
        return f"PDF needs a package that is not installed: {describe(exc)}"
    if _raised_in(exc, ("_encryption.py", "_crypt_providers")):
        return f"encrypted PDF (cannot decrypt: {describe(exc)})"
    if isinstance(exc, LimitReachedError):
        return f"PDF exceeds a safety limit: {describe(exc)}"
    if isinstance(exc, RecursionError):
        return "corrupt PDF: objects nested too deeply"
    if type(exc).__module__.startswith("pypdf"):
        return f"corrupt PDF: {describe(exc)}"
    return f"corrupt PDF: {type(exc).__name__}: {describe(exc)}"


def _too_many_pages(count: int, max_pages: int) -> PdfExtractionError:
    """The error for a PDF over the page cap."""
    return PdfExtractionError(f"PDF has too many pages: {count} (limit {max_pages})")


def _too_much_text(max_chars: int) -> PdfExtractionError:
    """The error for a PDF whose text is over the character cap."""
    return PdfExtractionError(f"extracted text too large (limit {max_chars} characters)")


def _capped(pages: Iterator[str], max_chars: int | None) -> list[str]:
    """The pages' texts, raising once their joined length would pass max_chars."""
    texts: list[str] = []
    total = 0
    for text in pages:
        texts.append(text)
        total += len(text) + 2  # the blank line _joined puts between pages
        if max_chars is not None and total > max_chars:
            raise _too_much_text(max_chars)
    return texts


def _joined(texts: list[str]) -> str:
    """Pages joined by a blank line; raises if there is no text at all."""
    text = "\n\n".join(texts)
    if not text.strip():
        raise PdfExtractionError(NO_TEXT)
    return text


def extract_text_pypdf(
    data: bytes, max_chars: int | None = None, max_pages: int = DEFAULT_MAX_PAGES
) -> str:
    """Every page's text with pypdf, pages joined by a blank line; raises PdfExtractionError."""
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
    if count > max_pages:
        raise _too_many_pages(count, max_pages)

    def pages() -> Iterator[str]:
        for number in range(count):
            try:
                text = reader.pages[number].extract_text()
            except MemoryError:
                raise
            except Exception as exc:
                reason = _failure_reason(exc)
                if reason.startswith("corrupt PDF: ") and count > 1:
                    page = f"page {number + 1}: "
                    reason = f"corrupt PDF: {page}{reason.removeprefix('corrupt PDF: ')}"
                raise PdfExtractionError(reason) from None
            yield text

    return _joined(_capped(pages(), max_chars))


def _address(obj: Any) -> int:
    """A page object's handle as a plain number (to compare handles)."""
    return ctypes.addressof(obj.contents) if obj else 0


def _page_objects(raw: Any, page: Any) -> tuple[dict[int, int], list[tuple[int, float]]]:
    """Each text object's position in the content stream, and the whitespace-only ones' baselines.

    Word and its kin write an empty paragraph as a text object holding one space; pypdf gives
    it as a line of its own, and the parser reads such blank lines as paragraph breaks, but
    PDFium's text leaves them out. A whitespace glyph has no ink, so PDFium bounds such an
    object with zero height, at its baseline.
    """
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    refs = [ctypes.byref(v) for v in (left, bottom, right, top)]
    order: dict[int, int] = {}
    blanks: list[tuple[int, float]] = []
    for index in range(raw.FPDFPage_CountObjects(page)):
        obj = raw.FPDFPage_GetObject(page, index)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_TEXT:
            continue
        order[_address(obj)] = index
        if raw.FPDFPageObj_GetBounds(obj, *refs) and top.value - bottom.value < 1e-3:
            blanks.append((index, bottom.value))
    return order, blanks


def _pdfium_lines(raw: Any, textpage: Any) -> list[tuple[str, int, float]]:
    """The page's text lines, each with the index of its first character and its baseline."""
    text: str = textpage.get_text_range()
    x, y = ctypes.c_double(), ctypes.c_double()
    lines: list[tuple[str, int, float]] = []
    start = 0
    for match in (*_LINE_BREAK.finditer(text), None):
        end = match.start() if match else len(text)
        line = text[start:end] + ("-" if match and match.group() == "\ufffe" else "")
        first = start + len(line) - len(line.lstrip())
        baseline = math.nan
        if first < end:
            raw.FPDFText_GetCharOrigin(textpage, first, ctypes.byref(x), ctypes.byref(y))
            baseline = y.value
        lines.append((line, first, baseline))
        start = match.end() if match else end
    return lines


def _pdfium_page_text(raw: Any, page: Any) -> str:
    """One page's text as pypdf lays it out: a line per text line, blank lines kept."""
    order, blanks = _page_objects(raw, page)
    textpage = page.get_textpage()
    try:
        lines = _pdfium_lines(raw, textpage)
        # Where each line starts in the content stream (None: inside a form, say).
        starts = [
            order.get(_address(raw.FPDFText_GetTextObject(textpage, first)))
            if not math.isnan(baseline)
            else None
            for _, first, baseline in lines
        ]
    finally:
        textpage.close()
    # A blank object that comes, in the content stream, between two lines' first objects is a
    # blank line there, unless it sits on either line (a space between two words of a line).
    out: list[str] = []
    above = math.nan  # the baseline of the last line or blank line given
    pending = iter(blanks)
    blank = next(pending, None)
    for (line, _, baseline), start in zip(lines, starts, strict=True):
        if start is not None:
            while blank is not None and blank[0] < start:
                if not (_near(blank[1], above) or _near(blank[1], baseline)):
                    out.append(" ")
                    above = blank[1]
                blank = next(pending, None)
        if not math.isnan(baseline):
            above = baseline
        out.append(line)
    for _, at in ([blank] if blank else []) + list(pending):
        if not _near(at, above):
            out.append(" ")
            above = at
    return "\n".join(out)


def _near(a: float, b: float) -> bool:
    """Whether two baselines are on one line (false when either is unknown)."""
    return abs(a - b) <= _SAME_LINE


def extract_text_pdfium(
    data: bytes, max_chars: int | None = None, max_pages: int = DEFAULT_MAX_PAGES
) -> str:
    """Every page's text with PDFium, laid out as pypdf does; raises PdfExtractionError.

    Raises _PdfiumCannot when PDFium cannot open the file, had to repair it or found no text:
    pypdf, stricter, then decides (and names the problem).
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise _PdfiumCannot from None
    try:
        if not raw.FPDF_DocumentHasValidCrossReferenceTable(pdf):
            raise _PdfiumCannot
        count = len(pdf)
        if count == 0:
            raise _PdfiumCannot
        if count > max_pages:
            raise _too_many_pages(count, max_pages)

        def pages() -> Iterator[str]:
            for number in range(count):
                try:
                    page = pdf[number]
                except pdfium.PdfiumError:
                    raise _PdfiumCannot from None
                try:
                    text = _pdfium_page_text(raw, page)
                finally:
                    page.close()
                yield text  # the page is closed before the caller counts its text

        texts = _capped(pages(), max_chars)
    finally:
        pdf.close()
    if not any(t.strip() for t in texts):
        raise _PdfiumCannot  # a scan, or a decompression bomb: pypdf's limits tell which
    return _joined(texts)


def extract_text(
    data: bytes,
    max_chars: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    backend: str = PDFIUM,
) -> str:
    """The text of every page, pages joined by a blank line; raises PdfExtractionError."""
    if backend == PDFIUM and pdfium_available():
        try:
            return extract_text_pdfium(data, max_chars, max_pages)
        except _PdfiumCannot:
            pass
    return extract_text_pypdf(data, max_chars, max_pages)


def pdfium_available() -> bool:
    """Whether pypdfium2 can be imported here."""
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------- the worker loop


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


def encode(message: dict[str, Any]) -> bytes:
    """One JSON line (ASCII, so lone surrogates survive the pipe)."""
    return json.dumps(message).encode("ascii") + b"\n"


def _send(stream: BinaryIO, line: bytes) -> None:
    """Write one reply line."""
    stream.write(line)
    stream.flush()


def out_of_memory(memory_mb: int) -> str:
    """The reason given when extraction ran out of memory."""
    return f"PDF extraction exceeded the memory limit ({memory_mb} MB)"


def _answer(data: bytes, job: dict[str, Any], retire: bool) -> tuple[bytes, bool]:
    """The encoded reply to one job, and whether the worker should retire after sending it."""
    memory_mb = int(job["memory_mb"])
    try:
        try:
            text = extract_text(
                data,
                job.get("max_chars"),
                int(job.get("max_pages", DEFAULT_MAX_PAGES)),
                str(job.get("backend", PDFIUM)),
            )
            reply: dict[str, Any] = {"text": text}
        except PdfExtractionError as exc:
            reply = {"error": exc.reason}
        retire = retire or _heap_too_big(memory_mb)
        return encode({**reply, "retire": retire}), retire
    except MemoryError:
        pass  # answered below, once the frames that filled the memory have been released
    return encode({"error": out_of_memory(memory_mb), "retire": True}), True


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
    if not pdfium_available():
        try:
            import pypdf  # noqa: F401
        except ImportError as exc:
            _send(
                stdout,
                encode({"ready": False, "error": f"PDF support unavailable: {describe(exc)}"}),
            )
            return 1
    _send(stdout, encode({"ready": True}))
    jobs = 0
    while header := stdin.readline():
        job = json.loads(header)
        data = _read_exact(stdin, int(job["size"]))
        _set_job_limits(float(job["timeout"]), int(job["memory_mb"]))
        jobs += 1
        line, retire = _answer(data, job, jobs >= MAX_JOBS_PER_WORKER)
        del data
        _send(stdout, line)
        if retire:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(worker_main())
