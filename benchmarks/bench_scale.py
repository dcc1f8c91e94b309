"""Scale benchmark: generate N letters, index them in bounded memory, measure serving, and run
the same unseen queries on SQLite FTS5 and tantivy in the same run.

    python -m benchmarks.bench_scale -n 100000 [--workdir DIR] [--ram-budget 1G] [--peers]
    nohup python -m benchmarks.bench_scale -n 1600000 --peers > bench-1.6M.log 2>&1 &

Resumable: letters are written in shards of 10,000 (a shard with its `.done` marker is kept),
and indexing is incremental, so a killed run started again goes on where it stopped (the
letters/s of a resumed run counts only the letters it added). Every engine runs in fresh
child processes: indexing (peak RSS of the writer and of its child processes, the parse
workers and the background merge, from getrusage; the writer's heap peak sampled),
then two query processes per engine: a cold one (the engine's files dropped from the OS
page cache with posix_fadvise, as the whole cache cannot be dropped here: open + first query,
then the mix once, reading from disk) and a fresh one on the page cache that left (open +
first query; each query of the mix once, unseen by the process, then once more, warm), with
the process's resident memory. Results go to WORKDIR/results.json and a printed table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

from benchmarks import querymix
from benchmarks.peers import PEERS

SHARD: Final = 10_000
SAMPLE_LETTERS: Final = 3_000  # letters the query mix draws its words from


# --- corpus --------------------------------------------------------------------------------


def generate(letters: Path, n: int, seed: int) -> float:
    """Write n letters in shards (kept across runs); seconds spent on new shards."""
    from search.generate.letters import GEN_LAYOUTS, generate_letter

    spent = 0.0
    for shard in range(-(-n // SHARD)):
        folder = letters / f"shard-{shard:04d}"
        done = folder / ".done"
        lo, hi = shard * SHARD, min(n, (shard + 1) * SHARD)
        if done.exists() and int(done.read_text() or 0) == hi - lo:
            continue
        t = time.perf_counter()
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(lo, hi):
            layout = GEN_LAYOUTS[i % len(GEN_LAYOUTS)]
            text, _truth = generate_letter(random.Random(seed * 1_000_003 + i), layout=layout)
            (folder / f"{i:07d}_{layout}.txt").write_text(text, encoding="utf-8", newline="")
        done.write_text(str(hi - lo))
        spent += time.perf_counter() - t
        print(f"generated letters {lo}-{hi}", file=sys.stderr, flush=True)
    return spent


# --- child processes -------------------------------------------------------------------------


def _status() -> dict[str, float]:
    """This process's memory from /proc/self/status, in MB (peak, resident, heap, mapped)."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def evict_page_cache(path: Path) -> float:
    """Drop a store's files from the OS page cache (posix_fadvise DONTNEED: clean pages of
    files no process maps go), so the next open reads from disk; MB of files advised."""
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    advised = 0
    for f in files:
        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:
            continue  # a file a merge just removed
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            advised += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return advised / 1e6


def _split(index_run: dict[str, Any]) -> str:
    """An index run's CPU a letter by process, when the run recorded it."""
    if "cpu_ms_merges" not in index_run:
        return ""
    return (
        f": parse workers {index_run['cpu_ms_parse_workers']:.2f}, writer "
        f"{index_run['cpu_ms_writer']:.2f}, merges {index_run['cpu_ms_merges']:.2f}"
    )


def _child_index(ix: str, letters: str, workers: int, ram_budget: int) -> dict[str, Any]:
    from benchmarks.bench_index import HeapPeak
    from search.index import index_paths, storage_size

    t = time.perf_counter()
    # the shards of this run only: a larger run's shards may already sit in the same folder
    shards = letters.split(os.pathsep)
    with HeapPeak() as heap:
        summary = index_paths(ix, shards, workers=workers, ram_budget=ram_budget)
    seconds = time.perf_counter() - t
    self_use = resource.getrusage(resource.RUSAGE_SELF)
    kids_use = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, kids = self_use.ru_maxrss / 1024, kids_use.ru_maxrss / 1024
    # CPU seconds of the writer and its children (parse workers, background merges): unlike
    # wall time, not inflated by other work
    cpu = sum(u.ru_utime + u.ru_stime for u in (self_use, kids_use))
    per = 1000 / summary.added if summary.added else 0.0
    writer_cpu = self_use.ru_utime + self_use.ru_stime
    return {
        "added": summary.added,
        "unchanged": summary.unchanged,
        "failed": summary.failed,
        "seconds": seconds,
        "letters_per_s": summary.added / seconds if seconds else 0.0,
        "cpu_ms_per_letter": cpu * per,
        # the same CPU split: the merge process reports its own; the parse workers are the rest
        "cpu_ms_writer": writer_cpu * per,
        "cpu_ms_merges": summary.merge_cpu * per,
        "cpu_ms_parse_workers": (cpu - writer_cpu - summary.merge_cpu) * per,
        "peak_rss_writer_mb": own,
        # the heap's own peak (RssAnon sampled): VmHWM also counts mapped segment pages
        "peak_heap_writer_mb": heap.peak,
        "peak_rss_parse_worker_mb": kids,
        "index_mb": storage_size(ix) / 1e6,
    }


def _child_compact(ix: str) -> dict[str, Any]:
    from search.index import compact_index, storage_size

    summary = compact_index(ix)
    use = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "before": summary.before,
        "after": summary.after,
        "merges": summary.merges,
        "failed": summary.failed,
        "seconds": summary.seconds,
        "cpu_s": sum(u.ru_utime + u.ru_stime for u in use),
        "peak_rss_mb": max(u.ru_maxrss for u in use) / 1024,  # the merge process's, mostly
        "index_mb": storage_size(ix) / 1e6,
    }


def _child_ours(ix: str, mix_path: str, cold: bool) -> dict[str, Any]:
    from search.engine import searcher
    from search.engine.searcher import SearchIndex

    # Every query timed to its end: the 5-second limit is the server's policy, and a query
    # that reads its postings from a cold disk here can pass it.
    searcher.TIME_LIMIT = 3600.0
    queries = querymix.load(Path(mix_path))
    evicted = evict_page_cache(Path(ix)) if cold else 0.0
    t, cpu = time.perf_counter(), time.process_time()
    index = SearchIndex.open(ix)
    opened, opened_cpu = time.perf_counter(), time.process_time()
    requests = [q.request() for q in queries]  # as the peers take them
    index.search(requests[0])
    first, first_cpu = time.perf_counter(), time.process_time()
    timings: dict[str, list[list[float]]] = {"unseen": [], "warm": []}
    letters: list[int] = []
    for phase in ("unseen",) if cold else ("unseen", "warm"):
        for request in requests:
            t0 = time.perf_counter()
            response = index.search(request)
            timings[phase].append([(time.perf_counter() - t0) * 1000])
            if phase == "unseen":
                letters.append(response.total_determinations)
    docs = [] if cold else [_matched_docs(index, r) for r in requests]  # for the count check
    return {
        "evicted_mb": evicted,
        "open_ms": (opened - t) * 1000,
        "first_query_ms": (first - t) * 1000,
        # CPU time too: on a shared machine the wall time is mostly waiting for a core
        "open_cpu_ms": (opened_cpu - cpu) * 1000,
        "first_query_cpu_ms": (first_cpu - cpu) * 1000,
        "unseen_ms": [x[0] for x in timings["unseen"]],
        "warm_ms": [x[0] for x in timings["warm"]],
        "letters": letters,
        "docs": docs,
        "memory_mb": _status(),
    }


def _matched_docs(index: Any, request: Any) -> int:
    """Documents (decisions) a request matches, counted from the engine's masks."""
    from search.engine.searcher import understood_request

    snap = index._current()
    parsed, _ = understood_request(request)  # as the search ran it (literal, scope)
    _, matches, _ = index._matches(snap, parsed, time.monotonic() + 60)
    return int(sum(int(mask.sum()) for mask, _ in matches))


def compile_bytecode() -> None:
    """Compile our modules' bytecode, as installing the package does: with an editable
    install and PYTHONDONTWRITEBYTECODE set (this sandbox), every fresh process would
    compile the modules it imports lazily on its first query (at 1.6M letters, open + first
    query 381 -> 284 ms on the page cache, one run each)."""
    import compileall

    import search

    compileall.compile_dir(Path(search.__file__).parent, quiet=2)


def _run_child(args: list[str]) -> dict[str, Any]:
    """Run `python -m benchmarks.bench_scale _child ...` and return its JSON answer."""
    command = [sys.executable, "-m", "benchmarks.bench_scale", "_child", *args]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child_main(argv: list[str]) -> int:
    """Entry of the measuring child processes."""
    kind, *rest = argv
    if kind == "index":
        out = _child_index(rest[0], rest[1], int(rest[2]), int(rest[3]))
    elif kind == "compact":
        out = _child_compact(rest[0])
    elif kind == "ours":
        out = _child_ours(rest[0], rest[1], rest[2:] == ["cold"])
    else:
        from benchmarks import peers

        out = peers.child(kind, rest)
    print(json.dumps(out))
    return 0


# --- the run --------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def _sample_records(ix: Path, k: int, seed: int) -> list[Any]:
    """k stored records picked at random from the index (the mix's source of words)."""
    from search.engine.searcher import SearchIndex
    from search.model import determination_from_dict
    from search.schema import C_REC, unpack_record

    rng = random.Random(seed)
    with SearchIndex.open(ix) as index:
        leaves = index._current().leaves
        starts = [(leaf, int(s)) for leaf in leaves for s in leaf.data.starts if leaf.live[s]]
        picked = rng.sample(starts, min(k, len(starts)))
        out = []
        for leaf, start in picked:
            column = leaf.reader.column_reader(C_REC, translate=False)
            out.append(determination_from_dict(unpack_record(column[start])))
        return out


def _kind_table(name: str, mix: list[querymix.Query], result: dict[str, Any]) -> list[str]:
    rows = []
    mix = mix[: len(result["unseen_ms"])]  # a peer may have run only the first queries
    for kind in querymix.KINDS:
        unseen = [t for q, t in zip(mix, result["unseen_ms"], strict=True) if q.kind == kind]
        warm = [t for q, t in zip(mix, result["warm_ms"], strict=True) if q.kind == kind]
        rows.append(
            f"  {name:<8} {kind:<15} unseen p50 {_pct(unseen, 50):7.1f} p95 {_pct(unseen, 95):7.1f}"
            f"   warm p50 {_pct(warm, 50):7.1f} p95 {_pct(warm, 95):7.1f} ms"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return child_main(argv[1:])
    from search.cli_engine import ram_size

    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__)
    p.add_argument("-n", type=int, default=20_000, help="letters (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed")
    p.add_argument("--mix-seed", type=int, default=None, help="query mix seed (default: time)")
    p.add_argument("--queries", type=int, default=300, help="queries in the mix (300)")
    p.add_argument("--workdir", type=Path, default=None, help="default benchmarks/out/scale-N")
    p.add_argument("--workers", type=int, default=2, help="parse processes (2)")
    p.add_argument("--ram-budget", type=ram_size, default="1G")
    p.add_argument("--peers", action="store_true", help="also SQLite FTS5 and tantivy")
    p.add_argument("--peer", action="append", choices=PEERS, help="only this peer")
    p.add_argument(
        "--fts5-queries",
        type=int,
        default=None,
        help="FTS5 runs only the mix's first K queries (at 1.6M letters a query takes seconds)",
    )
    p.add_argument(
        "--no-compact",
        action="store_true",
        help="query the index as indexing left it (default: `imr-search compact` it first)",
    )
    args = p.parse_args(argv)
    work = (args.workdir or Path("benchmarks/out") / f"scale-{args.n}").resolve()
    letters, ix = work / "letters", work / "index"
    results_path = work / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}

    def save() -> None:
        results_path.write_text(json.dumps(results, indent=1))

    work.mkdir(parents=True, exist_ok=True)
    generate(letters, args.n, args.seed)
    if results.get("index", {}).get("complete") != args.n:
        count = -(-args.n // SHARD)
        shards = os.pathsep.join(str(letters / f"shard-{i:04d}") for i in range(count))
        run = _run_child(["index", str(ix), shards, str(args.workers), str(args.ram_budget)])
        runs = [*results.get("index", {}).get("runs", []), run]
        results["index"] = {"runs": runs, "complete": args.n if not run["failed"] else None}
        save()
    index_run = results["index"]["runs"][-1]
    if not args.no_compact and results.get("compact", {}).get("complete") != args.n:
        results["compact"] = {**_run_child(["compact", str(ix)]), "complete": args.n}
        save()
    compact = None if args.no_compact else results["compact"]
    mix_seed = args.mix_seed if args.mix_seed is not None else int(time.time())
    mix = querymix.make_mix(_sample_records(ix, SAMPLE_LETTERS, mix_seed), args.queries, mix_seed)
    mix_path = work / f"mix-{mix_seed}.jsonl"
    querymix.save(mix, mix_path)
    compile_bytecode()
    # A cold process on cold files first (its mix once), then a fresh process on the page
    # cache that left (unseen: nothing of the mix in the process; then warm).
    cold = _run_child(["ours", str(ix), str(mix_path), "cold"])
    engines = {"ours": {**_run_child(["ours", str(ix), str(mix_path)]), "cold": cold}}
    if args.peers or args.peer:
        from benchmarks import peers

        fts5_mix = mix_path
        if args.fts5_queries is not None and args.fts5_queries < len(mix):
            fts5_mix = work / f"mix-{mix_seed}-first{args.fts5_queries}.jsonl"
            querymix.save(mix[: args.fts5_queries], fts5_mix)
        names = args.peer or list(PEERS)
        engines.update(
            peers.run_all(work, ix, mix_path, _run_child, fts5_mix, letters=args.n, names=names)
        )
    results["queries"] = {"mix_seed": mix_seed, "engines": engines}
    save()
    print(report(args.n, index_run, mix, engines, compact))
    return 0


def report(
    n: int,
    index_run: dict[str, Any],
    mix: list[querymix.Query],
    engines: Any,
    compact: dict[str, Any] | None = None,
) -> str:
    """The printed table."""
    load = os.getloadavg()
    lines = [
        f"== {n:,} letters; {os.cpu_count()} cores shared with other work "
        f"(load average {load[0]:.1f}); cold: the engine's files dropped from the page cache",
        f"indexing: {index_run['letters_per_s']:.0f} letters/s wall "
        f"({index_run['added']:,} added in {index_run['seconds']:.0f} s, "
        f"{index_run.get('cpu_ms_per_letter', 0):.2f} ms CPU per letter{_split(index_run)}); "
        "peak RSS writer "
        f"{index_run['peak_rss_writer_mb']:.0f} MB (heap peak "
        f"{index_run.get('peak_heap_writer_mb', 0):.0f} MB), each child (parse worker, merge) "
        f"<= {index_run['peak_rss_parse_worker_mb']:.0f} MB; index {index_run['index_mb']:.0f} MB",
    ]
    if compact is not None:
        both = index_run["seconds"] + compact["seconds"]
        lines.append(
            f"compact: {compact['before']} segments -> {compact['after']} in "
            f"{compact['merges']} merges, {compact['seconds']:.0f} s (CPU {compact['cpu_s']:.0f}"
            f" s), peak RSS {compact['peak_rss_mb']:.0f} MB; index {compact['index_mb']:.0f} MB;"
            f" indexing + compact {index_run['added'] / both:.0f} letters/s wall"
        )
    for name, r in engines.items():
        mem = r.get("memory_mb", {})
        cpu = ""
        if "open_cpu_ms" in r:
            cpu = f" (CPU {r['open_cpu_ms']:.0f} / {r['first_query_cpu_ms']:.0f} ms)"
        lines.append(
            f"{name:<8} open {r['open_ms']:7.0f} ms, open + first query {r['first_query_ms']:7.0f}"
            f" ms{cpu}; unseen p50 {_pct(r['unseen_ms'], 50):6.1f}"
            f" p95 {_pct(r['unseen_ms'], 95):6.1f} ms; warm p50 {_pct(r['warm_ms'], 50):6.1f}"
            f" p95 {_pct(r['warm_ms'], 95):6.1f} ms;"
            f" RSS peak {mem.get('VmHWM', 0):.0f} MB (heap {mem.get('RssAnon', 0):.0f},"
            f" mapped files {mem.get('RssFile', 0):.0f})"
        )
    for name, r in engines.items():
        c = r.get("cold")
        if c:
            lines.append(
                f"{name:<8} cold: {c.get('evicted_mb', 0):.0f} MB of files dropped from the page "
                f"cache; open {c['open_ms']:.0f} ms, open + first query {c['first_query_ms']:.0f}"
                f" ms; the mix once, cold: p50 {_pct(c['unseen_ms'], 50):.1f}"
                f" p95 {_pct(c['unseen_ms'], 95):.1f} ms"
            )
    for name, r in engines.items():
        lines += _kind_table(name, mix, r)
    ours = engines["ours"]
    for name, r in engines.items():
        if name == "ours":
            continue
        k = len(r["unseen_ms"])  # the first k queries of the mix (all, unless capped)
        mine = {key: ours[key][:k] for key in ("unseen_ms", "warm_ms", "docs")}
        if "cold" in r and "cold" in ours:
            theirs_cold = {"cold": r["cold"]["unseen_ms"]}
            mine_cold = {"cold": ours["cold"]["unseen_ms"][:k]}
            lines.append(
                f"ours/{name}: cold open + first query "
                f"{ours['cold']['first_query_ms'] / max(r['cold']['first_query_ms'], 1e-9):.2f}x; "
                f"cold pass p50 {_ratio(mine_cold, theirs_cold, 'cold', 50)}, "
                f"p95 {_ratio(mine_cold, theirs_cold, 'cold', 95)}"
            )
        same = sum(a == b for a, b in zip(mine["docs"], r["docs"], strict=True))
        lines.append(
            f"ours/{name}: unseen p50 {_ratio(mine, r, 'unseen_ms', 50)}, "
            f"p95 {_ratio(mine, r, 'unseen_ms', 95)}; warm p50 {_ratio(mine, r, 'warm_ms', 50)}, "
            f"p95 {_ratio(mine, r, 'warm_ms', 95)}; same matching-document count on "
            f"{same}/{k} queries"
            + (
                f" (the mix's first {k}: ours on them unseen p50 {_pct(mine['unseen_ms'], 50):.1f}"
                f" p95 {_pct(mine['unseen_ms'], 95):.1f} ms)"
                if k < len(mix)
                else ""
            )
        )
        diffs = [
            (q, a, b)
            for q, a, b in zip(mix[:k], mine["docs"], r["docs"], strict=True)
            if a != b and b >= 0
        ]
        for q, a, b in diffs[:5]:
            lines.append(f"    differs: {q.ours()} ours {a} vs {name} {b}")
    return "\n".join(lines)


def _ratio(a: dict[str, Any], b: dict[str, Any], key: str, p: float) -> str:
    mine, theirs = _pct(a[key], p), _pct(b[key], p)
    return f"{mine / theirs:.2f}x" if theirs else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
