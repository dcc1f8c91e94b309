"""Stage 0, decode: a text file's bytes into text whatever the common encoding, and the test
that refuses binary content (pure functions of the bytes)."""

from __future__ import annotations

import codecs
import re

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


def normalize_newlines(text: str) -> str:
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
            return normalize_newlines(data[len(bom) :].decode(encoding, errors))
    if wide := utf16_without_bom(data[:SNIFF_BYTES]):
        return normalize_newlines(data.decode(wide, "replace"))
    try:
        return normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", "replace")
    bad = as_utf8.count("\ufffd")
    good = len(as_utf8) - len(as_utf8.encode("ascii", "ignore")) - bad
    if good > bad:
        # Mostly UTF-8 with stray legacy bytes (e.g. pasted from a cp1252 document).
        return normalize_newlines(data.decode("utf-8", _FALLBACK))
    return normalize_newlines(codecs.charmap_decode(data, "strict", _CP1252)[0])


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
