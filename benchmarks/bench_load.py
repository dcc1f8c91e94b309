"""Bounded loopback load test of the real `imr-search serve`: fixed rate and fixed concurrency.

    python -m benchmarks.bench_load --dir DIR [--letters 20000] [--workers 2] [--seconds 20]

DIR holds letters/ and index/ (generated and indexed on first use). The server runs as its
own process group (`imr-search serve --index DIR/index --workers N`); the load comes from a
small asyncio client in another process (one connection per request, HTTP/1.1). A light mix
(searches of every kind with and without filters, later pages, determination records, facet
and JSON pages) is sent at a fixed rate (open loop: latency counts from when a request was
due, so a slow server is not hidden by a slow client) and at fixed concurrencies, alone and
beside a CSV export loop, a concurrent re-index (`imr-search index` of edited letters in a
loop) and a flood of heavy requests (1,000-hit pages) with exports. Each row prints q/s,
p50/p95/p99 of the light requests, 503 answers, errors and requests left unanswered after
REQUEST_TIMEOUT seconds; each scenario is bounded in time and requests.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from benchmarks import querymix

HOST: Final = "127.0.0.1"
REQUEST_TIMEOUT: Final = 30.0  # a request without an answer by then counts as unanswered
EXPORT_TIMEOUT: Final = 600.0  # a whole CSV export of 20,000 letters takes tens of seconds
MAX_REQUESTS: Final = 20_000  # per scenario and stream, whatever the rate
HEAVY_SIZE: Final = 1000


# --- the mix ------------------------------------------------------------------------------


def light_paths(index: Path, n: int, seed: int) -> list[str]:
    """A seeded light mix: searches (API and page), filters, later pages, records, facets."""
    from search.engine.searcher import SearchIndex
    from search.results import SearchRequest

    idx = SearchIndex.open(index)
    try:
        hits = idx.search(SearchRequest(size=400)).results
        ids = [h.id for h in hits]
        records = [r for r in (idx.get(i) for i in ids) if r is not None]
    finally:
        idx.close()
    rng = random.Random(seed)
    out = []
    for k, q in enumerate(querymix.make_mix(records, n, seed)):
        text, filters = q.ours()
        params = [("q", text)] + [(f, v) for f, vs in filters.items() for v in vs]
        kind = k % 6
        if kind == 0:
            out.append("/search?" + urllib.parse.urlencode(params))
        elif kind == 1:
            out.append("/api/search?" + urllib.parse.urlencode([*params, ("page", "2")]))
        elif kind == 2:
            out.append(f"/api/determinations/{urllib.parse.quote(rng.choice(ids))}")
        elif kind == 3:
            page = f"/determinations/{urllib.parse.quote(rng.choice(ids))}?"
            out.append(page + urllib.parse.urlencode(params))
        else:
            out.append("/api/search?" + urllib.parse.urlencode(params))
    return out


def heavy_paths(light: list[str]) -> list[str]:
    """Heavy requests: the light searches asked for 1,000 hits a page."""
    return [
        "/api/search?" + p.split("?", 1)[1] + f"&size={HEAVY_SIZE}"
        for p in light
        if "search?" in p and "page=" not in p
    ]


def export_paths(light: list[str]) -> list[str]:
    """CSV exports: everything, and the light searches."""
    out = ["/search.csv"]
    out += [
        "/search.csv?" + p.split("?", 1)[1] for p in light if "search?" in p and "page=" not in p
    ][:50]
    return out


# --- the client (its own process) ---------------------------------------------------------


@dataclass
class Stream:
    """Results of one stream of requests."""

    name: str
    latencies: list[float] = field(default_factory=list)  # ms, answered 200 only
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    unanswered: int = 0
    busy_ms: list[float] = field(default_factory=list)  # how fast 503s came

    def summary(self, seconds: float) -> dict[str, Any]:
        """q/s (all answers), percentiles of the 200s, counts."""
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            if not ordered:
                return float("nan")
            return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

        answered = sum(self.statuses.values())
        busy = sorted(self.busy_ms)
        return {
            "stream": self.name,
            "answered": answered,
            "qps": answered / seconds,
            "ok_qps": len(ordered) / seconds,
            "p50": pct(50),
            "p95": pct(95),
            "p99": pct(99),
            "503": self.statuses.get(503, 0),
            "503_p95": busy[min(len(busy) - 1, round(0.95 * (len(busy) - 1)))] if busy else 0,
            "other": {s: n for s, n in self.statuses.items() if s not in (200, 503)},
            "errors": self.errors,
            "unanswered": self.unanswered,
        }


async def _fetch(port: int, path: str) -> int:
    """GET path; the status (the body is read whole and dropped)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        while await reader.read(1 << 16):
            pass
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


async def _one(port: int, path: str, due: float, stream: Stream) -> None:
    """One request, timed from when it was due."""
    try:
        limit = EXPORT_TIMEOUT if ".csv" in path else REQUEST_TIMEOUT
        status = await asyncio.wait_for(_fetch(port, path), limit)
    except TimeoutError:
        stream.unanswered += 1
        return
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        stream.errors += 1
        return
    took = (time.perf_counter() - due) * 1000
    stream.statuses[status] = stream.statuses.get(status, 0) + 1
    if status == 200:
        stream.latencies.append(took)
    elif status == 503:
        stream.busy_ms.append(took)


async def _fixed_rate(port: int, paths: list[str], rate: float, end: float, s: Stream) -> None:
    """Open loop: a request every 1/rate s until `end`, whether or not the others answered."""
    tasks = []
    start = time.perf_counter()
    for i in range(MAX_REQUESTS):
        due = start + i / rate
        if due >= end:
            break
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(_one(port, paths[i % len(paths)], due, s)))
    await asyncio.gather(*tasks)


async def _closed_loop(port: int, paths: list[str], offset: int, end: float, s: Stream) -> None:
    """One client: the next request as soon as the last one is answered, until `end`."""
    for i in range(MAX_REQUESTS):
        if time.perf_counter() >= end:
            return
        await _one(port, paths[(offset + i) % len(paths)], time.perf_counter(), s)


def _client(spec: dict[str, Any], out: Any) -> None:
    """The client process: run the streams of a scenario, put their summaries on `out`."""

    async def main() -> list[dict[str, Any]]:
        end = time.perf_counter() + spec["seconds"]
        streams: list[Stream] = []
        jobs: list[Awaitable[None]] = []
        for name, kind, paths, amount in spec["streams"]:
            s = Stream(name)
            streams.append(s)
            if kind == "rate":
                jobs.append(_fixed_rate(spec["port"], paths, amount, end, s))
            else:
                jobs += [_closed_loop(spec["port"], paths, k * 7919, end, s) for k in range(amount)]
        await asyncio.gather(*jobs)
        return [s.summary(spec["seconds"]) for s in streams]

    out.put(asyncio.run(main()))


def drive(
    port: int, seconds: float, streams: list[tuple[str, str, list[str], float]]
) -> list[dict[str, Any]]:
    """Run the streams from a client process; their summaries."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_client, args=({"port": port, "seconds": seconds, "streams": streams}, queue)
    )
    proc.start()
    result: list[dict[str, Any]] = queue.get(timeout=seconds + EXPORT_TIMEOUT + 120)
    proc.join(timeout=30)
    return result


# --- server, corpus, re-index ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def start_server(index: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """`imr-search serve` on a free port, answering."""
    port = _free_port()
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index)]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server, port
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start in time")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def ensure_corpus(root: Path, letters: int, seed: int) -> Path:
    """DIR/letters generated and DIR/index built, unless there already."""
    folder, index = root / "letters", root / "index"
    if not folder.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "search.generate",
                str(folder),
                "-n",
                str(letters),
                "--seed",
                str(seed),
            ],
            check=True,
        )
    if not (index / "imr-search.lock").exists():
        subprocess.run(
            [sys.executable, "-m", "search.cli", "index", str(folder), "--index", str(index)],
            check=True,
        )
    return index


class Reindex:
    """`imr-search index` in a loop while a scenario runs: each round edits 60 letters of a
    folder of 300 more (DIR/extra, added to the index by the first round) and commits."""

    def __init__(self, root: Path) -> None:
        from search.generate import write_corpus

        self.root = root
        self.proc: subprocess.Popen[bytes] | None = None
        self.rounds = 0
        self.rng = random.Random(7)
        self.folder = root / "extra"
        if not self.folder.exists():
            write_corpus(self.folder, 300, seed=99)
        self.files = sorted(self.folder.glob("*.txt"))

    def poll(self) -> None:
        """Start the next round when the last one is done."""
        if self.proc is not None and self.proc.poll() is None:
            return
        if self.proc is not None:
            self.rounds += 1
        for path in self.rng.sample(self.files, min(60, len(self.files))):
            with path.open("a", encoding="utf-8") as f:
                f.write("\nAmended during the load test.\n")
        command = [sys.executable, "-m", "search.cli", "index", str(self.folder)]
        self.proc = subprocess.Popen(
            [*command, "--index", str(self.root / "index")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Let the running round finish (a kill is chaos_kill's job, not this one's)."""
        if self.proc is not None:
            self.proc.wait()


def with_reindex(root: Path, run: Callable[[], list[dict[str, Any]]]) -> tuple[Any, int]:
    """Run a scenario while re-indexing in a loop; (its result, rounds completed)."""
    import threading

    reindex = Reindex(root)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            reindex.poll()
            done.wait(0.2)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        result = run()
    finally:
        done.set()
        thread.join()
        reindex.stop()
    return result, reindex.rounds


# --- the table ----------------------------------------------------------------------------


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """One scenario's streams."""
    print(f"\n{title}", flush=True)
    for r in rows:
        print(
            f"  {r['stream']:<26} {r['qps']:7.1f} q/s ({r['ok_qps']:.1f} ok)  "
            f"p50 {r['p50']:7.0f}  p95 {r['p95']:7.0f}  p99 {r['p99']:7.0f} ms  "
            f"503: {r['503']} (p95 {r['503_p95']:.0f} ms)  other: {r['other'] or 0}  "
            f"errors: {r['errors']}  unanswered: {r['unanswered']}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Run every scenario against one server and print the rows."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_load", description=__doc__)
    p.add_argument("--dir", type=Path, required=True, help="work folder: letters/, index/")
    p.add_argument("--letters", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--workers", type=int, default=2, help="server processes")
    p.add_argument("--seconds", type=float, default=20.0, help="per scenario")
    p.add_argument("--rate", type=float, default=10.0, help="the light rate (q/s)")
    p.add_argument(
        "--over",
        type=float,
        nargs="*",
        default=[40.0, 120.0],
        help="fixed rates past saturation (q/s)",
    )
    p.add_argument("--clients", type=int, nargs="*", default=[4, 16, 64])
    p.add_argument("--only", nargs="*", default=None, help="scenario names to run")
    args = p.parse_args(argv)
    index = ensure_corpus(args.dir, args.letters, args.seed)
    light = light_paths(index, 600, args.seed)
    heavy = heavy_paths(light)
    exports = export_paths(light)
    server, port = start_server(index, args.workers)
    sec = args.seconds
    rate = ("light", "rate", light, args.rate)
    try:
        drive(port, 5.0, [("warm-up", "closed", light, 4)])  # each worker opens its index
        scenarios: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
            (f"{args.rate:g} q/s light", lambda: drive(port, sec, [rate])),
            (
                f"{args.rate:g} q/s light + CSV export loop",
                lambda: drive(port, sec, [rate, ("export", "closed", exports, 1)]),
            ),
            (
                f"{args.rate:g} q/s light + heavy flood (8 x size={HEAVY_SIZE}) + 2 exports",
                lambda: drive(
                    port,
                    sec,
                    [rate, ("heavy", "closed", heavy, 8), ("export", "closed", exports, 2)],
                ),
            ),
        ]
        scenarios += [
            (
                f"fixed concurrency {c}",
                lambda c=c: drive(port, sec, [("light", "closed", light, c)]),
            )
            for c in args.clients
        ]
        scenarios += [
            (f"fixed rate {r:g} q/s", lambda r=r: drive(port, sec, [("light", "rate", light, r)]))
            for r in args.over
        ]
        for title, run in scenarios:
            if args.only is None or any(o in title for o in args.only):
                print_rows(title, run())
        if args.only is None or any("re-index" in o for o in args.only):
            rows, rounds = with_reindex(args.dir, lambda: drive(port, 2 * sec, [rate]))
            print_rows(
                f"{args.rate:g} q/s light + concurrent re-index ({rounds} runs of "
                "`imr-search index` committed)",
                rows,
            )
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
