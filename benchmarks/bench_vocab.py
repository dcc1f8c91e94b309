"""Benchmark the vocabularies: accuracy on the real letters' labelled requests, load and call cost.

    python -m benchmarks.bench_vocab [--real ../shared/real-letters] [-n 3000]

Accuracy: every labelled decision of ``labels.jsonl``, its request as labelled (the decided
portion of a partial approval), through ``find_drug`` and ``categorize``: the generic drug of
every medication item (split by ``drug_flag``), and the category compared by DWC family
(``category_family``: the labels use the older flat names). This isolates the vocabularies
from item finding, which ``benchmarks.bench_real`` measures on the whole parse.
Cost: the import time of the vocabulary modules and their first-use load, in fresh processes
(best of several), and the time per call on generated requests and on the real summaries.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from search.fields import SECTION_CASE_SUMMARY
from search.generate.vocab import draw_item
from search.parse import normalize, parse_text

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-letters"
_MODULES = ("normalize", "lexicon", "drugs", "compounds", "dosage", "services", "regions")
_MODULES += ("credentials", "guidelines")
_LOAD = """
import time
import search.parse.normalize as n
t = time.perf_counter(); n.find_drug("Norco 10/325"); n.categorize("MRI", None)
n.split_specialties("Family Medicine"); n.body_regions("low back"); n.guideline_sources("MTUS")
print(time.perf_counter() - t)
"""


def accuracy(real: Path) -> list[str]:
    """Drug and category accuracy over the labelled requests."""
    drugs: Counter[str] = Counter()
    drugs_ok: Counter[str] = Counter()
    cats = cats_ok = 0
    misses: list[str] = []
    for line in (real / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        for item in json.loads(line)["items"]:
            request = str(item.get("request_core") or item["request"])
            match = normalize.find_drug(request)
            generic = match.generic if match else None
            if item.get("drug") or item["category"] == "medication":
                flag = item.get("drug_flag") or "plain"
                drugs[flag] += 1
                drugs_ok[flag] += generic == item.get("drug")
                if generic != item.get("drug"):
                    misses.append(f"  drug  {request[:60]!r}: {item.get('drug')} -> {generic}")
            want = normalize.category_family(item["category"])
            got = normalize.categorize(request, generic)
            cats += 1
            cats_ok += normalize.category_family(got) == want
            if normalize.category_family(got) != want:
                misses.append(f"  category  {request[:60]!r}: {item['category']} -> {got}")
    out = [f"real letters' labelled requests ({real}):"]
    for flag in sorted(drugs):
        out.append(f"  drug, {flag} items: {drugs_ok[flag]}/{drugs[flag]}")
    total, ok = sum(drugs.values()), sum(drugs_ok.values())
    out.append(f"  drug, all medication items: {ok}/{total} = {100 * ok / max(total, 1):.1f}%")
    out.append(f"  category (DWC family): {cats_ok}/{cats} = {100 * cats_ok / max(cats, 1):.1f}%")
    return out + (["misses:", *misses] if misses else [])


def import_cost(runs: int = 15) -> list[str]:
    """Import time of the vocabulary modules (per module the best of fresh processes, summed:
    the machine is shared and noisy) and their first-use load (best of the same processes)."""
    best: dict[str, int] = {}
    best_load = float("inf")
    names = {f"search.parse.{m}" for m in _MODULES}
    for _ in range(runs):
        cmd = [sys.executable, "-X", "importtime", "-c", "import search.parse.normalize"]
        err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
        for row in err.splitlines():
            cells = [c.strip() for c in row.removeprefix("import time:").split("|")]
            if len(cells) == 3 and cells[2] in names and cells[0].isdigit():
                best[cells[2]] = min(best.get(cells[2], 10**12), int(cells[0]))
        load = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True)
        best_load = min(best_load, float(load.stdout))
    return [
        f"import of the vocabulary modules (self time): {sum(best.values()) / 1e3:.1f} ms",
        f"first use (tables read and compiled): {best_load * 1e3:.1f} ms",
    ]


def _per_call(fn: Callable[[str], object], texts: list[str]) -> float:
    """Best seconds per call over a few passes (process time)."""
    best = float("inf")
    for _ in range(5):
        t = time.process_time()
        for text in texts:
            fn(text)
        best = min(best, (time.process_time() - t) / len(texts))
    return best


def call_cost(n: int, real: Path) -> list[str]:
    """Microseconds per call on generated requests and on the real summaries."""
    rng = random.Random(7)
    requests = [draw_item(rng, "Upheld").request for _ in range(n)]
    summaries = []
    for path in sorted((real / "text").glob("*.txt")):
        det = parse_text(path.read_text(encoding="utf-8"))
        summaries.append(" ".join(s.text for s in det.sections if s.key == SECTION_CASE_SUMMARY))
    found = {t: m.generic if (m := normalize.find_drug(t)) else None for t in requests}
    out = [f"per call, {n} generated requests:"]
    for name, fn in (
        ("find_drug", normalize.find_drug),
        ("categorize", lambda t: normalize.categorize(t, found[t])),  # given its drug, as parsed
        ("body_regions", normalize.body_regions),
    ):
        out.append(f"  {name:13} {_per_call(fn, requests) * 1e6:7.1f} us")
    if summaries:
        size = sum(map(len, summaries)) // len(summaries)
        cost = _per_call(normalize.body_regions, summaries) * 1e6
        out.append(f"body_regions on {len(summaries)} real summaries ({size} chars): {cost:.0f} us")
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the accuracy and cost numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", type=Path, default=REAL)
    ap.add_argument("-n", type=int, default=3000)
    args = ap.parse_args(argv)
    lines = accuracy(args.real) if (args.real / "labels.jsonl").is_file() else []
    lines += import_cost() + call_cost(args.n, args.real)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
