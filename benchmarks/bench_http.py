"""Loopback load test of `imr-search serve --workers N`: q/s and latency percentiles.

    python -m benchmarks.bench_http --index DIR [--workers 1 2] [--clients 1 4 16]
                                    [--seconds 15] [--mix FILE.jsonl]

For each worker count, starts the real server on a free 127.0.0.1 port, then for each client
count runs that many closed-loop clients (keep-alive HTTP/1.1, one request at a time each)
against /api/search with the queries of a mix (benchmarks.querymix; unseen at first, then
repeating), for a bounded time and number of requests. The clients run in this process and
share the machine's cores with the server, so on 2 cores the server never has both to itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Final

from benchmarks import querymix

MAX_REQUESTS: Final = 20_000  # per run, whatever the duration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _paths(mix: list[querymix.Query]) -> list[str]:
    out = []
    for q in mix:
        text, filters = q.ours()
        params = [("q", text)] + [(k, v) for k, vs in filters.items() for v in vs]
        out.append("/api/search?" + urllib.parse.urlencode(params))
    return out


def _wait_ready(port: int, server: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/search?q=pain")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer in time")


def load(port: int, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    """Closed-loop clients for a bounded time; q/s and latency percentiles in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    counter = iter(range(MAX_REQUESTS))

    def client(offset: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        for i in counter:
            if time.monotonic() >= stop:
                break
            path = paths[(offset + i) % len(paths)]
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - t) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k * 7919,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "qps": len(latencies) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
    }


def run(index: Path, workers: int, clients: list[int], seconds: float, paths: list[str]) -> list:
    """Start a server with `workers` processes and load it at each client count."""
    port = _free_port()
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index)]
    command += ["--port", str(port), "--workers", str(workers), "--threads", "16"]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, server)
        load(port, paths, max(clients), min(5.0, seconds))  # each worker opens its index
        return [{"workers": workers, **load(port, paths, c, seconds)} for c in clients]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its table."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_http", description=__doc__)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--mix", type=Path, default=None, help="a mix written by bench_scale")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--seconds", type=float, default=15.0, help="per run (default 15)")
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = p.parse_args(argv)
    if args.mix is not None:
        mix = querymix.load(args.mix)
    else:
        from benchmarks.bench_scale import _sample_records

        mix = querymix.make_mix(_sample_records(args.index, 2000, 1), 500, 1)
    paths = _paths(mix)
    rows = []
    for workers in args.workers:
        rows += run(args.index, workers, args.clients, args.seconds, paths)
    print("workers clients    q/s   p50 ms   p95 ms   p99 ms  requests errors")
    for r in rows:
        print(
            f"{r['workers']:>7} {r['clients']:>7} {r['qps']:6.1f} {r['p50']:8.1f} "
            f"{r['p95']:8.1f} {r['p99']:8.1f} {r['requests']:>9} {r['errors']:>6}"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
