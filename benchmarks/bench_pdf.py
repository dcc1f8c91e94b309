"""PDF-to-text on real letters: PDFium (the loader's default) against pypdf, speed and fields.

    python -m benchmarks.bench_pdf [FOLDER] [--rounds 3] [--cores 1 2] [--repeat 3]

For every PDF of FOLDER (default ../shared/real-letters/pdf), extracts the text with the
loader's two backends (search/parse/pdf_worker.py: PDFium with its layout fix-ups, and pypdf),
in this process on one core, best of --rounds (wall and CPU time); parses both texts and
counts the letters where every parsed field (every determination and decision field, section
text too) is identical. --cores N then times the loader's real path on N cores, --repeat
passes over the PDFs: the sandboxed extractor (load_all with N worker processes, what
`imr-search index` runs) and extraction plus parse on N processes; letters/s (wall) and CPU
ms per letter (summed over the processes, so other load on the machine does not inflate it).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search.parse.pdf_worker import extract_text_pdfium, extract_text_pypdf

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-letters" / "pdf"
EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "pypdf": extract_text_pypdf,
    "pdfium": extract_text_pdfium,
}


def record_fields(text: str) -> dict[str, Any]:
    """Every field of the parsed record but the text's sha256 and the source (which differ)."""
    from search.parse import parse_text

    data = parse_text(text).to_dict()
    data.pop("sha256")
    data.pop("source")
    return data


def measure(
    datas: list[bytes], extract: Callable[[bytes], str], rounds: int
) -> tuple[float, float, list[str]]:
    """Best-of-rounds wall and CPU seconds for all PDFs, and the texts."""
    best = cpu = float("inf")
    texts: list[str] = []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        texts = [extract(d) for d in datas]
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return best, cpu, texts


def _extract_and_parse(job: tuple[str, str]) -> float:
    """One PDF letter extracted and parsed (in a pool process); its CPU seconds."""
    from search.parse import parse_text

    start = time.process_time()
    name, path = job
    parse_text(EXTRACTORS[name](Path(path).read_bytes()))
    return time.process_time() - start


def in_processes(files: list[Path], name: str, cores: int, repeat: int) -> tuple[float, float]:
    """Letters/s (wall) and CPU ms per letter of extraction plus parse on `cores` processes."""
    jobs = [(name, str(f)) for f in files] * repeat
    with multiprocessing.get_context("spawn").Pool(cores) as pool:
        pool.map(_extract_and_parse, jobs[: 2 * cores])  # imports and first use
        t = time.perf_counter()
        cpu = sum(pool.map(_extract_and_parse, jobs, chunksize=4))
        return len(jobs) / (time.perf_counter() - t), 1000 * cpu / len(jobs)


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sandboxed(files: list[Path], cores: int, repeat: int) -> tuple[float, float, int]:
    """Letters/s (wall) and CPU ms per letter (workers and this process) of load_all."""
    from search.parse.load import LoadedText, load_all

    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as tmp:
        for n in range(repeat):
            for f in files:
                shutil.copyfile(f, Path(tmp) / f"{n}-{f.name}")
        list(load_all([Path(tmp) / f"0-{files[0].name}"], workers=cores))  # imports
        t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
        results = list(load_all([tmp], workers=cores))
        wall = time.perf_counter() - t
        cpu = time.process_time() - c + _children_cpu() - k  # workers are reaped by now
    ok = sum(isinstance(r, LoadedText) for r in results)
    return len(results) / wall, 1000 * cpu / len(results), ok


def main(argv: list[str] | None = None) -> int:
    """Print speed and agreement."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_pdf", description=__doc__)
    p.add_argument("folder", type=Path, nargs="?", default=DEFAULT_FOLDER)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--cores", type=int, nargs="*", default=[], help="also time the loader")
    p.add_argument("--repeat", type=int, default=3, help="passes over the PDFs with --cores")
    args = p.parse_args(argv)
    files = sorted(args.folder.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDFs in {args.folder}")
    datas = [f.read_bytes() for f in files]
    n = len(files)
    texts = {}
    print(f"{n} PDFs, one core, in this process, best of {args.rounds} (wall; CPU):")
    for name, extract in EXTRACTORS.items():
        wall, cpu, texts[name] = measure(datas, extract, args.rounds)
        print(f"  {name:8} {n / wall:7.1f} PDFs/s; {n / cpu:7.1f} PDFs/s of CPU")
    same = 0
    for f, a, b in zip(files, texts["pypdf"], texts["pdfium"], strict=True):
        fa, fb = record_fields(a), record_fields(b)
        if fa == fb:
            same += 1
        else:
            print(f"  differs: {f.name}: {', '.join(k for k in fa if fa[k] != fb.get(k))}")
    decisions = sum(len(record_fields(t)["decisions"]) for t in texts["pdfium"])
    print(f"every parsed field identical on {same}/{n} letters ({decisions} decisions)")
    for cores in args.cores:
        rate, ms, ok = sandboxed(files, cores, args.repeat)
        print(
            f"  loader (load_all, {cores} sandboxed workers): {rate:6.1f} letters/s, "
            f"{ms:5.1f} ms CPU per letter ({ok}/{n * args.repeat} read)"
        )
        for name in EXTRACTORS:
            rate, ms = in_processes(files, name, cores, args.repeat)
            print(
                f"  {name} extract + parse on {cores} processes: {rate:6.1f} letters/s, "
                f"{ms:5.1f} ms CPU per letter"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
