"""Kill loop: SIGKILL `imr-search index` (incremental, --prune, --rebuild) at random moments.

    python -m benchmarks.chaos_kill [--kills 1000] [--letters 300] [--seed 1] [--dir DIR]

A folder of generated letters changes before every run (letters added, edited, removed),
then the real `imr-search index` runs on it in its own process group, with small batches so
that it commits several times, and the whole group is killed with SIGKILL after a random
delay (uniform within the length of a whole run of its kind, timed by letting every
20th run finish; a killed run may also have finished first). After each run:

- the index opens and `check` finds no damage (leftovers of the kill are counted, and
  removed by `check --repair` on every other kill, by the next run on the others);
- the writers' lock is free;
- no letter is indexed twice, none of the last committed state is missing (except letters
  removed from the folder under --prune), no letter is there that the folder never held,
  and each letter is at its committed version or at its new one;
- a killed --rebuild leaves the previous index exactly: same letters, same versions;
- a run that finished holds exactly the folder's letters at their new versions.

Iterations are cheap (a few hundred letters) so that 1,000 kills fit in an hour or two.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from search.check import check_index
from search.engine.searcher import SearchIndex
from search.fields import ENGINE_MAX_PAGE_SIZE
from search.index import IndexLocked, _run_lock, index_paths
from search.results import SearchRequest

POOL_FACTOR: Final = 2  # generated letters per letter in the folder (room to add)
BATCH: Final = 40  # letters per commit, so a run commits several times
CALIBRATE: Final = 20  # every 20th run of a kind is let finish, to time a whole run
REQUEST_END: Final = 600.0  # how long a run that is let finish may take


@dataclass
class Tally:
    """What the loop saw."""

    kills: int = 0
    finished: int = 0
    rebuild_kills: int = 0
    prune_kills: int = 0
    leftovers: int = 0
    partial: int = 0  # kills after which the index held some of the run's changes
    failures: list[str] = field(default_factory=list)


def indexed(folder: Path) -> dict[str, str]:
    """File stem -> sha256 of each letter the index serves; raises on a duplicate."""
    idx = SearchIndex.open(folder)
    try:
        total, _ = idx.doc_count()
        ids: list[str] = []
        page = 1
        while len(ids) < total:
            got = idx.search(SearchRequest(size=ENGINE_MAX_PAGE_SIZE, page=page))
            if not got.results:
                break
            ids += [h.id for h in got.results]
            page += 1
        dupes = [i for i, n in Counter(ids).items() if n > 1]
        if dupes:
            raise AssertionError(f"duplicate letters: {dupes[:5]}")
        if len(ids) != total:
            raise AssertionError(f"{len(ids)} letters listed, {total} counted")
        out = {}
        for i in ids:
            rec = idx.get(i)
            if rec is None:
                raise AssertionError(f"{i} listed but not found")
            stem = Path(rec.source).stem
            if stem in out:
                raise AssertionError(f"file {stem} indexed twice")
            out[stem] = rec.sha256
        return out
    finally:
        idx.close()


def lock_is_free(folder: Path, pgid: int) -> bool:
    """True when the writers' lock can be taken (after every process of the run is gone)."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.01)
    try:
        with _run_lock(folder):
            return True
    except IndexLocked:
        return False


def sha_of(path: Path) -> str:
    """What the indexer records for a file: sha256 of its bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Corpus:
    """The letter folder, changed a little before every run."""

    def __init__(self, root: Path, letters: int, rng: random.Random) -> None:
        from search.generate import write_corpus

        self.rng = rng
        self.pool = root / "pool"
        self.folder = root / "letters"
        self.folder.mkdir(parents=True)
        paths = write_corpus(self.pool, letters * POOL_FACTOR, seed=rng.randrange(1 << 30))
        self.spare = [p.name for p in paths[letters:]]
        for p in paths[:letters]:
            shutil.copy(p, self.folder / p.name)
        self.edits = 0

    def files(self) -> dict[str, str]:
        """File stem -> sha256 of each letter file in the folder."""
        return {p.stem: sha_of(p) for p in self.folder.glob("*.txt")}

    def change(self) -> set[str]:
        """Add, edit and remove a few letters; the stems removed."""
        rng = self.rng
        for _ in range(rng.randrange(0, 25)):
            if self.spare:
                name = self.spare.pop(rng.randrange(len(self.spare)))
                shutil.copy(self.pool / name, self.folder / name)
        present = sorted(self.folder.glob("*.txt"))
        for p in rng.sample(present, min(len(present), rng.randrange(0, 6))):
            self.edits += 1
            with p.open("a", encoding="utf-8") as f:
                f.write(f"\nRevision note {self.edits}: the file was amended.\n")
        removed = set()
        for p in rng.sample(present, min(len(present) // 10, rng.randrange(0, 12))):
            if p.exists():
                removed.add(p.stem)
                self.spare.append(p.name)
                p.unlink()
        return removed


def verify(
    index: Path,
    before: dict[str, str],
    files: dict[str, str],
    *,
    rebuild: bool,
    prune: bool,
    finished: bool,
    leftovers: list[str],
) -> tuple[dict[str, str], list[str]]:
    """The index's state and the broken invariants (empty when all hold)."""
    problems = []
    report = check_index(index)
    leftovers.extend(report.leftovers)
    if report.damage:
        problems.append(f"check: {report.damage[:3]}")
    try:
        now = indexed(index)
    except Exception as exc:  # any failure to open or read is what we are looking for
        return before, [f"index does not open or read: {exc!r}"]
    if finished:
        want = dict(files) if (rebuild or prune) else {**before, **files}
        if now != want:
            diff = set(now.items()) ^ set(want.items())
            problems.append(f"finished run: {len(diff)} letters differ, e.g. {sorted(diff)[:3]}")
        return now, problems
    if rebuild:
        # Exactly the old index, or exactly the new one (the kill came after the switch).
        if now != before and now != files:
            problems.append(f"killed --rebuild changed the index ({len(now)} vs {len(before)})")
        return now, problems
    missing = set(before) - set(now) - (set(before) - set(files) if prune else set())
    if missing:
        problems.append(f"committed letters missing: {sorted(missing)[:5]}")
    strangers = set(now) - set(before) - set(files)
    if strangers:
        problems.append(f"letters never in the folder: {sorted(strangers)[:5]}")
    for lid, sha in now.items():
        if sha not in (before.get(lid), files.get(lid)):
            problems.append(f"{lid}: a version neither committed nor on disk")
            break
    return now, problems


def run(kills: int, letters: int, seed: int, root: Path, log_every: int) -> Tally:
    """The loop; returns the tally."""
    rng = random.Random(seed)
    corpus = Corpus(root, letters, rng)
    index = root / "index"
    index_paths(index, [corpus.folder], workers=1)
    state = indexed(index)
    tally = Tally()
    typical = {"rebuild": 2.0, "prune": 1.0, "incremental": 1.0}  # seconds a run takes
    runs = {"rebuild": 0, "prune": 0, "incremental": 0}
    started = time.monotonic()
    attempt = 0
    while tally.kills < kills:
        attempt += 1
        corpus.change()
        files = corpus.files()
        rebuild = rng.random() < 0.3
        prune = not rebuild and rng.random() < 0.3
        args = [sys.executable, "-m", "search.cli", "index", str(corpus.folder)]
        # Mostly in-process parsing (a pool's start-up would be most of a small run).
        workers = "2" if rng.random() < 0.15 else "1"
        args += ["--index", str(index), "--batch", str(BATCH), "--workers", workers]
        args += ["--rebuild"] if rebuild else (["--prune"] if prune else [])
        kind = "rebuild" if rebuild else ("prune" if prune else "incremental")
        # Every CALIBRATE-th run of a kind runs to its end (its length sets `typical`); the
        # others are killed at a uniform moment within a typical run.
        runs[kind] += 1
        calibrate = runs[kind] % CALIBRATE == 1
        delay = REQUEST_END if calibrate else rng.uniform(0.05, typical[kind])
        t0 = time.monotonic()
        proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=delay)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if finished:
            tally.finished += 1
            if calibrate:
                typical[kind] = time.monotonic() - t0
            if proc.returncode != 0:
                tally.failures.append(f"run {attempt}: exit {proc.returncode}: {err[-300:]}")
                print("FAILED: " + tally.failures[-1], flush=True)
        else:
            tally.kills += 1
            tally.rebuild_kills += rebuild
            tally.prune_kills += prune
        problems = []
        if not lock_is_free(index, proc.pid):
            problems.append("the writers' lock is still held")
        left: list[str] = []
        new_state, found = verify(
            index,
            state,
            files,
            rebuild=rebuild,
            prune=prune,
            finished=finished,
            leftovers=left,
        )
        problems += found
        if not finished and new_state != state:
            tally.partial += 1
        state = new_state
        if left:
            tally.leftovers += 1
            if tally.kills % 2:
                with _run_lock(index):
                    check_index(index, repair=True)
                if not check_index(index).ok:
                    problems.append("check --repair left the index not OK")
        for p in problems:
            tally.failures.append(f"run {attempt} ({kind}, killed at {delay:.2f}s): {p}")
            print("FAILED: " + tally.failures[-1], flush=True)
        if attempt % log_every == 0:
            rate = attempt / (time.monotonic() - started)
            print(
                f"{attempt} runs: {tally.kills} kills ({tally.rebuild_kills} --rebuild, "
                f"{tally.prune_kills} --prune), {tally.finished} finished, {tally.partial} "
                f"partial, {tally.leftovers} with leftovers, {len(tally.failures)} failures; "
                f"{len(state)} letters; {rate:.2f} runs/s",
                flush=True,
            )
    return tally


def main(argv: list[str] | None = None) -> int:
    """Run the loop and print the tally; exit 1 when any invariant broke."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.chaos_kill", description=__doc__)
    p.add_argument("--kills", type=int, default=1000)
    p.add_argument("--letters", type=int, default=120, help="letters in the folder at start")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp one)")
    p.add_argument("--log-every", type=int, default=25)
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="imr-chaos-", dir=args.dir))
    t0 = time.monotonic()
    try:
        tally = run(args.kills, args.letters, args.seed, root, args.log_every)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    minutes = (time.monotonic() - t0) / 60
    print(
        f"\n{tally.kills} kills ({tally.rebuild_kills} of --rebuild, {tally.prune_kills} of "
        f"--prune) and {tally.finished} runs that finished first, in {minutes:.1f} min"
    )
    print(f"kills that left part of the run committed: {tally.partial}")
    print(
        f"states with leftovers of a killed run (removed by check --repair or the next "
        f"run): {tally.leftovers}"
    )
    print(f"broken invariants: {len(tally.failures)}")
    for line in tally.failures[:50]:
        print("  " + line)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
