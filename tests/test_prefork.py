"""`imr-search serve --workers 2`: real server processes on one socket, refreshed after a
commit, stopped cleanly by SIGTERM, keep-alive connections spread over the workers."""

from __future__ import annotations

import http.client
import importlib.resources
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from search.index import index_paths
from web.prefork import STALE, Balance, connection_owners

SAMPLES = Path(str(importlib.resources.files("search.samples")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _total(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=", timeout=10) as r:
        return int(json.load(r)["total_determinations"])


def test_prefork_workers_serve_refresh_and_stop(tmp_path: Path) -> None:
    letters = sorted(SAMPLES.glob("*.txt"))
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(letters[0], first)
    index = tmp_path / "index"
    index_paths(index, [first], workers=1)
    port = _free_port()
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index)]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "2", "--threads", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _total(port) == 1
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        workers = _children(server.pid)
        assert len(workers) == 2
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda _: _total(port), range(40))) == {1}
        index_paths(index, letters, workers=1)  # a commit while serving
        time.sleep(1.5)  # each worker looks for new commits at most once a second
        with ThreadPoolExecutor(8) as pool:
            totals = list(pool.map(lambda _: _total(port), range(40)))
        assert set(totals[-20:]) == {len(letters)}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    if server.stderr:
        server.stderr.close()


def _start(index: Path, workers: int) -> tuple[subprocess.Popen[str], int]:
    """A real `imr-search serve` on a free port, once it answers."""
    port = _free_port()
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index)]
    command += ["--port", str(port), "--workers", str(workers), "--threads", "4"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            _total(port)
            return server, port
        except OSError:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.2)


def _owners_of(
    clients: list[http.client.HTTPConnection], port: int, workers: set[int]
) -> list[int]:
    """Connect the clients at once, as a load test's do; how many each worker holds."""
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(lambda c: c.connect(), clients))
    for _ in range(5):  # several requests on each kept-alive connection
        for client in clients:
            client.request("GET", "/api/search?q=pain")
            response = client.getresponse()
            assert response.status == 200 and json.loads(response.read())
    ports = {c.sock.getsockname()[1] for c in clients}
    owners = connection_owners(port, workers)
    assert set(owners) >= ports
    return [sum(owners[p] == pid for p in ports) for pid in sorted(workers)]


def _wait_until_both_serve(port: int, workers: set[int]) -> None:
    """Until each worker has answered on a connection of its own.

    The server answers as soon as one worker is up; a worker still starting has not published
    its connections yet, so the one already up rightly takes every connection until then.
    """
    deadline = time.monotonic() + 30
    while True:
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(2)]
        try:
            if 0 not in _owners_of(clients, port, workers):
                break
        finally:
            for client in clients:
                client.close()
        assert time.monotonic() < deadline, "the second worker never took a connection"
        time.sleep(0.5)
    time.sleep(1.5)  # the workers see the connections go


def test_keep_alive_clients_are_spread_over_the_workers(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index_paths(index, sorted(SAMPLES.glob("*.txt"))[:10], workers=1)
    server, port = _start(index, workers=2)
    try:
        workers = _children(server.pid)
        assert len(workers) == 2
        _wait_until_both_serve(port, workers)
        for _ in range(3):
            clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(4)]
            try:
                assert _owners_of(clients, port, workers) == [2, 2]
            finally:
                for client in clients:
                    client.close()
            time.sleep(1.5)  # the workers see the connections go
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        if server.stderr:
            server.stderr.close()


def test_balance_defers_to_the_worker_with_fewer_connections() -> None:
    balance = Balance(3)
    assert balance.may_accept(0, 5)  # the others have not published: nobody to defer to
    assert balance.may_accept(1, 2)
    assert not balance.may_accept(0, 5)  # worker 1 holds fewer
    assert balance.may_accept(2, 2)  # a tie races
    assert balance.counts() == [5, 2, 2]
    balance.vacate(1)
    balance.vacate(2)
    assert balance.counts() == [5, None, None]
    assert balance.may_accept(0, 5)  # the ones that ended no longer count


def test_balance_stops_deferring_to_a_silent_worker() -> None:
    now = [100.0]
    balance = Balance(2, clock=lambda: now[0])
    assert balance.may_accept(1, 0)  # worker 1 publishes once, then hangs
    assert not balance.may_accept(0, 3)
    now[0] += STALE - 0.5
    assert not balance.may_accept(0, 3)
    now[0] += 1.0  # worker 1 has been silent for longer than STALE
    assert balance.may_accept(0, 3)
    assert balance.counts() == [3, None]
