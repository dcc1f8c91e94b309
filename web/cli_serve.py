"""`imr-search serve`: run the web app on waitress (or Flask's debug server)."""

from __future__ import annotations

import argparse
import importlib.resources
import os
import sys
from pathlib import Path
from typing import Final

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8000
DEFAULT_INDEX: Final = "index"  # the same default as `imr-search index`


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve`."""
    p = sub.add_parser(
        "serve",
        help="run the search web site",
        description="Serve the search web site. With no index yet, one is built from the "
        "bundled sample letters first.",
    )
    p.add_argument(
        "--index",
        default=DEFAULT_INDEX,
        metavar="DIR",
        help=f"index folder (default ./{DEFAULT_INDEX})",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes sharing the index files (default: the number of cores)",
    )
    p.add_argument("--threads", type=int, default=8, help="waitress threads per process (8)")
    p.add_argument("--debug", action="store_true", help="Flask's debug server with reloading")
    p.set_defaults(func=run_serve)


def index_exists(path: str) -> bool:
    """True when the engine can open an index at `path`."""
    from search.engine.searcher import SearchIndex

    try:
        SearchIndex.open(path)
    except Exception:  # whatever the engine raises for a missing or unreadable index
        return False
    return True


def build_sample_index(path: str) -> None:
    """Index the bundled sample letters into `path`."""
    from search.index import index_paths

    samples = importlib.resources.files("search.samples")
    Path(path).mkdir(parents=True, exist_ok=True)
    with importlib.resources.as_file(samples) as folder:
        index_paths(path, [str(folder)])


def ensure_index(path: str) -> bool:
    """Build the sample index when there is none at `path`; True when one was built."""
    if index_exists(path):
        return False
    build_sample_index(path)
    return True


def run_serve(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit code 0 (2 when the index cannot be built)."""
    from .app import create_app

    path = args.index
    try:
        if ensure_index(path):
            print(
                f"imr-search: no index at {path}; built one from the sample letters",
                file=sys.stderr,
            )
    except Exception as exc:  # report any build failure plainly instead of a traceback
        print(f"imr-search: cannot build an index at {path}: {exc}", file=sys.stderr)
        return 2
    workers = args.workers or os.cpu_count() or 1
    url = f"http://{args.host}:{args.port}/"
    if args.debug or workers <= 1:
        app = create_app({"INDEX_PATH": path})
        print(f"imr-search: serving {path} on {url} (Ctrl+C to stop)", file=sys.stderr)
        if args.debug:
            app.run(host=args.host, port=args.port, debug=True)
            return 0
        import waitress

        waitress.serve(
            app, host=args.host, port=args.port, threads=args.threads, ident="imr-search"
        )
        return 0
    from .prefork import listen, serve_prefork

    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(f"imr-search: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(
        f"imr-search: serving {path} on {url} with {workers} processes (Ctrl+C to stop)",
        file=sys.stderr,
    )
    return serve_prefork(
        lambda: create_app({"INDEX_PATH": path}), sock, workers=workers, threads=args.threads
    )
