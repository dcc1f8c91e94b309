"""What a search reads: one generation of the index (a snapshot), and the bounded caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .evaluate import Leaf
from .hits import LetterRows
from .segments import IntArray
from .suggest import Speller


class Snapshot:
    """One generation of the index: its reader and segments, never changed once made.

    A search takes the current snapshot once and works on it alone; refresh() makes a new
    one and swaps the reference, so searches never wait for each other or for a refresh.
    """

    def __init__(self, reader: Any, leaves: list[Leaf], generation: int) -> None:
        self.reader = reader
        self.leaves = leaves
        self.generation = generation
        self.browse: dict[str, tuple[Any, LetterRows, int, int, IntArray]] = {}
        self.speller: Speller | None = None


class LRU(OrderedDict[Any, Any]):
    """A least-recently-used cache whose operations are atomic across threads, bounded in
    entries and, for arrays, in bytes."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.max_bytes = max_bytes
        self.used = 0  # bytes of the arrays held (when bounded in bytes)
        self.guard = threading.Lock()

    def fetch(self, key: Any) -> Any:
        with self.guard:
            found = self.get(key)
            if found is not None:
                self.move_to_end(key)
            return found

    def store(self, key: Any, value: Any) -> None:
        with self.guard:
            if key in self:
                return
            self[key] = value
            self.used += self._weight(value)
            while len(self) > self.size or (
                self.max_bytes is not None and self.used > self.max_bytes and len(self) > 1
            ):
                _, old = self.popitem(last=False)
                self.used -= self._weight(old)

    def drop_all(self) -> None:
        """Forget every entry."""
        with self.guard:
            self.clear()
            self.used = 0

    def _weight(self, value: Any) -> int:
        return int(getattr(value, "nbytes", 0)) if self.max_bytes is not None else 0
