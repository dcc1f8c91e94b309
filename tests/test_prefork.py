"""`imr-search serve --workers 2`: real server processes on one socket, refreshed after a
commit, stopped cleanly by SIGTERM."""

from __future__ import annotations

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
