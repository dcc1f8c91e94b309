"""Loopback load test of `imr-search serve --workers N`: q/s, latency percentiles and CPU.

    python -m benchmarks.bench_http --index DIR [--workers 1 2] [--clients 1 4 16]
                                    [--seconds 15] [--mix FILE.jsonl]

For each worker count, starts the real server on a free 127.0.0.1 port, warms every worker,
then for each client count runs that many closed-loop clients (keep-alive HTTP/1.1, one
request at a time each) against /api/search with the queries of a mix (benchmarks.querymix),
for a bounded time and number of requests. q/s and the latency percentiles count answers
(200) only; anything else (a 503 of the admission control, a dropped connection) is an
error. The clients share the machine's cores with the server, so they are made cheap: one
separate process drives every connection from one non-blocking event loop over raw sockets
with the request bytes built beforehand, and reports its own CPU time. The server's CPU time
(the parent and its worker processes, from /proc) is read before and after each run, so the
table shows CPU per request on both sides: throughput divided by the cores the server
actually got is the honest scaling figure on a machine the load generator and other work
share. Halfway through a run the client reads from /proc which worker holds each of its
connections, so the table also shows how the requests split between the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, Final

from benchmarks import querymix
from web.prefork import connection_owners

MAX_REQUESTS: Final = 20_000  # per run, whatever the duration
TIMEOUT: Final = 30.0  # seconds one request may take before the client counts an error


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


# --- the client process ----------------------------------------------------------------


def _request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii")


class _Conn:
    """One keep-alive connection of the closed loop: a request in flight and its buffer."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.buf = bytearray()
        self.need = -1  # total bytes of the response once its head is read
        self.status = 0
        self.close_after = False
        self.started = 0.0

    def feed(self, data: bytes) -> bool:
        """Add received bytes; True when the response is complete."""
        self.buf += data
        if self.need < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self.buf[:end]).decode("latin-1").lower().split("\r\n")
            self.status = int(head[0].split()[1])
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and "close" in value:
                    self.close_after = True
            self.need = end + 4 + length
        return len(self.buf) >= self.need


def client_run(
    port: int, paths: list[str], clients: int, seconds: float, server_pid: int = 0
) -> dict[str, Any]:
    """Closed-loop clients on raw sockets in one loop; q/s, latencies, errors, own CPU, and
    requests per server worker (which one holds each connection, read halfway)."""
    requests = [_request_bytes(p) for p in paths]
    sel = selectors.DefaultSelector()
    latencies: list[float] = []
    errors = 0
    sent = 0
    served: dict[int, int] = {}  # the client side's port of a connection -> responses
    owners: dict[int, int] | None = None
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    stop = started + seconds

    def send(conn: _Conn, k: int) -> None:
        nonlocal sent
        conn.buf.clear()
        conn.need = -1
        conn.started = time.perf_counter()
        conn.sock.sendall(requests[(k * 7919 + sent) % len(requests)])
        sent += 1

    conns = {}
    for k in range(clients):
        conn = _Conn(port)
        conns[conn.sock.fileno()] = (k, conn)
        sel.register(conn.sock, selectors.EVENT_READ)
        send(conn, k)
    while conns:
        now = time.perf_counter()
        if owners is None and server_pid and now >= started + seconds / 2:
            owners = connection_owners(port, set(_cpu_seconds(server_pid)))  # it and workers
        for key, _ in sel.select(timeout=1.0):
            k, conn = conns[key.fd]
            try:
                data = conn.sock.recv(1 << 16)
            except OSError:
                data = b""
            done = bool(data) and conn.feed(data)
            if data and not done:
                continue
            end = time.perf_counter()
            if done:
                # Only answers count: a quick 503 (shed under overload) is an error, and
                # neither adds to q/s nor lowers the latency percentiles.
                if conn.status == 200:
                    latencies.append((end - conn.started) * 1000)
                else:
                    errors += 1
                served[conn.port] = served.get(conn.port, 0) + 1
            else:
                errors += 1  # the server closed the connection mid-response
            if not done or conn.close_after:
                sel.unregister(conn.sock)
                conn.sock.close()
                del conns[key.fd]
                if end < stop and sent < MAX_REQUESTS:
                    conn = _Conn(port)
                    conns[conn.sock.fileno()] = (k, conn)
                    sel.register(conn.sock, selectors.EVENT_READ)
                    send(conn, k)
                continue
            if end < stop and sent < MAX_REQUESTS:
                send(conn, k)
            else:
                sel.unregister(conn.sock)
                conn.sock.close()
                del conns[key.fd]
        for fd, (_, conn) in list(conns.items()):  # a request stuck past the timeout
            if now - conn.started > TIMEOUT:
                errors += 1
                sel.unregister(conn.sock)
                conn.sock.close()
                del conns[fd]
    elapsed = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    ordered = sorted(latencies) or [float("nan")]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    per_worker: dict[int, int] = {}
    for client_port, count in served.items():
        pid = (owners or {}).get(client_port, 0)  # 0: a connection made after the reading
        per_worker[pid] = per_worker.get(pid, 0) + count

    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "qps": len(latencies) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
        "client_cpu_s": cpu,
        "per_worker": sorted((n for pid, n in per_worker.items() if pid), reverse=True),
        "unattributed": per_worker.get(0, 0),
    }


# --- the driver ------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of a process and of each of its live child processes."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            out[int(entry)] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def _memory_mb(pids: list[int]) -> dict[str, float]:
    """The largest peak RSS (VmHWM) among the processes, and that process's resident heap
    (RssAnon) and mapped file pages (RssFile) now, in MB."""
    best: dict[str, float] = {}
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        status = {k: v for k, _, v in (line.partition(":") for line in lines)}
        try:
            mem = {k: int(status[k].split()[0]) / 1024 for k in ("VmHWM", "RssAnon", "RssFile")}
        except (KeyError, ValueError, IndexError):
            continue
        if mem["VmHWM"] > best.get("VmHWM", -1.0):
            best = mem
    return best


def _load(
    port: int, paths_file: Path, clients: int, seconds: float, server_pid: int = 0
) -> dict[str, Any]:
    """Run the client process once and return its report."""
    command = [sys.executable, "-m", "benchmarks.bench_http", "_client", str(port)]
    command += [str(paths_file), str(clients), str(seconds), str(server_pid)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _wait_ready(port: int, server: subprocess.Popen[bytes], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(_request_bytes("/api/search?q=pain"))
                if s.recv(16).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer in time")


def run(
    index: Path, workers: int, clients: list[int], seconds: float, paths_file: Path
) -> list[dict[str, Any]]:
    """Start a server with `workers` processes and load it at each client count."""
    port = _free_port()
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index)]
    command += ["--port", str(port), "--workers", str(workers), "--threads", "16"]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, server)
        _load(port, paths_file, max(clients), min(5.0, seconds))  # each worker opens its index
        rows = []
        for c in clients:
            before = _cpu_seconds(server.pid)
            row = _load(port, paths_file, c, seconds, server.pid)
            after = _cpu_seconds(server.pid)
            spent = sorted((after[p] - before.get(p, 0.0) for p in after), reverse=True)
            row.update(workers=workers, server_cpu_s=sum(spent), process_cpu_s=spent)
            row["memory_mb"] = _memory_mb(list(after))
            rows.append(row)
        return rows
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def table(rows: list[dict[str, Any]]) -> str:
    """The printed table."""
    load = os.getloadavg()
    lines = [
        f"{os.cpu_count()} cores shared with other work (load average {load[0]:.1f}); "
        "client = the load generator's process",
        "workers clients    q/s   p50 ms   p95 ms   p99 ms  requests errors"
        "  server CPU ms/req (cores)  client CPU ms/req (cores)  busiest processes' CPU share"
        "  responses per worker  largest worker RSS peak MB (heap, mapped)",
    ]
    for r in rows:
        n, secs = max(1, r["requests"]), r["seconds"]
        server, client = r["server_cpu_s"], r["client_cpu_s"]
        lines.append(
            f"{r['workers']:>7} {r['clients']:>7} {r['qps']:6.1f} {r['p50']:8.1f} "
            f"{r['p95']:8.1f} {r['p99']:8.1f} {r['requests']:>9} {r['errors']:>6}"
            f"  {1000 * server / n:10.1f} ({server / secs:4.2f})"
            f"        {1000 * client / n:10.2f} ({client / secs:4.2f})"
            f"  {_shares(r.get('process_cpu_s', [])):>27}"
            f"  {_split(r.get('per_worker', []), r.get('unattributed', 0))}"
            f"  {_rss(r.get('memory_mb', {}))}"
        )
    by = {(r["workers"], r["clients"]): r for r in rows}
    for (w, c), r in sorted(by.items()):
        one = by.get((1, c))
        if w > 1 and one and one["qps"]:
            lines.append(f"{w} workers / 1 worker at {c} clients: {r['qps'] / one['qps']:.2f}x q/s")
    return "\n".join(lines)


def _rss(mem: dict[str, float]) -> str:
    if not mem:
        return "-"
    return f"{mem['VmHWM']:.0f} ({mem['RssAnon']:.0f}, {mem['RssFile']:.0f})"


def _shares(spent: list[float]) -> str:
    """How the server's CPU time split between its processes (balance of the workers)."""
    total = sum(spent)
    return "/".join(f"{100 * x / total:.0f}%" for x in spent[:4] if x > 0) if total else "-"


def _split(per_worker: list[int], unattributed: int) -> str:
    """Requests answered by each worker (busiest first), and those not attributed."""
    text = "/".join(str(n) for n in per_worker) or "-"
    return f"{text} (+{unattributed} unattributed)" if unattributed else text


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_client":
        port, paths_file, clients, seconds, server_pid = argv[1:6]
        paths = json.loads(Path(paths_file).read_text())
        report = client_run(int(port), paths, int(clients), float(seconds), int(server_pid))
        print(json.dumps(report))
        return 0
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
    fd, name = tempfile.mkstemp(prefix="bench_http-", suffix=".json")
    os.close(fd)
    paths_file = Path(name)
    paths_file.write_text(json.dumps(_paths(mix)))
    rows: list[dict[str, Any]] = []
    try:
        for workers in args.workers:
            rows += run(args.index, workers, args.clients, args.seconds, paths_file)
    finally:
        paths_file.unlink(missing_ok=True)
    print(table(rows))
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
