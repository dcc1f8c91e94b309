"""A/B of two versions of the engine on one index: CPU per query kind, and the same answers.

    python -m benchmarks.bench_ab --index INDEX --mix MIX.jsonl --a DIR_A --b DIR_B [--rounds 2]

DIR_A and DIR_B each hold a `search` package (a checkout, or `git archive REV search | tar -x`).
Each round runs A then B, each in a fresh process that opens the index read-only, runs the
mix once (unseen) and once more (warm) as `bench_scale` does (literal words, letter scope),
and records each query's CPU time (`time.process_time`: on a shared machine the wall time is
mostly waiting for a core) and a digest of its answer: totals, every facet count, the page's
ids, scores and highlights, the suggestion. Per query the least disturbed round (its minimum)
is kept; the table prints CPU p50 / p95 per kind, open and open + first query, and the
queries whose answers differ between A and B (none, for a change that must not move results).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

KINDS = ("word", "two words", "phrase", "or-and", "word + outcome", "filter only")


def child(tree: str, index: str, mix: str) -> dict[str, Any]:
    """Run the mix with the `search` package of `tree` (in this fresh process: nothing of
    `search` may be imported before the tree goes first on the path)."""
    sys.path.insert(0, tree)
    from benchmarks import querymix
    from search.engine.searcher import SearchIndex

    queries = querymix.load(Path(mix))
    requests = [q.request() for q in queries]
    start = time.process_time()
    opened = SearchIndex.open(index)
    open_cpu = time.process_time() - start
    opened.search(requests[0])
    first_cpu = time.process_time() - start
    out: dict[str, Any] = {
        "open_cpu": open_cpu * 1000,
        "first_cpu": first_cpu * 1000,
        "kinds": [q.kind for q in queries],
        "unseen": [],
        "warm": [],
        "digests": [],
    }
    for phase in ("unseen", "warm"):
        for request in requests:
            t = time.process_time()
            response = opened.search(request)
            out[phase].append((time.process_time() - t) * 1000)
            if phase == "unseen":
                answer = [
                    response.total_determinations,
                    response.total_decisions,
                    response.facets,
                    [(h.id, h.score, h.highlights, h.decisions) for h in response.results],
                    response.suggestion,
                ]
                text = json.dumps(answer, sort_keys=True, default=str)
                out["digests"].append(hashlib.sha256(text.encode()).hexdigest())
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def _run(tree: Path, index: Path, mix: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_ab", "_child", str(tree), str(index)]
    done = subprocess.run([*command, str(mix)], check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    """The printed comparison of the rounds of A and B."""
    kinds = a[0]["kinds"]
    lines = []
    for kind in (*KINDS, "all"):
        cells = []
        for runs in (a, b):
            idx = [i for i, k in enumerate(kinds) if kind in ("all", k)]
            if not idx:
                continue
            unseen = [min(r["unseen"][i] for r in runs) for i in idx]
            warm = [min(r["warm"][i] for r in runs) for i in idx]
            cells.append(
                f"{_pct(unseen, 50):6.0f} / {_pct(unseen, 95):4.0f}"
                f"  warm {_pct(warm, 50):4.0f} / {_pct(warm, 95):4.0f}"
            )
        if cells:
            lines.append(f"  {kind:<15} A {cells[0]}   B {cells[1]}   (CPU ms p50 / p95)")
    for name, runs in (("A", a), ("B", b)):
        opened = min(r["open_cpu"] for r in runs)
        first = min(r["first_cpu"] for r in runs)
        lines.append(f"  {name}: open {opened:.0f} ms CPU, open + first query {first:.0f} ms CPU")
    pairs = zip(a[0]["digests"], b[0]["digests"], strict=True)
    differ = [i for i, (x, y) in enumerate(pairs) if x != y]
    lines.append(f"  answers differing between A and B: {len(differ)} {differ[:10]}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the A/B and print its table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        print(json.dumps(child(argv[1], argv[2], argv[3])))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_ab", description=__doc__)
    p.add_argument("--index", type=Path, required=True, help="the index (opened read-only)")
    p.add_argument("--mix", type=Path, required=True, help="a querymix .jsonl")
    p.add_argument("--a", type=Path, required=True, help="a folder holding version A's search")
    p.add_argument("--b", type=Path, required=True, help="a folder holding version B's search")
    p.add_argument("--rounds", type=int, default=2, help="A then B, this many times (2)")
    args = p.parse_args(argv)
    a: list[dict[str, Any]] = []
    b: list[dict[str, Any]] = []
    for _ in range(args.rounds):
        a.append(_run(args.a.resolve(), args.index, args.mix))
        b.append(_run(args.b.resolve(), args.index, args.mix))
    print("\n".join(table(a, b)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
