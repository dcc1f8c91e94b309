"""A search's segments on several threads: the same answers as on one, parts in order,
errors raised, and the server's processes given their share of the cores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.engine import parallel
from search.engine.searcher import SearchIndex
from search.results import QueryError, SearchRequest


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory, corpus_paths: list[Path]) -> Path:
    """The shared corpus indexed in four batches: an index of several segments."""
    from search.index import index_paths

    folder = tmp_path_factory.mktemp("segmented")
    for k in range(4):
        summary = index_paths(folder, corpus_paths[k::4], workers=1)
        assert summary.failed == 0, summary.errors
    return folder


@pytest.fixture(scope="module")
def pair(segmented: Path) -> Iterator[tuple[SearchIndex, SearchIndex]]:
    """The segmented index opened twice: searching on one thread, and on three."""
    one, three = SearchIndex.open(segmented, threads=1), SearchIndex.open(segmented, threads=3)
    yield one, three
    one.close()
    three.close()


def _answer(index: SearchIndex, request: SearchRequest) -> Any:
    r = index.search(request)
    hits = [(h.id, h.score, [(d.ordinal, d.highlights) for d in h.decisions]) for h in r.results]
    return r.total_determinations, r.total_decisions, r.facets, hits, r.suggestion


REQUESTS = [
    SearchRequest(q="tizanidine"),
    SearchRequest(q="chronic pain", literal=True, scope="letter"),
    SearchRequest(q='"medically necessary" OR opioid*', sort="newest"),
    SearchRequest(q="pain", filters={"outcome": ("Overturned",)}, page=2, size=5),
    SearchRequest(q="", filters={"state": ("California", "Texas"), "year": ("2016",)}),
    SearchRequest(q=""),
    SearchRequest(q="xqzzyv"),
]


def test_the_index_has_several_segments(pair: tuple[SearchIndex, SearchIndex]) -> None:
    assert len(pair[0]._current().leaves) >= 3


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.q!r} {dict(r.filters)}")
def test_threads_give_the_answers_of_one_thread(
    pair: tuple[SearchIndex, SearchIndex], request_: SearchRequest
) -> None:
    one, three = pair
    assert _answer(three, request_) == _answer(one, request_)


def test_segments_are_searched_on_several_threads(
    pair: tuple[SearchIndex, SearchIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[str] = set()
    original = parallel.each
    # The first two parts of a threaded search meet before going on: the caller, blocked in
    # its first part, cannot take the second, so a pool thread must (else the barrier breaks
    # and the search fails). Without it the caller could take every part before a helper
    # started, on a busy machine, and the test failed with nothing wrong.
    meet = threading.Barrier(2, timeout=10)
    calls: list[int] = []

    def watched(work: Any, count: int, threads: int = 1) -> Any:
        meeting = threads > 1 and count >= 2 and not calls  # (the first threaded call)
        calls.append(count)

        def part(i: int) -> Any:
            seen.add(threading.current_thread().name)
            if meeting and i < 2:
                meet.wait()
            return work(i)

        return original(part, count, threads)

    monkeypatch.setattr("search.engine.searcher.each", watched)
    monkeypatch.setattr("search.engine.evaluate.each", watched)
    pair[1].search(SearchRequest(q="pain"))
    assert len(seen) >= 2 and any(n.startswith(parallel._PREFIX) for n in seen)
    seen.clear()
    pair[0].search(SearchRequest(q="pain"))
    assert seen == {threading.current_thread().name}


def test_each_keeps_order_and_raises_a_parts_error() -> None:
    assert parallel.each(lambda i: i * i, 0, 3) == []
    assert parallel.each(lambda i: i * i, 7, 3) == [i * i for i in range(7)]
    assert parallel.each(lambda i: i, 5, 1) == list(range(5))

    def failing(i: int) -> int:
        if i == 4:
            raise QueryError("part 4")
        return i

    with pytest.raises(QueryError, match="part 4"):
        parallel.each(failing, 6, 3)
    # a part that itself asks for parts runs them on its own thread (never waits on the pool)
    nested = parallel.each(lambda i: parallel.each(lambda j: (i, j), 3, 3), 4, 3)
    assert nested == [[(i, j) for j in range(3)] for i in range(4)]


def test_a_timeout_in_a_segment_is_the_searchs_error(
    pair: tuple[SearchIndex, SearchIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.engine import searcher

    monkeypatch.setattr(searcher, "TIME_LIMIT", -1.0)
    with pytest.raises(searcher.SearchTimeout):
        pair[1].search(SearchRequest(q="pain"))


@pytest.mark.parametrize(("workers", "cores", "threads"), [(1, 2, 2), (2, 2, 1), (4, 2, 1)])
def test_each_server_process_gets_its_share_of_the_cores(
    segmented: Path, monkeypatch: pytest.MonkeyPatch, workers: int, cores: int, threads: int
) -> None:
    import argparse

    from search.engine import hits
    from web import cli_serve, malloc, prefork, server

    monkeypatch.setattr(cli_serve.os, "cpu_count", lambda: cores)
    # (the process-wide steps of a server start are not this test's)
    monkeypatch.setattr(cli_serve.gc, "freeze", lambda: None)
    monkeypatch.setattr(malloc, "limit_arenas", lambda: None)
    monkeypatch.setattr(hits, "warm_vocabularies", lambda: None)
    apps: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda app, **kw: apps.append(app))
    monkeypatch.setattr(prefork, "listen", lambda host, port: None)
    monkeypatch.setattr(prefork, "serve_prefork", lambda make, sock, **kw: apps.append(make()))
    args = argparse.Namespace(workers=workers, host="127.0.0.1", port=0, debug=False, threads=4)
    cli_serve.serve(segmented, args)
    (app,) = apps
    with app.app_context():
        from web.app import current_index

        assert current_index().threads == threads
