"""`imr-search serve`, the sample index built on first start, and re-indexing while serving."""

from __future__ import annotations

import argparse
import importlib.resources
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from search.cli import build_parser, main
from search.engine.searcher import SearchIndex
from search.index import index_paths
from web import cli_serve
from web.app import create_app

SAMPLES = Path(str(importlib.resources.files("search.samples")))


def test_serve_is_registered() -> None:
    parser = build_parser("serve")
    args = parser.parse_args(["serve", "--index", "x", "--port", "9999", "--host", "0.0.0.0"])
    assert args.func is cli_serve.run_serve
    assert (args.index, args.port, args.host, args.debug) == ("x", 9999, "0.0.0.0", False)
    sub = argparse.ArgumentParser().add_subparsers()
    cli_serve.add_arguments(sub)
    assert "serve" in sub.choices
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0


def test_serve_builds_sample_index_and_runs_waitress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import waitress

    calls: list[dict[str, Any]] = []

    def fake_serve(app: Any, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(waitress, "serve", fake_serve)
    index = tmp_path / "index"
    assert main(["serve", "--index", str(index), "--port", "8123", "--workers", "1"]) == 0
    assert calls and calls[0]["port"] == 8123 and calls[0]["host"] == "127.0.0.1"
    determinations, _ = SearchIndex.open(str(index)).doc_count()
    assert determinations == len(list(SAMPLES.glob("*.txt")))
    response = calls[0]["app"].test_client().get("/api/search")
    assert response.get_json()["total_determinations"] == determinations
    # a second start reuses the index
    assert not cli_serve.ensure_index(str(index))


def test_serve_default_index() -> None:
    args = build_parser("serve").parse_args(["serve"])
    assert (args.index, args.host, args.port) == ("index", "127.0.0.1", 8000)


def test_reindex_while_serving_is_picked_up(tmp_path: Path) -> None:
    """New letters committed while the app serves show up without a restart or an error."""
    letters = sorted(SAMPLES.glob("*.txt"))
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(letters[0], first)
    index = tmp_path / "index"
    index_paths(str(index), [str(first)])
    app = create_app({"INDEX_PATH": str(index), "REFRESH_INTERVAL": 0})
    client = app.test_client()
    assert client.get("/api/search").get_json()["total_determinations"] == 1

    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        local = app.test_client()
        while not stop.is_set():
            statuses.append(local.get("/search?q=pain").status_code)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        rest = tmp_path / "rest"
        rest.mkdir()
        for letter in letters[1:]:
            shutil.copy(letter, rest)
        index_paths(str(index), [str(rest)])
    finally:
        stop.set()
        thread.join()
    assert statuses and set(statuses) == {200}
    assert client.get("/api/search").get_json()["total_determinations"] == len(letters)
