"""Admission control: a bounded number of requests at work, a fast 503 beyond it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from test_web_support import web_index_dir

from web.admission import Admission
from web.app import SECURITY_HEADERS, create_app

Seen = dict[str, Any]


def _start(seen: Seen) -> Any:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    return start_response


def test_a_request_beyond_the_limit_is_refused_fast_with_retry_after() -> None:
    entered, leave = threading.Event(), threading.Event()

    def slow(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        leave.wait(10)
        start_response("200 OK", [])
        return [b"done"]

    gate = Admission(slow, limit=1, wait=0.05, headers=SECURITY_HEADERS)
    first: Seen = {}
    worker = threading.Thread(target=gate, args=({"PATH_INFO": "/search"}, _start(first)))
    worker.start()
    assert entered.wait(10)
    for path, kind in (("/api/search", "application/json"), ("/search", "text/plain")):
        seen: Seen = {}
        t0 = time.monotonic()
        body = b"".join(gate({"PATH_INFO": path}, _start(seen)))
        assert time.monotonic() - t0 < 1.0  # refused after the short wait, not queued
        assert seen["status"].startswith("503")
        assert seen["headers"]["Retry-After"] == "1"
        assert seen["headers"]["Content-Type"].startswith(kind)
        assert all(seen["headers"][k] == v for k, v in SECURITY_HEADERS.items())
        assert b"busy" in body
    leave.set()
    worker.join(10)
    assert first["status"].startswith("200")
    seen = {}
    assert list(gate({"PATH_INFO": "/search"}, _start(seen))) == [b"done"]  # slot came back
    assert seen["status"].startswith("200")


def test_a_waiting_request_gets_the_slot_when_it_frees() -> None:
    leave = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") == "/slow":
            leave.wait(10)
        start_response("200 OK", [])
        return [b"ok"]

    gate = Admission(app, limit=1, wait=5.0, headers={})
    slow = threading.Thread(target=gate, args=({"PATH_INFO": "/slow"}, _start({})))
    slow.start()
    time.sleep(0.05)
    threading.Timer(0.1, leave.set).start()
    seen: Seen = {}
    assert list(gate({"PATH_INFO": "/fast"}, _start(seen))) == [b"ok"]
    assert seen["status"].startswith("200")
    slow.join(10)


def test_an_error_in_the_app_frees_the_slot() -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    gate = Admission(broken, limit=1, wait=0.0, headers={})
    for _ in range(3):
        with pytest.raises(RuntimeError):
            gate({}, _start({}))
    assert gate._slots.acquire(timeout=0)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Admission(lambda e, s: [], limit=0, wait=0.0, headers={})


def test_the_real_app_is_gated_by_its_config() -> None:
    config = {
        "INDEX_PATH": str(web_index_dir()),
        "REFRESH_INTERVAL": 0,
        "MAX_ACTIVE": 1,
        "ADMISSION_WAIT": 0.0,
    }
    app = create_app(config)
    assert isinstance(app.wsgi_app, Admission) and app.wsgi_app.limit == 1
    client = app.test_client()
    for _ in range(10):  # one at a time: every slot is given back
        assert client.get("/api/search?q=pain").status_code == 200
