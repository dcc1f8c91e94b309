"""`imr-search serve` and `imr-search demo`: the web app on waitress (or Flask's debug server)."""

from __future__ import annotations

import argparse
import gc
import importlib.resources
import os
import sys
import tempfile
from pathlib import Path
from typing import Final

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8000
DEFAULT_INDEX: Final = "index"  # the same default as `imr-search index`
DEFAULT_DEMO_LETTERS: Final = 1000
MAX_DEMO_LETTERS: Final = 1_000_000
EXIT_USAGE: Final = 2


def _server_arguments(p: argparse.ArgumentParser) -> None:
    """--host, --port, --threads, --debug."""
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes sharing the index files (default: the number of cores)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=16,
        help="waitress threads per process (16; at most 4 work at once, the rest wait briefly)",
    )
    p.add_argument("--debug", action="store_true", help="Flask's debug server with reloading")


def _letter_count(raw: str) -> int:
    """A --letters value: a whole number from 1 to MAX_DEMO_LETTERS."""
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_DEMO_LETTERS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_DEMO_LETTERS:,}")
    return n


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `serve` and `demo`."""
    p = sub.add_parser(
        "serve",
        help="run the search web site",
        description="Serve the search web site. Without --index it serves ./index when that "
        "holds an index, else the bundled sample letters (indexed into a temporary folder).",
    )
    p.add_argument(
        "--index",
        default=None,
        metavar="DIR",
        help=f"index folder; it must hold an index (default ./{DEFAULT_INDEX} or the samples)",
    )
    _server_arguments(p)
    p.set_defaults(func=run_serve)
    d = sub.add_parser(
        "demo",
        help="serve generated letters, for volume",
        description="Generate realistic letters into a temporary index and serve it "
        "(removed when the server stops).",
    )
    d.add_argument(
        "--letters",
        type=_letter_count,
        default=DEFAULT_DEMO_LETTERS,
        metavar="N",
        help=f"how many letters to generate ({DEFAULT_DEMO_LETTERS})",
    )
    d.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    _server_arguments(d)
    d.set_defaults(func=run_demo)


def index_exists(path: str | Path) -> bool:
    """True when the engine can open an index at `path`."""
    from search.engine.searcher import SearchIndex

    try:
        SearchIndex.open(str(path)).close()
    except Exception:  # whatever the engine raises for a missing or unreadable index
        return False
    return True


def build_sample_index(path: str | Path) -> int:
    """Index the bundled sample letters into `path`; the number of letters indexed."""
    from search.index import index_paths

    samples = importlib.resources.files("search.samples")
    Path(path).mkdir(parents=True, exist_ok=True)
    with importlib.resources.as_file(samples) as folder:
        summary = index_paths(path, [str(folder)], workers=1)
    return summary.added


def build_demo_index(folder: Path, letters: int, seed: int) -> int:
    """Generate `letters` letters under folder/letters and index them into folder/index."""
    from search.generate import write_corpus
    from search.index import index_paths

    write_corpus(folder / "letters", letters, seed)
    summary = index_paths(folder / "index", [str(folder / "letters")])
    return summary.added


def default_workers() -> int:
    """Server processes when --workers is not given: one per core."""
    return os.cpu_count() or 1


def serve(path: str | Path, args: argparse.Namespace) -> int:
    """Serve the index at `path` until interrupted."""
    from search.engine.hits import warm_vocabularies

    from .app import create_app
    from .malloc import limit_arenas

    # Before any thread or worker starts: the threads of a process share two malloc arenas
    # (each thread's own arena kept what its searches freed: worker heap 2.3 -> 1.2 GB).
    limit_arenas()
    # Before forking: every worker inherits the query vocabularies instead of building its own
    # on its first query (shared copy-on-write pages, no cold 0.1 s per worker).
    warm_vocabularies()
    # What is loaded by now (libraries, vocabularies) is frozen out of every later garbage
    # collection: a full collection after 600 searches took 71 ms unfrozen, 45 ms frozen;
    # and a forked worker does not write to those shared pages when it collects.
    gc.freeze()
    path = str(path)
    workers = getattr(args, "workers", None) or default_workers()
    # Each process searches on its share of the cores: one process uses them all for one
    # search's segments, one process per core uses one thread (more would only contend).
    config = {"INDEX_PATH": path, "SEARCH_THREADS": max(1, default_workers() // workers)}
    url = f"http://{args.host}:{args.port}/"
    if args.debug or workers <= 1:
        app = create_app(config)
        print(f"imr-search: serving on {url} (Ctrl+C to stop)", file=sys.stderr)
        if args.debug:
            app.run(host=args.host, port=args.port, debug=True, use_reloader=False)
            return 0
        from .server import serve as serve_waitress

        serve_waitress(
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
        f"imr-search: serving on {url} with {workers} processes (Ctrl+C to stop)", file=sys.stderr
    )
    return serve_prefork(lambda: create_app(config), sock, workers=workers, threads=args.threads)


def run_serve(args: argparse.Namespace) -> int:
    """Serve --index (it must hold an index), else ./index, else the samples; 2 on errors."""
    if args.index is not None:
        if not index_exists(args.index):
            print(
                f"imr-search: no index at {args.index} (build one with "
                f"`imr-search index LETTERS/ --index {args.index}`, or leave out --index "
                "to serve the sample letters)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return serve(args.index, args)
    if index_exists(DEFAULT_INDEX):
        print(f"imr-search: serving the index in ./{DEFAULT_INDEX}", file=sys.stderr)
        return serve(DEFAULT_INDEX, args)
    with tempfile.TemporaryDirectory(prefix="imr-search-samples-") as tmp:
        try:
            count = build_sample_index(tmp)
        except Exception as exc:  # report any build failure plainly instead of a traceback
            print(f"imr-search: cannot index the sample letters: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"imr-search: no index in ./{DEFAULT_INDEX}; serving the {count} bundled sample "
            "letters (index your own with `imr-search index LETTERS/`)",
            file=sys.stderr,
        )
        return serve(tmp, args)


def run_demo(args: argparse.Namespace) -> int:
    """Generate, index and serve `--letters` letters from a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="imr-search-demo-") as tmp:
        print(f"imr-search: generating and indexing {args.letters:,} letters…", file=sys.stderr)
        count = build_demo_index(Path(tmp), args.letters, args.seed)
        print(f"imr-search: {count:,} generated letters indexed", file=sys.stderr)
        return serve(Path(tmp) / "index", args)
