"""Support for the web tests (no tests here): a real index of samples plus generated letters."""

from __future__ import annotations

import atexit
import functools
import importlib.resources
import shutil
import tempfile
from pathlib import Path

GENERATED_LETTERS = 60
SEED = 7


@functools.cache
def web_index_dir() -> Path:
    """Build once per test process; removed at exit. Samples, test letters, generated letters."""
    from search.generate import write_corpus
    from search.index import index_paths

    root = Path(tempfile.mkdtemp(prefix="imr-web-test-"))
    atexit.register(shutil.rmtree, root, True)
    letters = root / "letters"
    letters.mkdir()
    samples = importlib.resources.files("search.samples")
    for item in samples.iterdir():
        if item.name.endswith(".txt"):
            (letters / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
    write_corpus(letters / "generated", GENERATED_LETTERS, SEED)
    index = root / "index"
    index_paths(str(index), [str(letters)], workers=1)
    return index
