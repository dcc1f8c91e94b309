"""Pre-forked serving: N waitress processes accepting on one listening socket.

Each worker process builds its own app (and so opens its own searcher lazily, refreshing it
after commits); they share the read-only index files through the OS page cache, which the
engine reads through memory maps. Python threads share one interpreter lock, so processes
are what lets a second core serve searches. Left to the kernel, whichever worker wakes first
accepts, and a few keep-alive clients can all land on one worker; so each worker publishes
its open connections (Balance) and takes new ones only while no live worker holds fewer.
"""

from __future__ import annotations

import contextlib
import mmap
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
# A worker's event loop wakes at least once a second (waitress's loop timeout) and publishes
# then; one silent for longer than this is hung or gone, and the others stop deferring to it.
STALE: Final = 3.0


class Balance:
    """Each worker's open connections, in memory shared by the forked workers.

    A slot per worker holds its count and when it last published it (the monotonic clock is
    the machine's, the same in every process). A worker accepts while no live worker holds
    fewer connections, so the one with the fewest always accepts and ties race as before.
    """

    def __init__(self, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = workers
        self._clock = clock
        self._memory = mmap.mmap(-1, 16 * workers)  # anonymous and shared: survives fork
        self._slots = memoryview(self._memory).cast("d")  # [count, published at] per worker

    def may_accept(self, slot: int, connections: int) -> bool:
        """Publish this worker's connections; whether it should accept another now."""
        now = self._clock()
        self._slots[2 * slot] = float(connections)
        self._slots[2 * slot + 1] = now
        for other in range(self.workers):
            if (
                other != slot
                and now - self._slots[2 * other + 1] < STALE
                and self._slots[2 * other] < connections
            ):
                return False
        return True

    def vacate(self, slot: int) -> None:
        """Forget a worker that has ended (its replacement publishes afresh)."""
        self._slots[2 * slot + 1] = 0.0

    def counts(self) -> list[int | None]:
        """Each slot's published connections (None: no live worker there)."""
        now = self._clock()
        return [
            int(self._slots[2 * k]) if now - self._slots[2 * k + 1] < STALE else None
            for k in range(self.workers)
        ]


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket (bound before forking, so every worker accepts on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    sock.setblocking(False)
    return sock


def _worker(
    make_app: Callable[[], Any],
    sock: socket.socket,
    threads: int,
    ident: str,
    accept_if: Callable[[int], bool],
) -> None:
    """Run in a forked child: serve until signalled, never return."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from .server import serve

        serve(make_app(), sockets=[sock], threads=threads, ident=ident, accept_if=accept_if)
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
    workers = max(1, workers)
    balance = Balance(workers)
    children: dict[int, tuple[float, int]] = {}  # pid -> start time, balance slot
    stopping = False

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            _worker(make_app, sock, threads, ident, lambda n: balance.may_accept(slot, n))
        children[pid] = (time.monotonic(), slot)

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
        for slot in range(workers):
            spawn(slot)
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            child = children.pop(pid, None)
            if child is None:
                continue
            started, slot = child
            balance.vacate(slot)
            if stopping:
                continue
            quick = quick + 1 if time.monotonic() - started < QUICK_EXIT else 0
            if quick >= MAX_QUICK_EXITS:
                print("imr-search: workers keep failing at start; stopping", file=sys.stderr)
                stop(signal.SIGTERM, None)
                continue
            spawn(slot)  # a worker died: keep the pool at full strength
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        sock.close()
    return 1 if quick >= MAX_QUICK_EXITS else 0


def connection_owners(port: int, pids: set[int]) -> dict[int, int]:
    """Which of the processes `pids` holds each established TCP connection to local `port`:
    {the peer's port: pid} (read from /proc; Linux only, empty elsewhere)."""
    peers: dict[int, int] = {}  # socket inode -> peer port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in list(fh)[1:]:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    peers[int(inode)] = int(remote.rsplit(":", 1)[1], 16)
    owners: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        peer = peers.get(int(target[8:-1]))
                        if peer is not None:
                            owners[peer] = pid
    return owners
