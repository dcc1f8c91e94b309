"""Background merges: a child process merges while the writer adds, deletes and commits;
the index is the same as one built in a single batch, deletions made during a merge hold."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_commit import _crash_states, _ids, _replayed, trace  # noqa: F401 (trace: a fixture)
from test_index import _contents

from search import index_pool
from search.check import check_index
from search.engine import mergepolicy
from search.engine.background import MergeScheduler, renumbered_deletions
from search.engine.searcher import SearchIndex
from search.engine.toc import STAGING_PREFIX, DurableIndex
from search.index import _Batch, index_paths, open_index
from search.results import SearchRequest
from search.schema import F_LID


@pytest.fixture
def small_tiers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy scaled to a few hundred documents: tiers of 3 segments of ~20 docs."""
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 3)
    monkeypatch.setattr(mergepolicy, "FLOOR_DOCS", 20)
    monkeypatch.setattr(mergepolicy, "MAX_MERGED_DOCS", 400)


def _segments(folder: Path) -> list[tuple[str, int, int]]:
    ix = open_index(folder)
    try:
        return [(s.segid, s.doc_count_all(), s.doc_count()) for s in ix.toc().segments]
    finally:
        ix.close()


def test_background_merges_build_the_same_index(
    tmp_path: Path, generated_dir: Path, small_tiers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 commits of 6 letters with merges in a child process: every posting, stored field
    and column equals a one-batch build's; merges were published and their CPU counted; no
    staging folder stays; the files check out."""
    started: list[int] = []
    real_start = MergeScheduler.start

    def start(self: MergeScheduler, segments: list[object]) -> bool:
        ok = real_start(self, segments)
        started.append(int(ok))
        return ok

    monkeypatch.setattr(MergeScheduler, "start", start)
    monkeypatch.setattr(index_pool, "CHUNK", 6)  # a commit every chunk of 6 letters
    paths = sorted(generated_dir.glob("*.txt"))
    index_paths(tmp_path / "one", paths, workers=1)
    summary = index_paths(tmp_path / "many", paths, workers=1, batch_size=6)
    assert summary.added == len(paths)
    assert sum(started) >= 3  # merges ran in the background
    assert summary.merge_cpu > 0  # and reported their CPU (bench_index splits it out)
    assert len(_segments(tmp_path / "many")) < len(paths) // 6 // 2
    assert _contents(tmp_path / "one") == _contents(tmp_path / "many")
    assert not [n for n in os.listdir(tmp_path / "many") if n.startswith(STAGING_PREFIX)]
    report = check_index(tmp_path / "many")
    assert not report.damage and report.files_verified > 0


def _six_segments(folder: Path, paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Six segments of ten letters, no merge yet (then the policy merges in twos)."""
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 100)
    for k in range(0, 60, 10):
        index_paths(folder, paths[k : k + 10], workers=1, batch_size=1000)
    assert len(_segments(folder)) == 6
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 2)


def test_deletions_during_a_merge_are_kept(
    tmp_path: Path, generated_dir: Path, small_tiers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Letters deleted while their segments are being merged stay deleted once the merged
    segment is published, and every other letter is found once."""
    folder = tmp_path / "ix"
    _six_segments(folder, sorted(generated_dir.glob("*.txt"))[:60], monkeypatch)
    before = _segments(folder)
    batch = _Batch(DurableIndex(folder), 64, clear=False)
    assert batch.merges is not None and batch.merges.start(batch.ix.toc().segments)
    merging = set(batch.merges._sources)
    with SearchIndex.open(folder) as idx:
        every = idx.search(SearchRequest(size=1000))
        ids = sorted(h.id for h in every.results)
    gone = ids[::7]
    for lid in gone:  # while the child merges
        batch.writer.delete_by_term(F_LID, lid)
    batch.writer.commit(mergetype=lambda w, segs: batch.merges.publish(w, segs, wait=True))
    batch.merges.close()
    batch.registry.close()
    after = _segments(folder)
    assert not merging & {segid for segid, _, _ in after}  # the sources went
    assert len(after) == len(before) - len(merging) + 1
    with SearchIndex.open(folder) as idx:
        left = sorted(h.id for h in idx.search(SearchRequest(size=1000)).results)
    assert left == sorted(set(ids) - set(gone))
    assert not check_index(folder).damage


def test_renumbered_deletions() -> None:
    """Deletions since a merge started, in the merged numbering (live documents in order)."""

    class Seg:
        def __init__(self, segid: str, n: int, deleted: set[int]) -> None:
            self.segid, self.n, self.deleted = segid, n, deleted

        def doc_count_all(self) -> int:
            return self.n

        def deleted_count(self) -> int:
            return len(self.deleted)

        def deleted_docs(self) -> set[int]:
            return self.deleted

    a = Seg("a", 5, {1, 3})  # 1 deleted before the merge; 3 during it
    b = Seg("b", 4, {0, 2})  # 0 during, 2 before
    got = renumbered_deletions([a, b], {"a": frozenset({1}), "b": frozenset({2})})
    # merged numbering: a0 a2 a3 a4 -> 0 1 2 3, b0 b1 b3 -> 4 5 6
    assert got == {2, 4}


def test_a_cancelled_run_drops_its_merge(
    tmp_path: Path, generated_dir: Path, small_tiers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails mid-way ends its merge child and leaves no staging folder; the
    index is its last commit."""
    folder = tmp_path / "ix"
    _six_segments(folder, sorted(generated_dir.glob("*.txt"))[:60], monkeypatch)
    before = _segments(folder)
    batch = _Batch(DurableIndex(folder), 64, clear=False)
    assert batch.merges is not None and batch.merges.start(batch.ix.toc().segments)
    batch.cancel()
    assert _segments(folder) == before
    assert not [n for n in os.listdir(folder) if n.startswith(STAGING_PREFIX)]
    shutil.rmtree(folder)


class _InlinePool:
    """A pool that runs the merge in this process (so a test traces its fsyncs)."""

    def apply_async(self, fn: Any, args: tuple[Any, ...]) -> Any:
        result = fn(*args)

        class Done:
            def ready(self) -> bool:
                return True

            def get(self) -> Any:
                return result

        return Done()

    def close(self) -> None: ...

    def terminate(self) -> None: ...

    def join(self) -> None: ...


def test_every_crash_state_of_a_published_merge_opens_as_old_or_new(
    tmp_path: Path,
    generated_dir: Path,
    small_tiers: None,
    monkeypatch: pytest.MonkeyPatch,
    trace: Any,  # noqa: F811 (test_commit's fixture)
) -> None:
    """A merge written (its files fsynced in the staging folder) and published by a commit
    that also deletes letters: each prefix of the traced file operations, replayed with
    unsynced data dropped or truncated, opens as exactly the old or the new commit."""
    folder = tmp_path / "ix"
    _six_segments(folder, sorted(generated_dir.glob("*.txt"))[:60], monkeypatch)
    old = _ids(folder)
    t = trace(folder)
    batch = _Batch(DurableIndex(folder), 64, clear=False)
    assert batch.merges is not None
    batch.merges._pool = _InlinePool()
    assert batch.merges.start(batch.ix.toc().segments)
    for lid in old[::9]:
        batch.writer.delete_by_term(F_LID, lid)
    batch.writer.commit(mergetype=lambda w, segs: batch.merges.publish(w, segs, wait=True))
    batch.merges.close()
    batch.registry.close()
    new = _ids(folder)
    assert new == tuple(i for i in old if i not in old[::9])
    assert any(kind == "rename" and name.endswith(".seg") for kind, name, _ in t.events)
    checked = 0
    for label, state in _crash_states(t):
        assert _ids(_replayed(tmp_path / "replay", state)) in (old, new), label
        checked += 1
    assert checked > 20


def _answers(folder: Path) -> list[object]:
    """Totals, facet counts and the matching letters of a few searches (ranked order aside:
    equal scores may tie differently once documents are renumbered)."""
    out: list[object] = []
    with SearchIndex.open(folder) as idx:
        for q in ("", "pain", "tizanidine OR baclofen", '"low back"', "upheld -lumbar"):
            r = idx.search(SearchRequest(q=q, size=1000))
            ids = sorted((h.id, h.decisions) for h in r.results)
            out.append((q, r.total_determinations, r.total_decisions, r.facets, ids))
    return out


def test_compact_merges_down_to_the_cap_and_answers_the_same(
    tmp_path: Path, generated_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index of many small segments (some letters deleted) compacts, one bounded merge
    at a time, until no two segments fit in one merge: the postings, records and columns
    of a fresh build of the live letters, the same answers, the files checked, no staging
    folder left; a second run has nothing to do; a server opened before picks it up."""
    from search.index import compact_index

    folder = tmp_path / "ix"
    paths = sorted(generated_dir.glob("*.txt"))[:90]
    monkeypatch.setattr(mergepolicy, "MERGE_FACTOR", 100)  # no merge while indexing
    monkeypatch.setattr(index_pool, "CHUNK", 6)
    index_paths(folder, paths, workers=1, batch_size=6)
    (tmp_path / "gone").mkdir()
    for path in paths[::9]:  # deleted documents, which compaction must not bring back
        shutil.move(path, tmp_path / "gone" / path.name)
    try:
        kept = [p for p in paths if p.exists()]
        assert index_paths(folder, kept, workers=1, prune=True).removed == len(paths[::9])
        index_paths(tmp_path / "one", kept, workers=1)  # what the live documents make
    finally:
        for moved in (tmp_path / "gone").iterdir():
            shutil.move(moved, generated_dir / moved.name)
    before = _segments(folder)
    assert len(before) >= 15 and any(total > live for _, total, live in before)
    live = sum(n for _, _, n in before)
    monkeypatch.setattr(mergepolicy, "MAX_MERGED_DOCS", live // 3 + 5)
    answers = _answers(folder)
    server = SearchIndex.open(folder)
    seen: list[tuple[int, int]] = []

    summary = compact_index(folder, on_merge=lambda done, now: seen.append((done, now)))

    after = _segments(folder)
    sizes = sorted(n for _, _, n in after)
    assert summary.before == len(before) and summary.after == len(after) == seen[-1][1]
    assert not summary.failed and summary.merges == len(seen) >= 2
    assert 3 <= len(after) <= 5 and sizes[0] + sizes[1] > mergepolicy.MAX_MERGED_DOCS
    assert all(total == n for _, total, n in after) and sum(sizes) == live
    assert _contents(folder) == _contents(tmp_path / "one") and _answers(folder) == answers
    assert not [n for n in os.listdir(folder) if n.startswith(STAGING_PREFIX)]
    report = check_index(folder)
    assert not report.damage and report.files_verified > 0
    assert (
        server.refresh()
        and server.search(SearchRequest(size=1)).total_determinations
        == (
            answers[0][1]  # type: ignore[index]
        )
    )
    server.close()
    again = compact_index(folder)
    assert (again.before, again.after, again.merges) == (len(after), len(after), 0)
