"""`imr-search serve` and `demo`: sample or generated index, --index errors, live re-indexing."""

from __future__ import annotations

import argparse
import gc
import importlib.resources
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.cli import build_parser, main
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


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """waitress.serve replaced by a recorder that also queries the app while it "serves"."""
    import waitress

    calls: list[dict[str, Any]] = []

    def fake_serve(app: Any, **kwargs: Any) -> None:
        body = app.test_client().get("/api/search").get_json()
        frozen = gc.get_freeze_count()
        calls.append(
            {"app": app, "total": body["total_determinations"], "frozen": frozen, **kwargs}
        )

    monkeypatch.setattr(waitress, "serve", fake_serve)
    monkeypatch.setattr(cli_serve, "default_workers", lambda: 1)  # one process: this one
    gc.unfreeze()  # (serve freezes what is loaded; the rest of the tests collect as usual)
    yield calls
    gc.unfreeze()


def test_serve_without_index_serves_the_samples_from_a_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--port", "8123"]) == 0
    assert served and served[0]["port"] == 8123 and served[0]["host"] == "127.0.0.1"
    assert served[0]["total"] == len(list(SAMPLES.glob("*.txt")))
    assert served[0]["frozen"] > 0  # the startup objects left out of the collections
    assert list(tmp_path.iterdir()) == []  # nothing left in the working folder


def test_serve_without_index_prefers_dot_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    index_paths(str(tmp_path / "index"), [str(SAMPLES / "CM17-0013077.txt")], workers=1)
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 0
    assert served[0]["total"] == 1


def test_serve_index_path_without_an_index_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], served: list[dict[str, Any]]
) -> None:
    typo = tmp_path / "indx"
    assert main(["serve", "--index", str(typo)]) == 2
    assert str(typo) in capsys.readouterr().err
    assert not served and not typo.exists()  # nothing built there
    index = tmp_path / "index"
    index_paths(str(index), [str(SAMPLES)], workers=1)
    assert main(["serve", "--index", str(index)]) == 0
    assert served[0]["total"] == len(list(SAMPLES.glob("*.txt")))
    assert served[0]["frozen"] > 0  # the startup objects left out of the collections


def test_demo_generates_indexes_and_serves(
    capsys: pytest.CaptureFixture[str], served: list[dict[str, Any]]
) -> None:
    assert main(["demo", "--letters", "30", "--port", "8124"]) == 0
    assert served[0]["total"] == 30 and served[0]["port"] == 8124
    path = served[0]["app"].config["INDEX_PATH"]
    assert not Path(path).exists()  # the temporary index is removed after serving
    assert "30 generated letters indexed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--letters", "0"])


def test_serve_default_index() -> None:
    args = build_parser("serve").parse_args(["serve"])
    assert (args.index, args.host, args.port) == (None, "127.0.0.1", 8000)


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
