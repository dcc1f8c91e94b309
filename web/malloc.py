"""Cap glibc's malloc arenas in a serving process (threads' freed arrays otherwise pile up)."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

# A search allocates arrays of a few MB per segment (one value per document); glibc gives
# each thread an arena of its own on its first allocation, up to 8 per core, and an arena
# keeps what was freed in it. Measured at 1.6M letters (bench_http, 1 worker, 16 threads,
# 4 clients): worker heap 2,312 MB uncapped, 1,201 MB with 2 arenas, 1,134 MB with 1.
SERVE_ARENAS: Final = 2
M_ARENA_MAX: Final = -8  # glibc's malloc.h


def limit_arenas(n: int = SERVE_ARENAS) -> bool:
    """Let threads created from now on share at most `n` malloc arenas; False off glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to cap
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, n))
