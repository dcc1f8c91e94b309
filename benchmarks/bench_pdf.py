"""PDF-to-text: pypdf against pypdfium2 on real letters, speed and parse quality.

    python -m benchmarks.bench_pdf [FOLDER] [--rounds 3]

For every PDF of FOLDER (default ../shared/real-letters/pdf), extracts the text with each
library (in this process, one core, best of --rounds), parses both texts, and compares what
the parser finds: the number of decisions and each decision's outcome, drug, category and
request, and the letter's id, date, states and specialties.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-letters" / "pdf"


def with_pypdf(data: bytes) -> str:
    """Text of every page with pypdf (what the sandboxed workers ran before)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join(page.extract_text() for page in reader.pages)


def with_pdfium(data: bytes) -> str:
    """Text of every page with pypdfium2 (PDFium)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n\n".join(texts)
    finally:
        pdf.close()


def facts(text: str) -> dict[str, Any]:
    """What the parser finds in a text, for comparing extractions."""
    from search.parse import parse_text

    rec = parse_text(text)
    return {
        "id": rec.id,
        "date": rec.date_assigned,
        "states": rec.reviewer.states,
        "specialties": rec.reviewer.specialties,
        "decisions": [
            (d.outcome, d.drug, d.category, " ".join(d.request.split())) for d in rec.decisions
        ],
    }


def measure(
    files: list[Path], extract: Callable[[bytes], str], rounds: int
) -> tuple[float, list[str]]:
    """Best-of-rounds seconds for all files, and the texts."""
    datas = [f.read_bytes() for f in files]
    best = float("inf")
    texts: list[str] = []
    for _ in range(rounds):
        t = time.perf_counter()
        texts = [extract(d) for d in datas]
        best = min(best, time.perf_counter() - t)
    return best, texts


def main(argv: list[str] | None = None) -> int:
    """Print speed and agreement."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_pdf", description=__doc__)
    p.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    files = sorted(args.folder.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDFs in {args.folder}")
    slow, pypdf_texts = measure(files, with_pypdf, args.rounds)
    fast, pdfium_texts = measure(files, with_pdfium, args.rounds)
    print(f"{len(files)} PDFs, one core, best of {args.rounds}:")
    print(f"  pypdf     {len(files) / slow:7.1f} PDFs/s")
    print(f"  pypdfium2 {len(files) / fast:7.1f} PDFs/s  ({slow / fast:.1f}x)")
    same = decisions = 0
    for f, a, b in zip(files, pypdf_texts, pdfium_texts, strict=True):
        fa, fb = facts(a), facts(b)
        decisions += len(fa["decisions"])
        if fa == fb:
            same += 1
        else:
            diff = [k for k in fa if fa[k] != fb[k]]
            print(f"  differs: {f.name}: {', '.join(diff)}")
            for k in diff:
                print(f"    pypdf:     {fa[k]}\n    pypdfium2: {fb[k]}")
    print(
        f"parsed the same from both: {same}/{len(files)} letters ({decisions} decisions by pypdf)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
