"""waitress, with our channel: the server's own error answers (400, 413, 431, 500) carry the
security headers, and each request's arrival time reaches the app (for its deadline)."""

from __future__ import annotations

import time
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


def create_server(app: Any, **kw: Any) -> Any:
    """waitress.create_server, every listening socket using Channel."""
    server = waitress.create_server(app, **kw)
    listeners = server.map.values() if hasattr(server, "effective_listen") else [server]
    for listener in listeners:
        if hasattr(listener, "channel_class"):
            listener.channel_class = Channel
    return server


def serve(app: Any, **kw: Any) -> None:
    """waitress.serve (its options), on create_server above."""
    waitress.serve(app, _server=create_server, **kw)
