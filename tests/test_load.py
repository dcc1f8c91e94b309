"""Tests of the load/extract stage: walking, decoding, size and binary guards, sandboxed PDFs."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import signal
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfWriter

from search.parse.load import (
    SUPPORTED_SUFFIXES,
    LoadedText,
    LoadError,
    decode_text,
    iter_files,
    load_all,
    load_file,
)
from search.parse.pdf import PdfExtractionError, PdfExtractor, shared_extractor

SAMPLES = Path(__file__).resolve().parent.parent / "search" / "samples"
LETTER = SAMPLES / "000_1c8ed2636274dfbf.txt"
MIB = 1024 * 1024


# --------------------------------------------------------------------------- PDF builders


def letter_lines(path: Path) -> list[str]:
    """A sample letter's lines without the blank line that follows each one."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fpdf_bytes(pdf: FPDF) -> bytes:
    """The finished PDF."""
    return bytes(pdf.output())


def letter_pdf(pages: list[list[str]], *, user_password: str | None = None) -> bytes:
    """A real PDF (core font) with one page per list of lines."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            latin1 = line.encode("latin-1", "replace").decode("latin-1")
            pdf.multi_cell(0, 5, latin1, new_x="LMARGIN", new_y="NEXT")
    if user_password is not None:
        pdf.set_encryption(
            owner_password="owner-secret",
            user_password=user_password,
            encryption_method=EncryptionMethod.RC4,
        )
    return fpdf_bytes(pdf)


def image_only_pdf() -> bytes:
    """A PDF whose only page holds a filled rectangle and no text."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(40, 40, 40)
    pdf.rect(20, 20, 120, 60, style="F")
    return fpdf_bytes(pdf)


def raw_pdf(content: bytes, *, flate: bool = True, trailer: bytes = b"") -> bytes:
    """A hand-built one-page PDF whose page content stream is `content` (already encoded)."""
    filt = b" /Filter /FlateDecode" if flate else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), filt) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def repeated_deflate(chunk: bytes, times: int) -> bytes:
    """A valid zlib stream of `chunk` repeated `times` times, built without compressing it all."""
    compressor = zlib.compressobj(9)
    # A full flush makes the block self-contained, so copies of it can simply be concatenated.
    block = (compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH))[2:]
    checksum = 1
    for _ in range(times):
        checksum = zlib.adler32(chunk, checksum)
    return b"\x78\xda" + block * times + b"\x03\x00" + checksum.to_bytes(4, "big")


def write(path: Path, data: bytes | str) -> Path:
    """Create path (and its folders) with the given content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def reason(path: Path, **limits: int | float) -> str:
    """The LoadError reason load_file gives for path."""
    with pytest.raises(LoadError) as caught:
        load_file(path, **limits)  # type: ignore[arg-type]
    assert caught.value.path == str(path)
    assert str(caught.value) == f"{path}: {caught.value.reason}"
    return caught.value.reason


@pytest.fixture(scope="module")
def letter_pdf_bytes() -> bytes:
    """Two sample letters as a two-page PDF."""
    second = SAMPLES / "001_0b82ba24c13165eb.txt"
    return letter_pdf([letter_lines(LETTER), letter_lines(second)])


@pytest.fixture
def extractor() -> Iterator[PdfExtractor]:
    """A one-worker extractor, closed after the test."""
    with PdfExtractor(1) as ex:
        yield ex


# --------------------------------------------------------------------------- decoding

TEXT = "Café “Tizanidine” — Dr. Müller’s note\nline 2\n"


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (TEXT.encode("utf-8"), TEXT),
        (TEXT.encode("utf-8-sig"), TEXT),
        (TEXT.encode("cp1252"), TEXT),
        (TEXT.encode("utf-16"), TEXT),
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), TEXT),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), TEXT),
        (TEXT.encode("utf-32"), TEXT),
        ("naïve résumé".encode("latin-1"), "naïve résumé"),
        (b"a\r\nb\rc\n", "a\nb\nc\n"),
        (b"a\x00b\r\n\x00", "ab\n"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "cp1252",
        "utf16",
        "utf16le-bom",
        "utf16be-bom",
        "utf32",
        "latin1",
        "newlines",
        "nul",
    ],
)
def test_decode_text(encoded: bytes, expected: str) -> None:
    assert decode_text(encoded) == expected


def test_decode_invalid_bytes_never_raise() -> None:
    # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252: latin-1 is the last resort.
    assert decode_text(b"ok \x81\x8d\x8f\x90\x9d \xff") == "ok \x81\x8d\x8f\x90\x9d ÿ"
    assert decode_text(b"\xc3") == "Ã"
    assert decode_text(b"\xff\xfe\x41") == "\ufffd"  # odd-length UTF-16 body


def test_decode_mostly_utf8_with_stray_cp1252_bytes() -> None:
    data = "résumé “ok” ".encode() + b"\x93pasted\x94"
    assert decode_text(data) == "résumé “ok” “pasted”"
    assert decode_text(b"\xef\xbb\xbf" + data) == "résumé “ok” “pasted”"


@given(st.binary(max_size=2000))
def test_decode_text_total(data: bytes) -> None:
    text = decode_text(data)
    assert "\x00" not in text
    assert "\r" not in text


@given(st.text(alphabet=st.characters(exclude_characters="\r\x00", codec="utf-8"), max_size=300))
def test_decode_round_trips_utf8_and_utf16(text: str) -> None:
    assert decode_text(text.encode("utf-8")) == text
    assert decode_text(text.encode("utf-16")) == text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("utf8.txt", TEXT.encode("utf-8"), TEXT),
        ("bom.txt", TEXT.encode("utf-8-sig"), TEXT),
        ("win.txt", TEXT.replace("\n", "\r\n").encode("cp1252"), TEXT),
        ("wide.txt", TEXT.encode("utf-16"), TEXT),
        ("padded.txt", TEXT.encode() + b"\x00" * 5000, TEXT),
    ],
)
def test_load_text_file(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = write(tmp_path / name, data)
    loaded = load_file(path)
    assert loaded == LoadedText(str(path), expected, hashlib.sha256(data).hexdigest())


def test_load_sample_letter() -> None:
    loaded = load_file(LETTER)
    assert "IMR ISSUES, DECISIONS AND RATIONALES" in loaded.text
    assert loaded.sha256 == hashlib.sha256(LETTER.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- walking


def test_iter_files_recursive_sorted_filtered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [
        "b.txt",
        "a.PDF",
        "c.docx",
        "notes",
        "sub/z.txt",
        "sub/deeper/y.Txt",
        "sub/m.pdf",
        ".hidden.txt",
        ".git/x.txt",
        "sub/.cache/w.txt",
        "aa/k.txt",
    ]:
        write(tmp_path / "root" / name, "x")
    monkeypatch.chdir(tmp_path)
    found = [str(p) for p in iter_files(["root"])]
    assert found == [
        "root/a.PDF",
        "root/aa/k.txt",
        "root/b.txt",
        "root/sub/deeper/y.Txt",
        "root/sub/m.pdf",
        "root/sub/z.txt",
    ]
    assert all(isinstance(p, Path) for p in iter_files(["root"]))
    assert [str(p) for p in iter_files([Path("root/b.txt"), "root/.hidden.txt"])] == [
        "root/b.txt",
        "root/.hidden.txt",  # named explicitly, so not skipped
    ]
    assert SUPPORTED_SUFFIXES == (".txt", ".pdf")


def test_iter_files_missing_and_unsupported(tmp_path: Path) -> None:
    write(tmp_path / "letter.docx", "x")
    write(tmp_path / "README", "x")
    items = list(iter_files([tmp_path / "nope.txt", tmp_path / "letter.docx", tmp_path / "README"]))
    assert all(isinstance(i, LoadError) for i in items)
    errors = [i for i in items if isinstance(i, LoadError)]
    assert [e.path for e in errors] == [
        str(tmp_path / n) for n in ("nope.txt", "letter.docx", "README")
    ]
    assert errors[0].reason == "no such file or directory"
    assert errors[1].reason.startswith("unsupported file type '.docx'")
    assert errors[2].reason.startswith("unsupported file type (no suffix)")


def test_iter_files_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.txt", "x")
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a", tmp_path / "b")
    os.symlink(tmp_path / "gone.txt", tmp_path / "a" / "dangling.txt")
    items = list(iter_files([tmp_path]))
    paths = [str(i) for i in items if isinstance(i, Path)]
    assert paths == [str(tmp_path / "a" / "one.txt")]  # each real folder once: no loop, no dupes
    errors = [i for i in items if isinstance(i, LoadError)]
    assert [(e.path, e.reason) for e in errors] == [
        (str(tmp_path / "a" / "dangling.txt"), "broken symbolic link")
    ]


def test_iter_files_deep_tree(tmp_path: Path) -> None:
    deep = tmp_path
    for _ in range(60):
        deep = deep / "d"
    write(deep / "bottom.txt", "x")
    assert list(iter_files([tmp_path])) == [deep / "bottom.txt"]


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\n", b"\x00" * 100, "\ufeff  \n".encode()])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    assert reason(write(tmp_path / "e.txt", content)) == "empty file"


def test_empty_pdf(tmp_path: Path) -> None:
    assert reason(write(tmp_path / "e.pdf", b"")) == "empty file"


@pytest.mark.parametrize(
    "content",
    [
        os.urandom(100_000),
        zlib.compress(TEXT.encode() * 2000),
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50,
        bytes(range(32)) * 100,
    ],
    ids=["random", "zlib", "png", "controls"],  # (UTF-16 without a BOM is text: issue 9)
)
def test_binary_garbage(tmp_path: Path, content: bytes) -> None:
    assert reason(write(tmp_path / "g.txt", content)) == "not a text file (binary content)"


def test_text_with_a_few_controls_is_text(tmp_path: Path) -> None:
    data = b"\x1b[1mBold\x1b[0m heading\x0c\nPage 2\x1a"
    assert (
        load_file(write(tmp_path / "t.txt", data)).text
        == "\x1b[1mBold\x1b[0m heading\x0c\nPage 2\x1a"
    )


def test_huge_text_file_rejected_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        line = b"Tizanidine is not medically necessary.\n" * 1000
        while fh.tell() < 50 * MIB:
            fh.write(line)
    size = path.stat().st_size
    start = time.monotonic()
    got = reason(path)
    assert time.monotonic() - start < 1.0
    assert got == f"file too large: {size} bytes (limit {20 * MIB})"
    assert [str(e) for e in load_all([path])] == [f"{path}: {got}"]


def test_size_limit_boundary(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", b"x" * 100)
    assert load_file(path, max_bytes=100).text == "x" * 100
    assert reason(path, max_bytes=99) == "file too large: 100 bytes (limit 99)"


def test_directory_and_unsupported_given_to_load_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir.txt"
    folder.mkdir()
    assert reason(folder) == "is a directory"
    assert reason(write(tmp_path / "x.csv", "a,b")).startswith("unsupported file type '.csv'")
    assert reason(tmp_path / "missing.txt") == "no such file or directory"


def test_load_error_is_picklable() -> None:
    err = pickle.loads(pickle.dumps(LoadError("a/b.txt", "empty file")))
    assert (err.path, err.reason, str(err)) == ("a/b.txt", "empty file", "a/b.txt: empty file")


# --------------------------------------------------------------------------- PDFs


def test_pdf_round_trip(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    path = write(tmp_path / "letter.pdf", letter_pdf_bytes)
    loaded = load_file(path)
    assert loaded.source == str(path)
    assert loaded.sha256 == hashlib.sha256(letter_pdf_bytes).hexdigest()
    for line in ("IMR ISSUES, DECISIONS AND RATIONALES", "CLINICAL CASE SUMMARY", "Tizanidine"):
        assert line.lower() in loaded.text.lower()
    # PDFium gives a run of spaces as one (the parser reads any run of spaces as one).
    one_line = "TIZANIDINE 4MG Q PRN/ QHS/PRN FOR SEVERE MUSCLE SPASMS: Overturned"
    assert one_line in loaded.text.replace("  ", " ")
    # One line per line (layout-free text, as pypdf gives it), pages joined by a blank line.
    assert "\nCLINICAL CASE SUMMARY\n" in loaded.text
    assert "\n\nHOW THE IMR FINAL DETERMINATION WAS MADE" in loaded.text
    assert "\r" not in loaded.text


def test_pdf_latin1_text(tmp_path: Path) -> None:
    path = write(tmp_path / "accents.pdf", letter_pdf([["Café naïve résumé – “quoted”"]]))
    assert "Café naïve résumé" in load_file(path).text


def test_truncated_pdf(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    path = write(tmp_path / "cut.pdf", letter_pdf_bytes[: len(letter_pdf_bytes) // 2])
    assert reason(path).startswith("corrupt PDF: ")


def test_not_a_pdf_at_all(tmp_path: Path) -> None:
    assert reason(write(tmp_path / "fake.pdf", TEXT)).startswith("corrupt PDF: ")


def test_encrypted_pdf(tmp_path: Path) -> None:
    data = letter_pdf([letter_lines(LETTER)], user_password="s3cret")
    assert b"/Encrypt" in data
    assert reason(write(tmp_path / "locked.pdf", data)) == "encrypted PDF (password required)"


def test_encrypted_pdf_with_empty_password_is_extracted(
    tmp_path: Path, letter_pdf_bytes: bytes
) -> None:
    writer = PdfWriter(clone_from=io.BytesIO(letter_pdf_bytes))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert b"/Encrypt" in out.getvalue()
    loaded = load_file(write(tmp_path / "owner-only.pdf", out.getvalue()))
    assert "IMR ISSUES, DECISIONS AND RATIONALES" in loaded.text


def test_pdf_with_unsupported_encryption(tmp_path: Path) -> None:
    content = b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET"
    data = raw_pdf(content, flate=False, trailer=b" /Encrypt << /Filter /Adobe.PubSec /V 4 >>")
    assert reason(write(tmp_path / "cert.pdf", data)).startswith("encrypted PDF (cannot decrypt")


def test_uncompressed_hand_made_pdf(tmp_path: Path) -> None:
    content = b"BT /F1 12 Tf 72 700 Td (Hello from a hand-made PDF) Tj ET"
    path = write(tmp_path / "hand.pdf", raw_pdf(content, flate=False))
    assert load_file(path).text == "Hello from a hand-made PDF"


def test_image_only_pdf(tmp_path: Path) -> None:
    got = reason(write(tmp_path / "scan.pdf", image_only_pdf()))
    assert got == "no extractable text (image-only PDF? OCR is not supported)"


def test_decompression_bomb(tmp_path: Path) -> None:
    bomb = raw_pdf(repeated_deflate(b"\x00" * MIB, 400))  # 400 MiB of zeros in 400 KB
    assert len(bomb) < MIB
    path = write(tmp_path / "bomb.pdf", bomb)
    start = time.monotonic()
    got = reason(path)
    assert time.monotonic() - start < 10
    assert got.startswith("PDF exceeds a safety limit: ")


def test_memory_limit(tmp_path: Path) -> None:
    # 70 MiB inflated stays under pypdf's 75 MB cap, but not under a 100 MB address space.
    path = write(tmp_path / "fat.pdf", raw_pdf(repeated_deflate(b"\x00" * MIB, 70)))
    assert reason(path, pdf_memory_mb=100).startswith("PDF extraction exceeded the memory limit")


def test_timeout(tmp_path: Path, extractor: PdfExtractor, letter_pdf_bytes: bytes) -> None:
    ops = b"BT /F1 12 Tf 72 700 Td (Hello world) Tj ET\n" * 20_000
    slow = raw_pdf(repeated_deflate(ops, 25))  # ~21 MB of text operators: seconds of parsing
    start = time.monotonic()
    with pytest.raises(PdfExtractionError, match=r"^PDF extraction timed out after 0\.5s$"):
        extractor.extract(slow, timeout=0.5)
    assert time.monotonic() - start < 5
    # The killed worker is replaced: the same extractor goes on working.
    assert "IMR ISSUES" in extractor.extract(letter_pdf_bytes)
    path = write(tmp_path / "slow.pdf", slow)
    assert reason(path, pdf_timeout=0.5) == "PDF extraction timed out after 0.5s"


def test_worker_survives_errors(extractor: PdfExtractor, letter_pdf_bytes: bytes) -> None:
    fat = raw_pdf(repeated_deflate(b"\x00" * MIB, 70))
    for bad in (b"%PDF-1.4 garbage", image_only_pdf(), fat):
        with pytest.raises(PdfExtractionError):
            extractor.extract(bad, memory_mb=100)
        assert "Tizanidine" in extractor.extract(letter_pdf_bytes).title()


def test_extracted_text_cap(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    path = write(tmp_path / "l.pdf", letter_pdf_bytes)
    # max_bytes also caps the characters extracted from a PDF.
    got = reason(path, max_bytes=len(letter_pdf_bytes))
    assert got.startswith("extracted text too large")


def worker_pids() -> list[int]:
    """The pids of this process's PDF worker children (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat_fields[1]) == os.getpid() and b"parse/pdf_worker.py" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_worker_killed_mid_job(extractor: PdfExtractor, letter_pdf_bytes: bytes) -> None:
    ops = b"BT /F1 12 Tf 72 700 Td (Hello world) Tj ET\n" * 20_000
    slow = raw_pdf(repeated_deflate(ops, 25))
    before = set(worker_pids())
    extractor.extract(letter_pdf_bytes)  # the worker is up
    (pid,) = set(worker_pids()) - before
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(extractor.extract, slow, timeout=30)
        time.sleep(0.3)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(PdfExtractionError, match="killed"):
            job.result(timeout=10)
    assert "IMR ISSUES" in extractor.extract(letter_pdf_bytes)  # a new worker took over


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_no_worker_left_behind(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    for n in range(4):
        write(tmp_path / f"{n}.pdf", letter_pdf_bytes)
    before = set(worker_pids())
    assert all(isinstance(r, LoadedText) for r in load_all([tmp_path], workers=2))
    assert set(worker_pids()) <= before
    batch = load_all([tmp_path], workers=2)
    next(batch)
    assert set(worker_pids()) - before
    batch.close()
    assert set(worker_pids()) <= before


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_load_file_reuses_the_shared_worker(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    path = write(tmp_path / "l.pdf", letter_pdf_bytes)
    load_file(path)
    workers = set(worker_pids())
    for _ in range(3):
        assert "IMR ISSUES" in load_file(path).text
    assert set(worker_pids()) == workers  # no new process per call


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_gets_its_own_workers(tmp_path: Path, letter_pdf_bytes: bytes) -> None:
    path = write(tmp_path / "l.pdf", letter_pdf_bytes)
    load_file(path)  # the parent's shared extractor has a live worker
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            code = 0 if "IMR ISSUES" in load_file(path).text else 1
            shared_extractor().close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "IMR ISSUES" in load_file(path).text  # the parent's worker was left alone


def test_closed_extractor(letter_pdf_bytes: bytes) -> None:
    ex = PdfExtractor(1)
    assert "IMR ISSUES" in ex.extract(letter_pdf_bytes)
    ex.close()
    with pytest.raises(PdfExtractionError, match="closed"):
        ex.extract(letter_pdf_bytes)


# --------------------------------------------------------------------------- batches


def make_mixed_folder(root: Path, letter_pdf_bytes: bytes) -> tuple[list[Path], dict[Path, str]]:
    """A folder of good and bad files: the good paths and, per bad path, its reason prefix."""
    good = [
        write(root / "a_letter.txt", LETTER.read_bytes()),
        write(root / "b_letter.pdf", letter_pdf_bytes),
        write(root / "sub" / "c_cp1252.txt", TEXT.encode("cp1252")),
        write(root / "sub" / "d_utf16.TXT", TEXT.encode("utf-16")),
    ]
    bad = {
        write(root / "e_cut.pdf", letter_pdf_bytes[:700]): "corrupt PDF: ",
        write(root / "f_locked.pdf", letter_pdf([["x"]], user_password="pw")): "encrypted PDF",
        write(root / "g_scan.pdf", image_only_pdf()): "no extractable text",
        write(root / "h_empty.txt", b""): "empty file",
        write(root / "i_binary.txt", os.urandom(5000)): "not a text file",
        write(root / "sub" / "j_bomb.pdf", raw_pdf(repeated_deflate(b"\x00" * MIB, 100))): (
            "PDF exceeds a safety limit"
        ),
    }
    write(root / "ignored.docx", b"PK")
    return good, bad


@pytest.mark.parametrize("workers", [1, 2])
def test_mixed_batch(tmp_path: Path, letter_pdf_bytes: bytes, workers: int) -> None:
    good, bad = make_mixed_folder(tmp_path / "in", letter_pdf_bytes)
    missing = tmp_path / "missing"
    extra = write(tmp_path / "notes.md", "x")
    results = list(load_all([tmp_path / "in", missing, extra], workers=workers))
    expected_order = [str(p) for p in iter_files([tmp_path / "in"])] + [str(missing), str(extra)]
    assert [r.source if isinstance(r, LoadedText) else r.path for r in results] == expected_order
    loaded = {r.source: r for r in results if isinstance(r, LoadedText)}
    errors = {e.path: e for e in results if isinstance(e, LoadError)}
    assert sorted(loaded) == sorted(str(p) for p in good)
    assert all(loaded[str(p)].text.strip() for p in good)
    assert "Tizanidine" in loaded[str(good[1])].text.title()
    assert loaded[str(good[2])].text == TEXT
    for path, prefix in bad.items():
        assert errors[str(path)].reason.startswith(prefix), errors[str(path)]
    assert errors[str(missing)].reason == "no such file or directory"
    assert errors[str(extra)].reason.startswith("unsupported file type '.md'")
    assert len(errors) == len(bad) + 2


def test_abandoned_batch_stops_quickly(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "first")
    ops = b"BT /F1 12 Tf 72 700 Td (Hello world) Tj ET\n" * 20_000
    for n in range(3):
        write(tmp_path / f"b{n}.pdf", raw_pdf(repeated_deflate(ops, 25)))
    start = time.monotonic()
    batch = load_all([tmp_path], workers=2)
    first = next(batch)
    assert isinstance(first, LoadedText) and first.text == "first"
    batch.close()  # the slow PDFs in flight are killed, not waited for
    assert time.monotonic() - start < 5


def test_load_all_samples_in_order() -> None:
    results = list(load_all([SAMPLES]))
    assert [r.source for r in results if isinstance(r, LoadedText)] == [
        str(p) for p in sorted(SAMPLES.glob("*.txt"))
    ]
