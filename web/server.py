"""waitress, with our channel: the server's own error answers (400, 413, 431, 500) carry the
security headers, and each request's arrival time reaches the app (for its deadline)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask, WSGITask

from .admission import ARRIVAL_KEY
from .app import SECURITY_HEADERS

ERROR_HEADERS: Final = (*SECURITY_HEADERS.items(), ("Cache-Control", "no-store"))


class _Parser(HTTPRequestParser):  # type: ignore[misc]
    """Notes when the request was read whole: its arrival, where its deadline starts."""

    arrived = 0.0

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        if self.completed and not self.arrived:
            self.arrived = time.monotonic()
        return consumed


class _ErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's own error answer (bad request line, headers or body too large), with the
    security headers every answer of ours carries."""

    def execute(self) -> None:
        self.response_headers.extend(ERROR_HEADERS)
        super().execute()


class _WSGITask(WSGITask):  # type: ignore[misc]
    """A request for the app, its environ carrying the arrival time."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ.setdefault(ARRIVAL_KEY, getattr(self.request, "arrived", 0.0) or time.monotonic())
        return environ


class Channel(HTTPChannel):  # type: ignore[misc]
    """waitress's HTTP channel with the parser and tasks above."""

    parser_class = _Parser
    task_class = _WSGITask
    error_task_class = _ErrorTask


def create_server(app: Any, accept_if: Callable[[int], bool] | None = None, **kw: Any) -> Any:
    """waitress.create_server, every listening socket using Channel; with accept_if, a
    listener accepts only while accept_if(this process's open connections) is true."""
    server = waitress.create_server(app, **kw)
    listeners = server.map.values() if hasattr(server, "effective_listen") else [server]
    for listener in list(listeners):
        if hasattr(listener, "channel_class"):
            listener.channel_class = Channel
            if accept_if is not None:
                listener.readable = _balanced(listener, accept_if)
    return server


def _balanced(listener: Any, accept_if: Callable[[int], bool]) -> Callable[[], bool]:
    """The listener's readable(), which its event loop asks before each wait: false (do not
    accept now) also when another worker should take the next connection."""
    waitress_readable = listener.readable

    def readable() -> bool:
        ready = bool(waitress_readable())  # first: its upkeep and the connection limit
        connections = sum(isinstance(d, HTTPChannel) for d in list(listener._map.values()))
        return accept_if(connections) and ready

    return readable


def serve(app: Any, **kw: Any) -> None:
    """waitress.serve (its options), on create_server above."""
    waitress.serve(app, _server=create_server, **kw)
