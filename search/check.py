"""`imr-search check`: verify every file the current generation references; --repair
removes leftovers (temp and old TOCs, unreferenced segments, part files, staging folders)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .engine.toc import (
    IndexDamaged,
    TocError,
    checksum,
    generations,
    leftovers,
    newest_readable,
    read_toc,
    remove,
    toc_name,
)
from .index import IndexLocked, _run_lock

EXIT_OK, EXIT_DAMAGED, EXIT_USAGE = 0, 1, 2


@dataclass
class CheckReport:
    """What `check` found (and, with repair, removed)."""

    generation: int = -1
    files_verified: int = 0
    damage: list[str] = field(default_factory=list)  # problems repair cannot fix
    unreadable: list[str] = field(default_factory=list)  # newer TOCs that do not read
    leftovers: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the index is whole and holds nothing but the current generation."""
        return not self.damage and not (set(self.leftovers) - set(self.removed))


def check_index(folder: str | Path, *, repair: bool = False) -> CheckReport:
    """Verify the newest readable generation's files by size and CRC-32 (stored at commit)."""
    folder = Path(folder)
    report = CheckReport()
    if not generations(folder):
        report.damage.append(f"no index at {folder}")
        return report
    try:
        toc = newest_readable(folder)
    except IndexDamaged as exc:  # no generation reads at all
        report.damage.append(str(exc))
        return report
    report.generation = toc.generation
    for gen in generations(folder):
        if gen <= toc.generation:
            break
        try:
            read_toc(folder, gen)
        except TocError as exc:
            report.unreadable.append(f"{toc_name(gen)}: {exc}")
    for seg in toc.segments:
        sums = toc.files.get(seg.segid)
        if not sums:
            report.damage.append(f"segment {seg.segid}: no files recorded")
            continue
        for name, (size, crc) in sums.items():
            path = folder / name
            if not path.exists():
                report.damage.append(f"{name}: missing")
            elif checksum(path) != (size, crc):
                report.damage.append(f"{name}: size or checksum differs from the commit")
            else:
                report.files_verified += 1
    report.leftovers = leftovers(folder, toc)
    if repair and report.leftovers:
        remove(folder, report.leftovers)
        report.removed = [n for n in report.leftovers if not (folder / n).exists()]
    return report


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `check`."""
    p = sub.add_parser("check", help="verify the index's files; --repair removes leftovers")
    p.add_argument("--index", default="index", help="index folder (default: ./index)")
    p.add_argument("--repair", action="store_true", help="remove leftovers of killed runs")
    p.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Print what was verified; exit 1 when files are damaged or leftovers remain."""
    folder = Path(args.index)
    try:
        if args.repair:
            # Holding the writers' lock: no run is writing what we would remove.
            with _run_lock(folder):
                report = check_index(folder, repair=True)
        else:
            report = check_index(folder)
    except IndexLocked as exc:
        print(f"imr-search: {exc}", file=sys.stderr)
        return EXIT_DAMAGED
    except OSError as exc:
        print(f"imr-search: cannot check {folder}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_DAMAGED
    for line in report.unreadable:
        print(f"unreadable newer TOC (skipped): {line}")
    for line in report.damage:
        print(f"damaged: {line}")
    removed = set(report.removed)
    for name in report.leftovers:
        print(f"{'removed' if name in removed else 'leftover'}: {name}")
    if report.generation >= 0:
        print(
            f"generation {report.generation}: {report.files_verified} files verified"
            + (", OK" if report.ok else "")
        )
    if report.damage:
        print(
            f"imr-search: the index is damaged: rebuild it with "
            f"`imr-search index PATH... --index {folder} --rebuild`",
            file=sys.stderr,
        )
    elif not report.ok:
        print(f"imr-search: run `imr-search check --index {folder} --repair`", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_DAMAGED
