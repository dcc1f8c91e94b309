"""Pre-forked serving: N waitress processes accepting on one listening socket.

Each worker process builds its own app (and so opens its own searcher lazily, refreshing it
after commits); they share the read-only index files through the OS page cache, which the
engine reads through memory maps. Python threads share one interpreter lock, so processes
are what lets a second core serve searches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

QUICK_EXIT: Final = 2.0  # a worker that dies sooner than this after start counts as failing
MAX_QUICK_EXITS: Final = 5  # give up after this many in a row (a broken app, not bad luck)


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (bound before forking, so every worker accepts on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    sock.setblocking(False)
    return sock


def _worker(make_app: Callable[[], Any], sock: socket.socket, threads: int, ident: str) -> None:
    """Run in a forked child: serve until signalled, never return."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from .server import serve

        serve(make_app(), sockets=[sock], threads=threads, ident=ident)
    except BaseException:  # report, then leave without running the parent's cleanup
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def serve_prefork(
    make_app: Callable[[], Any],
    sock: socket.socket,
    *,
    workers: int,
    threads: int,
    ident: str = "imr-search",
) -> int:
    """Fork `workers` processes serving `make_app()` on sock; replace any that die; return
    when stopped by SIGTERM or SIGINT (0), or when workers keep dying at start (1)."""
    children: dict[int, float] = {}  # pid -> start time
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            _worker(make_app, sock, threads, ident)
        children[pid] = time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    old_term = signal.signal(signal.SIGTERM, stop)
    old_int = signal.signal(signal.SIGINT, stop)
    quick = 0
    try:
        for _ in range(max(1, workers)):
            spawn()
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            started = children.pop(pid, None)
            if stopping or started is None:
                continue
            quick = quick + 1 if time.monotonic() - started < QUICK_EXIT else 0
            if quick >= MAX_QUICK_EXITS:
                print("imr-search: workers keep failing at start; stopping", file=sys.stderr)
                stop(signal.SIGTERM, None)
                continue
            spawn()  # a worker died: keep the pool at full strength
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        sock.close()
    return 1 if quick >= MAX_QUICK_EXITS else 0
