"""PDF-to-text: pypdf against pypdfium2 on real letters, speed and parse quality.

    python -m benchmarks.bench_pdf [FOLDER] [--rounds 3]

For every PDF of FOLDER (default ../shared/real-letters/pdf), extracts the text with each
library (in this process, one core, best of --rounds; wall and CPU time), parses both texts,
and compares what the parser finds: the number of decisions and each decision's outcome, drug,
category and request, and the letter's id, date, states and specialties; then every field of
the parsed record (all but the text's sha256 and the source). --cores N also runs extraction
plus parse of the PDFs on N processes (--repeat times over) and prints PDF letters/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
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


PARAGRAPH_GAP = 2.0  # a vertical gap this many line heights is a blank line (as pypdf gives)


def with_pdfium_gaps(data: bytes) -> str:
    """pypdfium2's text with a blank line wherever the page leaves a vertical gap.

    PDFium drops the whitespace-only lines that pypdf keeps, and the parser reads some
    blank lines as structure (before an item list); the gaps between line tops give them back.
    """
    import statistics

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    pages = []
    try:
        for page in pdf:
            textpage = page.get_textpage()
            count = textpage.count_chars()
            lines = textpage.get_text_range().split("\r\n")
            tops: list[tuple[float, float] | None] = []
            pos = 0
            for line in lines:
                box = None
                for k, ch in enumerate(line):
                    if not ch.isspace() and pos + k < count:
                        _left, bottom, _right, top = textpage.get_charbox(pos + k)
                        box = (top, bottom)
                        break
                tops.append(box)
                pos += len(line) + 2
            heights = [t - b for t, b in filter(None, tops) if t > b]
            height = statistics.median(heights) if heights else 10.0
            out: list[str] = []
            previous = None
            for line, box in zip(lines, tops, strict=True):
                if (
                    box is not None
                    and previous is not None
                    and previous - box[0] > PARAGRAPH_GAP * height
                ):
                    out.append("")
                out.append(line)
                if box is not None:
                    previous = box[0]
            textpage.close()
            page.close()
            pages.append("\n".join(out))
    finally:
        pdf.close()
    return "\n\n".join(pages)


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


def record_fields(text: str) -> dict[str, Any]:
    """Every field of the parsed record but the text's sha256 and the source (which differ)."""
    from search.parse import parse_text

    data = parse_text(text).to_dict()
    data.pop("sha256")
    data.pop("source")
    return data


def measure(
    files: list[Path], extract: Callable[[bytes], str], rounds: int
) -> tuple[float, float, list[str]]:
    """Best-of-rounds wall and CPU seconds for all files, and the texts."""
    datas = [f.read_bytes() for f in files]
    best = cpu = float("inf")
    texts: list[str] = []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        texts = [extract(d) for d in datas]
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return best, cpu, texts


EXTRACTORS: dict[str, Callable[[bytes], str]] = {}


def _extract_and_parse(job: tuple[str, str]) -> int:
    """One PDF letter as the index reads it: text extracted, then parsed (in a pool process)."""
    from search.parse import parse_text

    name, path = job
    return len(parse_text(EXTRACTORS[name](Path(path).read_bytes())).decisions)


def throughput(files: list[Path], name: str, cores: int, repeat: int) -> float:
    """PDF letters/s (wall) of extraction plus parse on `cores` processes."""
    jobs = [(name, str(f)) for f in files] * repeat
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        pool.map(_extract_and_parse, jobs[: 2 * cores])  # imports and first use
        t = time.perf_counter()
        pool.map(_extract_and_parse, jobs, chunksize=4)
        return len(jobs) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    """Print speed and agreement."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_pdf", description=__doc__)
    p.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cores", type=int, default=0, help="also extract+parse on N processes")
    p.add_argument("--repeat", type=int, default=3, help="passes over the PDFs with --cores")
    args = p.parse_args(argv)
    files = sorted(args.folder.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDFs in {args.folder}")
    slow, slow_cpu, pypdf_texts = measure(files, with_pypdf, args.rounds)
    fast, fast_cpu, plain_texts = measure(files, with_pdfium, args.rounds)
    gaps, gaps_cpu, pdfium_texts = measure(files, with_pdfium_gaps, args.rounds)
    n = len(files)
    print(f"{n} PDFs, one core, best of {args.rounds} (wall; CPU):")
    print(f"  pypdf                    {n / slow:7.1f} PDFs/s; {n / slow_cpu:7.1f} PDFs/s CPU")
    print(
        f"  pypdfium2                {n / fast:7.1f} PDFs/s; {n / fast_cpu:7.1f} PDFs/s CPU"
        f"  ({slow_cpu / fast_cpu:.1f}x)"
    )
    print(
        f"  pypdfium2 + blank lines  {n / gaps:7.1f} PDFs/s; {n / gaps_cpu:7.1f} PDFs/s CPU"
        f"  ({slow_cpu / gaps_cpu:.1f}x)"
    )
    if args.cores:
        for name in ("pypdf", "pypdfium2 + blank lines"):
            rate = throughput(files, name, args.cores, args.repeat)
            print(f"  {name}, extract + parse on {args.cores} processes: {rate:.1f} letters/s")
    plain_same = sum(facts(a) == facts(b) for a, b in zip(pypdf_texts, plain_texts, strict=True))
    print(f"plain pypdfium2 text parses the same as pypdf's on {plain_same}/{len(files)} letters")
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
        f"pypdfium2 + blank lines parses as pypdf on {same}/{len(files)} letters "
        f"({decisions} decisions)"
    )
    records = [
        (f, record_fields(a), record_fields(b))
        for f, a, b in zip(files, pypdf_texts, pdfium_texts, strict=True)
    ]
    whole = sum(a == b for _, a, b in records)
    print(f"every parsed field identical (section text too) on {whole}/{len(files)} letters")
    for f, a, b in records:
        if a != b:
            print(f"  {f.name}: {', '.join(k for k in a if a[k] != b.get(k))}")
    return 0


EXTRACTORS.update(
    {"pypdf": with_pypdf, "pypdfium2": with_pdfium, "pypdfium2 + blank lines": with_pdfium_gaps}
)


if __name__ == "__main__":
    raise SystemExit(main())
