"""The index / search / show / similar commands, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.cli import main
from search.cli_engine import COMPACT_HINT_SEGMENTS
from search.fields import ENGINE_MAX_PAGE_SIZE, MAX_PAGE_SIZE


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_index_summary_and_progress(
    tmp_path: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["index", *map(str, sample_paths), "--index", str(tmp_path)], capsys)
    n = len(sample_paths)
    assert code == 0
    assert f": {n} added, 0 updated, 0 unchanged, 0 failed" in out
    assert "letters/s" in err  # a plain progress line: stderr is not a TTY here
    code, out, _ = run(["index", *map(str, sample_paths), "--index", str(tmp_path)], capsys)
    assert code == 0 and f"0 added, 0 updated, {n} unchanged" in out


def test_index_failures_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("")
    code, out, err = run(["index", str(bad), "--index", str(tmp_path / "ix")], capsys)
    assert code == 1 and "1 failed" in out and "bad.txt" in err


def test_search_json(built_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "search",
            "tizanidine",
            "--index",
            str(built_index),
            "--filter",
            "outcome=upheld",
            "--filter",
            "outcome=Overturned",
            "--json",
            "--limit",
            str(MAX_PAGE_SIZE),
        ],
        capsys,
    )
    assert code == 0
    body = json.loads(out)
    for key in (
        "query",
        "total_determinations",
        "total_decisions",
        "facets",
        "suggestion",
        "results",
    ):
        assert key in body
    assert body["query"] == "tizanidine"
    assert body["filters"] == {"outcome": ["upheld", "Overturned"]}
    assert len(body["results"]) == body["total_determinations"] > 0
    hit = body["results"][0]
    assert hit["url"] == f"/determinations/{hit['id']}"
    assert {"ordinal", "request", "outcome", "drug", "highlights"} <= set(hit["decisions"][0])


def test_search_table(built_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["search", "low", "back", "pain", "--index", str(built_index), "--limit", "3"], capsys
    )
    assert code == 0
    assert "determinations" in out and " 1. " in out and "<mark>" not in out


def test_empty_query_means_all(built_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["search", "--index", str(built_index), "--json", "--sort", "newest"], capsys
    )
    assert code == 0 and json.loads(out)["total_determinations"] > 200


@pytest.mark.parametrize(
    "args",
    [
        ["search", "a AND OR b"],
        ["search", "*"],
        ["search", "x", "--filter", "nokey"],
        ["search", "x", "--filter", "colour=red"],
        ["search", "x", "--limit", str(ENGINE_MAX_PAGE_SIZE + 1)],
        ["search", "x", "--page", "0"],
    ],
)
def test_bad_query_exit_2(
    built_index: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*args, "--index", str(built_index)], capsys)
    assert code == 2 and not out
    assert err.startswith("imr-search: ") and err.count("\n") == 1


def test_missing_index_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["search", "x"], ["show", "x"], ["similar", "x"]):
        code, _, err = run([*args, "--index", str(tmp_path / "none")], capsys)
        assert code == 1 and "no index" in err


def test_show(
    built_index: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    letter = sample_paths[2].stem
    code, out, _ = run(["show", letter, "--index", str(built_index), "--json"], capsys)
    assert code == 0 and json.loads(out)["id"] == letter
    code, out, _ = run(["show", letter, "--index", str(built_index)], capsys)
    assert code == 0 and "Norco" in out
    code, _, err = run(["show", "nope", "--index", str(built_index)], capsys)
    assert code == 1 and "nope" in err


def test_similar(
    built_index: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    letter = sample_paths[0].stem
    code, out, _ = run(["similar", letter, "--index", str(built_index), "--json"], capsys)
    assert code == 0
    hits = json.loads(out)
    assert hits and letter not in {h["id"] for h in hits}
    code, out, _ = run(["similar", letter, "--index", str(built_index), "--same-drug"], capsys)
    assert code == 0 and "like" in out
    code, _, err = run(["similar", "nope", "--index", str(built_index)], capsys)
    assert code == 1 and "nope" in err


def test_show_prints_rationales_whole(
    built_index: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from search.engine.searcher import SearchIndex

    with SearchIndex.open(built_index) as index:
        records = [index.get(p.stem) for p in sample_paths]
    longest = max(
        (d for r in records if r for d in r.decisions), key=lambda d: len(d.rationale or "")
    )
    assert len(longest.rationale or "") > 1200  # far past the old 600-character cut
    owner = next(r for r in records if r and longest in r.decisions)
    code, out, _ = run(["show", owner.id, "--index", str(built_index)], capsys)
    assert code == 0
    assert " ".join((longest.rationale or "").split()) in " ".join(out.split())
    assert max(len(line) for line in out.splitlines() if line.startswith("     ")) <= 100


def test_closed_output_pipe_is_not_a_traceback(built_index: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "search.cli", "search", "pain", "--index", str(built_index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` leaving before the first line is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_compact_command(
    tmp_path: Path, sample_paths: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`compact` merges an index of one segment per letter into one; a folder with no index
    is a clear error, exit 1."""
    n = 6  # fewer than the policy's segments per tier: no merge while indexing
    for k, path in enumerate(sample_paths[:n], 1):  # a run per letter: a segment each
        code, out, _ = run(["index", str(path), "--index", str(tmp_path)], capsys)
        hint = f"the index has {k} segments; a search pays for each: `imr-search compact"
        assert code == 0 and (hint in out) == (k >= COMPACT_HINT_SEGMENTS)
    code, out, err = run(["compact", "--index", str(tmp_path)], capsys)
    assert code == 0 and f"compacted {tmp_path}: {n} segments -> 1 in 1 merges" in out
    assert "merge 1 done: 1 segments" in err
    code, out, _ = run(["search", "--index", str(tmp_path), "--json"], capsys)
    assert code == 0 and json.loads(out)["total_determinations"] == n
    code, out, err = run(["compact", "--index", str(tmp_path / "none")], capsys)
    assert code == 1 and not out and "no index at" in err
    from search.index import _run_lock

    with _run_lock(tmp_path):  # an index run holds the index
        code, out, err = run(["compact", "--index", str(tmp_path)], capsys)
    assert code == 1 and not out and "is locked" in err
