"""The power-safe commit: crash states replayed from a traced real commit, fallback to the
newest readable generation, `imr-search check`, and a TOC without pickled classes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.check import check_index
from search.engine import toc as toc_module
from search.engine.searcher import SearchIndex
from search.engine.toc import MAGIC, IndexVersionMismatch, generations, toc_name
from search.index import index_paths, open_index
from search.results import SearchRequest

ROOT = Path(__file__).resolve().parent.parent

Snapshot = dict[str, tuple[int, bytes]]  # name -> (inode, content)


def _snapshot(folder: Path) -> Snapshot:
    out: Snapshot = {}
    for p in folder.iterdir():
        if p.is_file():
            out[p.name] = (p.stat().st_ino, p.read_bytes())
    return out


class Trace:
    """Records the fsyncs, renames and unlinks of a commit, with the folder after each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.start = _snapshot(folder)
        self.events: list[tuple[str, str, Snapshot]] = []
        self.synced: dict[int, tuple[int, bytes]] = {}  # event -> (inode, data) of an fsync

    def note(self, kind: str, name: str, synced: tuple[int, bytes] | None = None) -> None:
        if synced is not None:
            self.synced[len(self.events)] = synced
        self.events.append((kind, name, _snapshot(self.folder)))


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """trace(folder) starts recording the os calls that touch folder."""
    made: list[Trace] = []
    real_fsync, real_replace, real_rename, real_remove = (
        os.fsync,
        os.replace,
        os.rename,
        os.remove,
    )

    def inside(path: str) -> bool:
        return bool(made) and os.path.abspath(path).startswith(str(made[0].folder))

    def fsync(fd: int) -> None:
        real_fsync(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        if inside(path):  # (files of a rebuild's staging folder too: they move in later)
            if os.path.isdir(path):
                made[0].note("fsync-dir" if path == str(made[0].folder) else "fsync-sub", path)
            else:
                with open(path, "rb") as f:
                    made[0].note("fsync", os.path.basename(path), (os.stat(path).st_ino, f.read()))

    def replace(a: str, b: str) -> None:
        real_replace(a, b)
        if inside(b):
            made[0].note("rename", os.path.basename(b))

    def rename(a: str, b: str) -> None:
        real_rename(a, b)
        if inside(b):
            made[0].note("rename", os.path.basename(b))

    def remove(p: str, **kw: Any) -> None:
        real_remove(p, **kw)
        if "dir_fd" not in kw and inside(p):
            made[0].note("unlink", os.path.basename(p))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "remove", remove)
    monkeypatch.setattr(os, "unlink", remove)

    def start(folder: Path) -> Trace:
        made.append(Trace(folder.resolve()))
        return made[0]

    yield start


def _replayed(folder: Path, state: Snapshot) -> Path:
    """A crash state written out as a fresh index folder (what a restart would find)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, (_, data) in state.items():
        (folder / name).write_bytes(data)
    return folder


def _crash_states(t: Trace) -> Iterator[tuple[str, Snapshot]]:
    """Every state a power cut after each traced event can leave: directory changes since
    the last directory fsync kept in part or whole, or lost; data not fsynced dropped or
    truncated (as Lucene's and SQLite's crash tests model a disk)."""
    durable: dict[int, bytes] = {ino: data for ino, data in t.start.values()}
    last_dir_sync = -1  # index of the event after which the namespace was last made durable
    snaps = [t.start] + [e[2] for e in t.events]
    for k, (kind, name, _) in enumerate(t.events):
        if kind == "fsync":
            ino, data = t.synced[k]
            durable[ino] = data
        if kind == "fsync-dir":
            last_dir_sync = k
        latest: dict[int, bytes] = {}
        for s in snaps[: k + 2]:
            for ino, data in s.values():
                latest[ino] = data
        for e, (ino, data) in t.synced.items():
            if e <= k:
                latest.setdefault(ino, data)
        for j in range(last_dir_sync + 1, k + 2):  # namespaces: durable one .. current one
            names = snaps[j]
            for mode in ("dropped", "truncated"):
                state: Snapshot = {}
                for n, (ino, _) in names.items():
                    if ino in durable:
                        data = durable[ino]
                    elif mode == "dropped":
                        data = b""
                    else:
                        data = latest[ino][: len(latest[ino]) // 2]
                    state[n] = (ino, data)
                yield f"after {k}:{kind} {name}, namespace {j}, unsynced {mode}", state


def _ids(folder: Path) -> tuple[str, ...]:
    with SearchIndex.open(folder) as index:
        response = index.search(SearchRequest(size=100))
        return tuple(sorted(h.id for h in response.results))


def _letters(tmp: Path, sample_paths: list[Path], names: range) -> Path:
    folder = tmp / f"letters{names.start}-{names.stop}"
    folder.mkdir()
    for i in names:
        src = sample_paths[i % len(sample_paths)]
        (folder / f"{i}.txt").write_text(src.read_text() + f"\nLetter variant {i}.\n")
    return folder


@pytest.mark.parametrize("rebuild", [False, True])
def test_every_crash_state_opens_as_old_or_new_commit(
    tmp_path: Path, sample_paths: list[Path], trace: Any, rebuild: bool
) -> None:
    """A real commit is traced; each prefix of it, replayed with unsynced data dropped or
    truncated, opens as exactly the old or exactly the new commit."""
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 3))], workers=1)
    old = _ids(index)
    more = _letters(tmp_path, sample_paths, range(3, 6))
    t = trace(index)
    index_paths(index, [more], workers=1, rebuild=rebuild)
    new = _ids(index)
    assert old != new and len(t.events) > 5
    checked = 0
    for label, state in _crash_states(t):
        got = _ids(_replayed(tmp_path / "replay", state))
        assert got in (old, new), label
        checked += 1
    assert checked > 20


def test_commit_order_is_lucenes(tmp_path: Path, sample_paths: list[Path], trace: Any) -> None:
    """Segment files and the temp TOC are fsynced before the directory, the rename comes
    after, then a directory fsync, and only then any deletion."""
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 2))], workers=1)
    t = trace(index)
    index_paths(index, [_letters(tmp_path, sample_paths, range(2, 4))], workers=1)
    kinds = [(k, n) for k, n, _ in t.events]
    rename = next(i for i, (k, n) in enumerate(kinds) if k == "rename" and n.endswith(".toc"))
    temp = kinds[rename][1] + ".tmp"
    assert ("fsync", temp) in kinds[:rename]
    assert kinds[rename - 1][0] == "fsync-dir"
    assert kinds[rename + 1][0] == "fsync-dir"
    old_files = set(t.start)  # (the new segment's part files go once assembled: harmless)
    assert all(not (k == "unlink" and n in old_files) for k, n in kinds[:rename])
    assert any(k == "unlink" for k, _ in kinds[rename:])  # the old TOC, after the switch
    new_segment_files = {n for n in os.listdir(index) if n.endswith(".seg") and n not in old_files}
    assert new_segment_files
    assert new_segment_files <= {n for k, n in kinds[:rename] if k == "fsync"}


def _break_newest(index: Path, content: bytes = b"") -> int:
    """A newer TOC that does not read (as a power cut with a bad disk could leave)."""
    gen = generations(index)[0] + 1
    (index / toc_name(gen)).write_bytes(content)
    return gen


@pytest.mark.parametrize("content", [b"", MAGIC + b'{"generation":', b"\x00" * 100])
def test_unreadable_newest_toc_falls_back_with_a_warning(
    tmp_path: Path, sample_paths: list[Path], caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 3))], workers=1)
    before = _ids(index)
    bad = _break_newest(index, content)
    with caplog.at_level(logging.WARNING):
        assert _ids(index) == before
    assert f"skipping unreadable {toc_name(bad)}" in caplog.text
    # index: the run (holding the lock) removes the unreadable TOC, commits above the old one
    summary = index_paths(index, [_letters(tmp_path, sample_paths, range(3, 4))], workers=1)
    assert summary.added == 1 and generations(index) == [bad]
    assert len(_ids(index)) == 4
    # --rebuild too
    _break_newest(index, content)
    summary = index_paths(
        index, [_letters(tmp_path, sample_paths, range(4, 6))], workers=1, rebuild=True
    )
    assert summary.added == 2 and len(_ids(index)) == 2


def test_cli_and_server_survive_an_unreadable_newest_toc(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 3))], workers=1)
    _break_newest(index)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "search.cli"]
    out = subprocess.run(
        [*run, "search", "", "--index", str(index), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "skipping unreadable" in out.stderr
    from web.app import create_app

    client = create_app({"INDEX_PATH": str(index)}).test_client()
    assert client.get("/api/search").status_code == 200


def test_no_readable_generation_is_a_clear_error(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index.mkdir()
    (index / toc_name(3)).write_bytes(b"")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "search.cli", "search", "x", "--index", str(index)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "cannot be opened" in out.stderr and "--rebuild" in out.stderr


def test_toc_is_json_with_versions_not_pickle(tmp_path: Path, sample_paths: list[Path]) -> None:
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 2))], workers=1)
    data = (index / toc_name(generations(index)[0])).read_bytes()
    assert data.startswith(MAGIC)
    body = json.loads(data[len(MAGIC) :].split(b"\n")[0])
    assert body["schema_version"] >= 1 and body["parser_version"] >= 1
    assert b"search.schema" not in data and b"whoosh" not in data
    # another schema version: a clear message naming the remedy
    body["schema_version"] = 999
    raw = json.dumps(body, separators=(",", ":")).encode()
    import hashlib

    gen = generations(index)[0]
    (index / toc_name(gen)).write_bytes(
        MAGIC + raw + b"\n" + hashlib.sha256(raw).hexdigest().encode() + b"\n"
    )
    with pytest.raises(IndexVersionMismatch, match=r"schema version 999.*--rebuild"):
        open_index(index)


def test_check_verifies_and_repairs(tmp_path: Path, sample_paths: list[Path]) -> None:
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 3))], workers=1)
    report = check_index(index)
    assert report.ok and report.files_verified >= 1
    # leftovers of killed runs
    gen = generations(index)[0]
    (index / (toc_name(gen + 1) + ".tmp")).write_bytes(b"half")
    (index / "MAIN_deadbeef00000000.seg").write_bytes(b"orphan")
    (index / "MAIN.tmp").mkdir()
    (index / "MAIN.tmp" / "x.part").write_bytes(b"p")
    report = check_index(index)
    assert not report.ok and len(report.leftovers) == 3
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "search.cli", "check", "--index", str(index), "--repair"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "removed: MAIN.tmp" in out.stdout and check_index(index).ok
    # a damaged segment file is reported, not "repaired"
    seg = next(index.glob("MAIN_*.seg"))
    raw = bytearray(seg.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    seg.write_bytes(bytes(raw))
    report = check_index(index, repair=True)
    assert not report.ok and report.damage == [
        f"{seg.name}: size or checksum differs from the commit"
    ]


def test_toc_module_has_no_pickle() -> None:
    assert "import pickle" not in Path(toc_module.__file__).read_text()


def test_interrupted_rebuild_leaves_the_old_index_served(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    """A --rebuild that dies after intermediate commits changes nothing that is served; the
    next run removes what it left; a finished one switches in at once."""
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 6))], workers=1)
    before, gen = _ids(index), generations(index)
    new = _letters(tmp_path, sample_paths, range(10, 50))
    calls = []

    def die(done: int, total: int, summary: object) -> None:
        calls.append(done)
        if len(calls) == 2:  # after an intermediate commit of the rebuild (batch_size=1)
            staging = [p for p in index.iterdir() if p.name.startswith(".rebuild-")]
            assert staging and generations(staging[0])[0] >= 1
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index_paths(index, [new], workers=1, rebuild=True, batch_size=1, progress=die)
    assert _ids(index) == before and generations(index) == gen
    assert check_index(index).ok  # (the staging folder went with the failed run)
    summary = index_paths(index, [new], workers=1, rebuild=True, batch_size=2)
    assert summary.added == 40 and len(_ids(index)) == 40 and not set(_ids(index)) & set(before)
    assert check_index(index).ok


def test_leftovers_of_a_killed_run_go_at_the_next_run(
    tmp_path: Path, sample_paths: list[Path]
) -> None:
    index = tmp_path / "ix"
    index_paths(index, [_letters(tmp_path, sample_paths, range(0, 2))], workers=1)
    (index / "MAIN_deadbeef00000000.seg").write_bytes(b"orphan")
    (index / ".rebuild-99999").mkdir()
    (index / (toc_name(generations(index)[0] + 1) + ".tmp")).write_bytes(b"")
    assert not check_index(index).ok
    index_paths(index, [_letters(tmp_path, sample_paths, range(2, 3))], workers=1)
    assert check_index(index).ok
