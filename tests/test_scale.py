"""Bounded-memory indexing: the RAM budget flushes segments, merges stream, the registry of a
run stays exact across commits without reopening the index, and `--ram-budget` parses."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from search.cli_engine import ram_size
from search.engine.searcher import SearchIndex
from search.index import index_paths, open_index
from search.results import SearchRequest

QUERIES = ("pain", "tizanidine", "physical therapy", "lumbar AND NOT mri", "opioid*")


def _answers(folder: Path) -> list[tuple[int, int, dict[str, dict[str, int]], list[str]]]:
    with SearchIndex.open(folder) as index:
        out = []
        for q in QUERIES:
            r = index.search(SearchRequest(q=q, size=50))
            ids = sorted(hit.id for hit in r.results)
            out.append((r.total_determinations, r.total_decisions, r.facets, ids))
        return out


def _segments(folder: Path) -> int:
    ix = open_index(folder)
    return len(ix._segments())


def test_ram_budget_flushes_segments_and_answers_as_one_batch(
    tmp_path: Path, generated_dir: Path
) -> None:
    one = index_paths(tmp_path / "one", [generated_dir], workers=1)
    small = index_paths(tmp_path / "small", [generated_dir], workers=1, ram_budget=1 << 20)
    assert one.added == small.added > 200
    assert _segments(tmp_path / "one") == 1
    # A 1 MiB budget flushes a segment every few letters; merges keep the count bounded.
    assert 1 < _segments(tmp_path / "small") <= 12
    assert _answers(tmp_path / "small") == _answers(tmp_path / "one")


def test_duplicates_and_id_clashes_across_committed_batches(
    tmp_path: Path, generated_dir: Path
) -> None:
    """The run's additions are kept as digests after each commit: still exact."""
    letters = sorted(generated_dir.glob("*.txt"))[:12]
    src = tmp_path / "src"
    src.mkdir()
    for p in letters:
        shutil.copy(p, src / p.name)
    shutil.copy(letters[0], src / "zz-copy-of-first.txt")  # same text, last file
    summary = index_paths(tmp_path / "ix", [src], workers=1, batch_size=2)
    assert (summary.added, summary.unchanged, summary.failed) == (12, 1, 0)
    again = index_paths(tmp_path / "ix", [src], workers=1, batch_size=2)
    assert (again.added, again.unchanged) == (0, 13)
    with SearchIndex.open(tmp_path / "ix") as index:
        assert index.doc_count()[0] == 12


def test_incremental_run_sees_the_old_index_after_its_own_commits(
    tmp_path: Path, generated_dir: Path
) -> None:
    letters = sorted(generated_dir.glob("*.txt"))[:20]
    index_paths(tmp_path / "ix", letters[:10], workers=1)
    # Later batches of this run must still know the first ten (from the searcher opened
    # once at the start), though several commits and merges happen in between.
    summary = index_paths(tmp_path / "ix", [*letters[10:], *letters[:10]], workers=1, batch_size=1)
    assert (summary.added, summary.unchanged) == (10, 10)
    with SearchIndex.open(tmp_path / "ix") as index:
        assert index.doc_count()[0] == 20


@pytest.mark.parametrize(
    ("text", "size"),
    [("1G", 1 << 30), ("512M", 512 << 20), ("2gib", 2 << 30), ("100000000", 100_000_000)],
)
def test_ram_size_parses(text: str, size: int) -> None:
    assert ram_size(text) == size


@pytest.mark.parametrize("text", ["lots", "1T", "10M", ""])
def test_ram_size_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        ram_size(text)


def test_prune_removes_letters_whose_files_are_gone(tmp_path: Path, generated_dir: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    letters = sorted(generated_dir.glob("*.txt"))[:6]
    for p in letters:
        shutil.copy(p, src / p.name)
    ix = tmp_path / "ix"
    index_paths(ix, [src], workers=1)
    (src / letters[0].name).unlink()  # gone
    (src / letters[1].name).rename(src / "moved.txt")  # moved: removed, then added again
    removed: list[str] = []
    kept = index_paths(ix, [src], workers=1)  # without --prune nothing is removed
    assert kept.removed == 0
    summary = index_paths(ix, [src], workers=1, prune=True, on_removed=removed.append)
    assert summary.removed == 2 and len(removed) == 2
    assert any(letters[0].name in m for m in removed)
    assert "2 removed (files gone)" in str(summary)
    with SearchIndex.open(ix) as index:
        assert index.doc_count()[0] == 5
    again = index_paths(ix, [src], workers=1, prune=True)
    assert (again.removed, again.added, again.unchanged) == (0, 0, 5)


def test_cli_prune_reports_each_removed_letter(
    tmp_path: Path, generated_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from search.cli import main

    src = tmp_path / "src"
    src.mkdir()
    letters = sorted(generated_dir.glob("*.txt"))[:3]
    for p in letters:
        shutil.copy(p, src / p.name)
    ix = tmp_path / "ix"
    assert main(["index", str(src), "--index", str(ix), "--workers", "1"]) == 0
    (src / letters[2].name).unlink()
    capsys.readouterr()
    assert main(["index", str(src), "--index", str(ix), "--prune", "--ram-budget", "256M"]) == 0
    captured = capsys.readouterr()
    assert f"{letters[2].name}: file gone; removed" in captured.err
    assert "1 removed (files gone)" in captured.out
