"""The issue's smaller items: surrogates on the command line, full-width formula signs in
CSV cells, a FIFO named *.txt, UTF-16 without a byte-order mark."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from search.index import index_paths
from search.parse.load import decode_text, iter_files, load_file, looks_binary
from web.export import csv_safe

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("cell", ["\uff1dHYPERLINK(1)", "\uff0b1", "\uff0d1", "\uff20SUM(1)"])
def test_full_width_formula_signs_are_neutralised(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell


def test_fifo_named_txt_is_reported_and_never_blocks(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "a.txt").write_bytes(sample_paths[0].read_bytes())
    os.mkfifo(folder / "pipe.txt")
    found: list[object] = []
    walker = threading.Thread(target=lambda: found.extend(iter_files([folder])), daemon=True)
    walker.start()
    walker.join(10)
    assert not walker.is_alive()
    errors = [str(f) for f in found if not isinstance(f, Path)]
    assert errors == [f"{folder / 'pipe.txt'}: not a regular file"]
    summary = index_paths(tmp_path / "ix", [folder], workers=1)
    assert summary.added == 1 and summary.failed == 1


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text(tmp_path: Path, sample_paths: list[Path], encoding: str) -> None:
    text = sample_paths[0].read_text(encoding="utf-8")
    data = text.encode(encoding)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert not looks_binary(data)
    assert decode_text(data).split() == text.split()
    path = tmp_path / "wide.txt"
    path.write_bytes(data)
    assert load_file(path).text.split() == text.split()


def test_real_binary_is_still_binary() -> None:
    assert looks_binary(bytes(range(256)) * 40)


def test_lone_surrogates_on_the_command_line(built_index: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["search", "tizanidine \udcff"], ["show", "CM\udcff"], ["similar", "\udcff"]):
        argv = [os.fsencode(a) for a in [sys.executable, "-m", "search.cli", *args]]
        out = subprocess.run(
            [*argv, b"--index", os.fsencode(built_index)],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert b"Traceback" not in out.stderr, (args, out.stderr[-400:])
        assert out.returncode in (0, 1), (args, out.stderr[-400:])
