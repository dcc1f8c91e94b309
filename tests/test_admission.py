"""Admission control: a bounded number of requests at work, a fast 503 beyond it."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from test_web_support import web_index_dir

from search.engine.deadline import current_deadline, deadline_at, search_deadline
from search.engine.evaluate import SearchTimeout
from search.results import SearchRequest
from web.admission import ARRIVAL_KEY, DEADLINE_KEY, WAITED_KEY, Admission, is_heavy
from web.app import SECURITY_HEADERS, create_app

Seen = dict[str, Any]


def _start(seen: Seen) -> Any:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    return start_response


def _blocking_app(body: bytes) -> tuple[Any, threading.Event, threading.Event]:
    """A WSGI app that signals `entered` and holds its request until `leave` is set."""
    entered, leave = threading.Event(), threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        leave.wait(10)
        start_response("200 OK", [])
        return [body]

    return app, entered, leave


def test_a_request_beyond_the_limit_is_refused_fast_with_retry_after() -> None:
    slow, entered, leave = _blocking_app(b"done")

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


# --- one deadline per request, waiting included ------------------------------------------


def test_the_wait_for_a_slot_ends_at_the_request_deadline() -> None:
    slow, entered, leave = _blocking_app(b"done")

    gate = Admission(slow, limit=1, wait=10.0, headers=SECURITY_HEADERS, budget=0.3)
    worker = threading.Thread(target=gate, args=({"PATH_INFO": "/search"}, _start({})))
    worker.start()
    assert entered.wait(10)
    seen: Seen = {}
    t0 = time.monotonic()
    list(gate({"PATH_INFO": "/search"}, _start(seen)))
    waited = time.monotonic() - t0
    assert seen["status"].startswith("503") and seen["headers"]["Retry-After"] == "1"
    assert 0.2 < waited < 2.0  # the 0.3 s budget, not the 10 s admission wait
    # A request that arrived (was read by the server) a budget ago is refused at once.
    late: Seen = {}
    t0 = time.monotonic()
    list(gate({"PATH_INFO": "/search", ARRIVAL_KEY: time.monotonic() - 0.3}, _start(late)))
    assert late["status"].startswith("503") and time.monotonic() - t0 < 0.2
    leave.set()
    worker.join(10)


def test_the_app_runs_under_the_request_deadline() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen["deadline"] = current_deadline()
        seen["environ"] = environ[DEADLINE_KEY], environ[WAITED_KEY]
        start_response("200 OK", [])
        return [b"ok"]

    gate = Admission(app, limit=1, wait=1.0, headers={}, budget=5.0)
    arrived = time.monotonic() - 1.5  # e.g. queued in the server for 1.5 s
    list(gate({"PATH_INFO": "/", ARRIVAL_KEY: arrived}, _start({})))
    assert seen["deadline"] == pytest.approx(arrived + 5.0)
    assert seen["environ"][0] == seen["deadline"] and seen["environ"][1] >= 1.5
    assert current_deadline() is None  # only inside the request


def test_an_engine_search_gets_only_what_is_left_of_the_deadline(search_index: Any) -> None:
    request = SearchRequest(q="pain OR knee", size=50)
    assert search_index.search(request).total_determinations > 0
    with deadline_at(time.monotonic() + 60):
        assert search_index.search(request).total_determinations > 0
    assert search_deadline(5.0) == pytest.approx(time.monotonic() + 5.0, abs=0.5)
    with deadline_at(time.monotonic() - 0.001):  # nothing left: the search stops
        assert search_deadline(5.0) < time.monotonic()
        with pytest.raises(SearchTimeout):
            search_index.search(request)
        with pytest.raises(SearchTimeout):
            search_index.matching_ordinals("CM17-0013077", request)


def _serve_in_thread(app: Any) -> tuple[Any, threading.Thread]:
    from web.server import create_server

    srv = create_server(app, host="127.0.0.1", port=0, threads=32)
    stopping = threading.Event()

    def run() -> None:
        try:
            srv.run()
        except (OSError, ValueError):  # the loop's socket closed under it while stopping
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    srv.stopping = stopping
    return srv, thread


def test_concurrent_heavy_requests_are_answered_by_their_deadline() -> None:
    """24 heavy pages at once, one at work at a time, a 10 s admission wait but a 0.6 s
    request deadline: each is answered (200, or 503 busy) about when its deadline passes,
    none waits its turn past it (without the deadline all 24 would wait their turn and
    answer 200, the last after all 23 others)."""
    deadline = 0.6
    config = {
        "INDEX_PATH": str(web_index_dir()),
        "REFRESH_INTERVAL": 0,
        "MAX_ACTIVE": 1,
        "ADMISSION_WAIT": 10.0,
        "REQUEST_DEADLINE": deadline,
    }
    srv, thread = _serve_in_thread(create_app(config))
    port = srv.effective_port
    paths = ["/search?q=pain&size=1000", "/api/search?q=pain+OR+back&size=1000"]

    def fetch(n: int) -> tuple[int, float, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t0 = time.monotonic()
        conn.request("GET", paths[n % 2])
        response = conn.getresponse()
        body = response.read()
        took = time.monotonic() - t0
        conn.close()
        return response.status, took, dict(response.getheaders()), body

    try:
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(fetch, range(24)))
    finally:
        srv.stopping.set()
        srv.close()
        thread.join(timeout=5)
    statuses = Counter(status for status, *_ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0 and statuses[200] > 0, statuses
    for status, took, headers, body in answers:
        if status == 503:
            assert took < deadline + 1.5, took  # shed at the deadline (slack: a loaded machine)
            assert headers["Retry-After"] == "1" and b"busy" in body
            assert all(headers[k] == v for k, v in SECURITY_HEADERS.items())
        else:
            assert took < deadline + 3.0, took  # its search ended by the deadline; then the page


# --- the server's own error answers --------------------------------------------------------


def _raw(port: int, data: bytes) -> str:
    """Send raw bytes, read the answer until the server closes."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        try:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                out += chunk
        except ConnectionResetError:  # the server answered and closed before reading it all
            pass
    return out.decode("latin-1")


@pytest.mark.parametrize("workers", [1, 2])
def test_the_servers_own_error_answers_carry_the_security_headers(workers: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(web_index_dir())]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = time.monotonic() + 60
        while "200 OK" not in _try(port, b"GET /api/search?q=pain HTTP/1.0\r\n\r\n"):
            assert server.poll() is None and time.monotonic() < ready
            time.sleep(0.2)
        big_headers = b"GET / HTTP/1.1\r\nX-A: " + b"a" * 300_000 + b"\r\n\r\n"
        post = b"POST / HTTP/1.1\r\nHost: x\r\n"
        probes = [
            ("400 Bad Request", b"GARBAGE\r\n\r\n"),  # no request line
            ("431 Request Header Fields Too Large", big_headers),
            ("413 Request Entity Too Large", post + b"Content-Length: 2000000000\r\n\r\n"),
            ("501 Not Implemented", post + b"Transfer-Encoding: gzip\r\n\r\n"),
            ("400 Bad Request", post + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ]
        for status, probe in probes:
            answer = _raw(port, probe)
            head = answer.split("\r\n\r\n", 1)[0].split("\r\n")
            assert head[0].endswith(status), (status, head[0])
            headers = dict(line.split(": ", 1) for line in head[1:])
            for name, value in SECURITY_HEADERS.items():
                assert headers.get(name) == value, (status, name)
            assert headers["Cache-Control"] == "no-store"
        # The app's own answers keep theirs (and waitress did not add a second copy).
        answer = _raw(port, b"GET /api/search?q=pain HTTP/1.0\r\n\r\n")
        head = answer.split("\r\n\r\n", 1)[0]
        assert head.count("Content-Security-Policy:") == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def _try(port: int, data: bytes) -> str:
    """_raw, or "" while the server is not listening yet."""
    try:
        return _raw(port, data)
    except OSError:
        return ""


# --- heavy requests in their own lane ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "heavy"),
    [
        ("/search", "q=pain", False),
        ("/api/search", "q=pain&size=100", False),
        ("/api/search", "q=pain&size=101", True),
        ("/search", "size=1000&page=2", True),
        ("/search.csv", "q=pain", True),
        ("/api/determinations/x/similar", "limit=500", True),
        ("/api/search", "size=abc", False),  # the app answers 400 to it, quickly
        ("/determinations/CM1", "", False),
    ],
)
def test_is_heavy(path: str, query: str, heavy: bool) -> None:
    assert is_heavy({"PATH_INFO": path, "QUERY_STRING": query}) is heavy


def test_heavy_requests_shed_among_themselves_never_taking_light_slots() -> None:
    entered, leave = threading.Event(), threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("QUERY_STRING") == "size=1000":
            entered.set()
            leave.wait(10)
        start_response("200 OK", [])
        return [b"ok"]

    gate = Admission(app, limit=1, wait=5.0, headers={}, heavy_limit=1, heavy_wait=0.1)
    heavy = {"PATH_INFO": "/api/search", "QUERY_STRING": "size=1000"}
    worker = threading.Thread(target=gate, args=(dict(heavy), _start({})))
    worker.start()
    assert entered.wait(10)
    light: Seen = {}
    t0 = time.monotonic()
    assert list(gate({"PATH_INFO": "/api/search", "QUERY_STRING": "q=x"}, _start(light))) == [b"ok"]
    assert light["status"].startswith("200") and time.monotonic() - t0 < 1.0
    second: Seen = {}
    t0 = time.monotonic()
    list(gate(dict(heavy), _start(second)))
    assert second["status"].startswith("503") and time.monotonic() - t0 < 1.0  # heavy_wait
    leave.set()
    worker.join(10)


def test_past_a_full_queue_the_answer_is_503_at_once() -> None:
    """One request at work and one waiting fill a gate of 1 slot and a queue of 1: a third
    is refused at once, not after the 5 s wait; the waiting one still gets its turn."""
    app, entered, leave = _blocking_app(b"ok")

    gate = Admission(app, limit=1, wait=5.0, headers={}, queue=1)
    light = {"PATH_INFO": "/api/search", "QUERY_STRING": "q=x"}
    first: Seen = {}
    second: Seen = {}
    runner = threading.Thread(target=lambda: list(gate(dict(light), _start(first))))
    runner.start()
    assert entered.wait(10)
    waiter = threading.Thread(target=lambda: list(gate(dict(light), _start(second))))
    waiter.start()
    t0 = time.monotonic()
    while gate._waiting < 1 and time.monotonic() - t0 < 5:
        time.sleep(0.005)
    third: Seen = {}
    t0 = time.monotonic()
    list(gate(dict(light), _start(third)))
    assert third["status"].startswith("503") and time.monotonic() - t0 < 1.0
    leave.set()
    runner.join(10)
    waiter.join(10)
    assert first["status"].startswith("200") and second["status"].startswith("200")


def test_a_lock_file_that_cannot_be_opened_still_serves_heavy_requests(tmp_path: Any) -> None:
    """An unusable lock file (here in a folder that is not there) is no 500: the heavy
    request runs under the process's own heavy slot, which still sheds a second one."""
    app, entered, leave = _blocking_app(b"ok")

    lock = str(tmp_path / "missing" / "heavy.lock")
    gate = Admission(app, limit=2, wait=1.0, headers={}, heavy_wait=0.1, heavy_lock=lock)
    heavy = {"PATH_INFO": "/search.csv", "QUERY_STRING": ""}
    first: Seen = {}
    worker = threading.Thread(target=lambda: list(gate(dict(heavy), _start(first))))
    worker.start()
    assert entered.wait(10)
    second: Seen = {}
    list(gate(dict(heavy), _start(second)))
    assert second["status"].startswith("503")
    leave.set()
    worker.join(10)
    assert first["status"].startswith("200")


def test_the_heavy_slot_is_shared_by_every_process_of_a_server(tmp_path: Any) -> None:
    """Two gates on one lock file (two server processes): one heavy request at a time."""
    lock = str(tmp_path / "heavy.lock")
    app, entered, leave = _blocking_app(b"ok")

    def quick(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    first = Admission(app, 1, 5.0, {}, heavy_wait=0.1, heavy_lock=lock)
    other = Admission(quick, 1, 5.0, {}, heavy_wait=0.1, heavy_lock=lock)
    heavy = {"PATH_INFO": "/search.csv", "QUERY_STRING": ""}
    worker = threading.Thread(target=first, args=(dict(heavy), _start({})))
    worker.start()
    assert entered.wait(10)
    seen: Seen = {}
    list(other(dict(heavy), _start(seen)))
    assert seen["status"].startswith("503")
    seen = {}
    list(other({"PATH_INFO": "/search", "QUERY_STRING": ""}, _start(seen)))
    assert seen["status"].startswith("200")  # light requests are not held up
    leave.set()
    worker.join(10)
    seen = {}
    list(other(dict(heavy), _start(seen)))
    assert seen["status"].startswith("200")  # the slot came back


def test_an_export_takes_heavy_turns_page_by_page() -> None:
    """A streamed export holds the heavy slot only while it computes a page: between pages
    another heavy request gets it, and the export still has every row."""
    config = {
        "INDEX_PATH": str(web_index_dir()),
        "REFRESH_INTERVAL": 0,
        "EXPORT_PAGE_SIZE": 5,
        "HEAVY_WAIT": 0.0,
    }
    app = create_app(config)
    client = app.test_client()
    whole = client.get("/search.csv?q=pain").get_data(as_text=True)
    response = client.get("/search.csv?q=pain", buffered=False)
    chunks = iter(response.response)
    got = [next(chunks), next(chunks)]  # the header and the first page's rows
    big = client.get("/api/search?q=pain&size=500")  # between two pages: the slot is free
    assert big.status_code == 200
    got += list(chunks)
    response.close()
    assert b"".join(c if isinstance(c, bytes) else c.encode() for c in got).decode() == whole
    assert whole.count("\r\n") > 10
