"""The serving process's malloc arenas: capped, counted by glibc itself in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# A process that starts 8 threads which each allocate at once (so each would get an arena of
# its own), then asks glibc to print its arenas (malloc_stats writes "Arena N:" to stderr).
PROGRAM = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, threading
    from web.malloc import limit_arenas
    if sys.argv[1] == "capped":
        assert limit_arenas(2)
    barrier = threading.Barrier(8)
    def work():
        held = [bytearray(64 * 1024) for _ in range(4)]
        barrier.wait()
        held.clear()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
    """
)


def _arenas(mode: str) -> int:
    """Arenas glibc reports after 8 threads allocated at once in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


def test_capped_process_uses_at_most_two_arenas() -> None:
    try:
        os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        pytest.skip("not glibc: malloc arenas cannot be capped here")
    uncapped, capped = _arenas("free"), _arenas("capped")
    assert uncapped > 2  # the threads did get arenas of their own: the test can tell
    assert 1 <= capped <= 2
