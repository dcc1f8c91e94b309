"""Shared fixtures: the sample letters, a generated corpus, and an index built from both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "search" / "samples"
GENERATED_LETTERS = 240
GENERATED_SEED = 11


@pytest.fixture(scope="session")
def sample_paths() -> list[Path]:
    """The real sample letters shipped with the package."""
    return sorted(SAMPLES_DIR.glob("*.txt"))


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of generated letters (all layouts, with PDF-like noise)."""
    from search.generate import write_corpus

    folder = tmp_path_factory.mktemp("generated")
    write_corpus(folder, GENERATED_LETTERS, seed=GENERATED_SEED)
    return folder


@pytest.fixture(scope="session")
def corpus_paths(sample_paths: list[Path], generated_dir: Path) -> list[Path]:
    """Every letter file of the shared corpus: samples and generated letters."""
    return [*sample_paths, *sorted(generated_dir.glob("*.txt"))]


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, corpus_paths: list[Path]) -> Path:
    """An index of the shared corpus (do not modify it; build your own to write)."""
    from search.index import index_paths

    folder = tmp_path_factory.mktemp("index")
    summary = index_paths(folder, corpus_paths, workers=1)
    assert summary.failed == 0, summary.errors
    return folder


@pytest.fixture(scope="session")
def search_index(built_index: Path) -> Iterator[object]:
    """A SearchIndex opened on built_index."""
    from search.engine.searcher import SearchIndex

    index = SearchIndex.open(built_index)
    yield index
    index.close()


@pytest.fixture(scope="session")
def posting_lists(search_index: Any) -> list[tuple[Any, str, str, Any]]:
    """(terms reader, field, word, term info) of every text-field posting list of
    search_index kept in the posting file (not inlined in the term index), every segment."""
    from search.engine import _codec
    from search.schema import TEXT_FIELDS

    found = []
    for leaf in search_index._current().leaves:
        for field in (*TEXT_FIELDS, "rationale_2"):
            for word, _df in _codec.field_terms_df(leaf.reader, field):
                info = _codec.term_info(leaf.reader, field, word)
                if info is not None and not info.is_inlined():
                    found.append((leaf.reader._terms, field, word, info))
    return found


@pytest.fixture(scope="module")
def web_app() -> Flask:
    """The app over the shared web index (samples plus generated letters), no refresh polling."""
    from test_web_support import web_index_dir

    from web.app import create_app

    return create_app({"INDEX_PATH": str(web_index_dir()), "REFRESH_INTERVAL": 0})


@pytest.fixture()
def web_client(web_app: Flask) -> FlaskClient:
    """A test client of web_app."""
    return web_app.test_client()


def _unpickled(terms: Any, info: Any) -> tuple[Any, Any]:
    """A posting list decoded block by block by unpickling (the decoders' reference)."""
    import struct

    from search.engine import _blocks

    offset, length = info.extent()
    length = length[0] if isinstance(length, tuple) else length
    view = terms._postfile.get(offset, length)
    starts, sizes, pos = [], [], 4
    while True:
        (blen,) = struct.unpack_from("!i", view, pos)
        starts.append(offset + pos + 4)
        sizes.append(abs(blen))
        if blen < 0:
            break
        pos += 4 + abs(blen)
    return _blocks.pickled_blocks(terms._postfile, starts, sizes)


@pytest.fixture(scope="session")
def unpickled() -> Callable[[Any, Any], tuple[Any, Any]]:
    """The reference decoder of a posting list (terms reader, term info): every block
    unpickled."""
    return _unpickled
