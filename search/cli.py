"""The `imr-search` command line: parse, index, search, show, similar, serve, demo."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Final

# Each command module exposes add_arguments(subparsers) registering its subcommands, with
# the handler set as `func` (args -> exit code). Modules are imported lazily per command so
# that `imr-search parse` never pays for Whoosh or Flask imports.
COMMAND_MODULES: dict[str, str] = {
    "parse": "search.cli",
    "index": "search.cli_engine",
    "search": "search.cli_engine",
    "show": "search.cli_engine",
    "similar": "search.cli_engine",
    "check": "search.check",
    "serve": "web.cli_serve",
    "demo": "web.cli_serve",
}

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command killed by it


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `parse`."""
    p = sub.add_parser("parse", help="parse letters (.txt/.pdf files or folders) to JSON")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument("--jsonl", action="store_true", help="one compact JSON object per line")
    p.set_defaults(func=run_parse)


def run_parse(args: argparse.Namespace) -> int:
    """Print one JSON object per letter; one stderr line per file that failed."""
    from .parse.limit import parse_limited
    from .parse.load import LoadError, load_all

    failed = 0
    ids: dict[str, str] = {}  # id -> sha256 of the letter printed under it
    shas: dict[str, str] = {}  # sha256 -> id
    for item in load_all(args.paths):
        if isinstance(item, LoadError):
            failed += 1
            print(f"imr-search: {item}", file=sys.stderr)
            continue
        if item.sha256 in shas:  # the same letter twice is one record
            print(
                f"imr-search: {item.source}: same content as {shas[item.sha256]}", file=sys.stderr
            )
            continue
        try:
            record = parse_limited(item)
        except LoadError as exc:
            failed += 1
            print(f"imr-search: {exc}", file=sys.stderr)
            continue
        if record.id in ids:  # another letter holds the id: `<id>-<sha256[:8]>`, deterministic
            record = dataclasses.replace(record, id=f"{record.id}-{record.sha256[:8]}")
        ids[record.id] = shas[record.sha256] = record.id
        indent = None if args.jsonl else 2
        print(json.dumps(record.to_dict(), indent=indent, ensure_ascii=False))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The argument parser, with the subcommands of `command`'s module (all when None)."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="imr-search",
        description="Search California workers' comp IMR final determination letters.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = (
        {COMMAND_MODULES[command]} if command in COMMAND_MODULES else set(COMMAND_MODULES.values())
    )
    for name in sorted(modules):
        register: Callable[..., None] = importlib.import_module(name).add_arguments
        register(sub)
    return parser


# Arguments that are text, not paths: a lone surrogate in them (an undecodable byte of the
# command line, kept by Python as U+DC80-U+DCFF) becomes U+FFFD, as the engine would make of
# it anyway, rather than a UnicodeEncodeError when it is printed or hashed. Paths keep them:
# they name real files.
_TEXT_ARGUMENTS: Final = ("query", "id", "filter", "filters")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _clean_text_arguments(args: argparse.Namespace) -> None:
    for name in _TEXT_ARGUMENTS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, _SURROGATE.sub("\ufffd", value))
        elif isinstance(value, list):
            setattr(
                args,
                name,
                [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in value],
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser = build_parser(command)
    except ImportError as exc:  # a command module that is missing its dependency
        print(f"imr-search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    _clean_text_arguments(args)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:  # `imr-search search x | head`: the reader left, that is fine
        # Point stdout at devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
