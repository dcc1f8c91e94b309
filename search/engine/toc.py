"""The index's table of contents (TOC): a power-safe commit, and opening with fallback.

A commit, in Lucene's order: every new segment file is fsynced, the TOC is written and
fsynced under a temporary name, the directory is fsynced, the TOC is renamed into place,
the directory is fsynced again, and only then are the files the new generation no longer
references deleted. A power cut at any moment leaves either the old or the new commit.

The TOC is JSON with a checksum line (no pickled classes, which a refactor could move): the
generation, the schema and parser versions, and per segment its Whoosh metadata and the
size and CRC-32 of each of its files, which `imr-search check` verifies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex

from ..schema import PARSER_VERSION, SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)

INDEX_NAME: Final = "MAIN"
MAGIC: Final = b"imr-search-toc 1\n"
TMP_SUFFIX: Final = ".tmp"
STAGING_PREFIX: Final = ".rebuild-"  # a --rebuild builds its generation in such a folder
_TOC_NAME: Final = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")
_SEGMENT_FILE: Final = re.compile(rf"^{INDEX_NAME}_([0-9a-z]+)\.")
_LEFTOVER: Final = re.compile(rf"^_{INDEX_NAME}_\d+\.toc\..+|^{INDEX_NAME}\.tmp$|.*\.part$")

FileSums = dict[str, tuple[int, int]]  # file name -> (size, crc32)


class TocError(ValueError):
    """A TOC file that cannot be read (truncated, empty, corrupt, or of another format)."""


class IndexUnreadable(RuntimeError):
    """The index exists but cannot be opened (a clear message, never a raw traceback)."""


class IndexDamaged(IndexUnreadable):
    """No generation of the index can be read."""


class IndexVersionMismatch(IndexUnreadable):
    """The index was written with another schema version."""


def toc_name(generation: int) -> str:
    """The file name of a generation's TOC."""
    return f"_{INDEX_NAME}_{generation}.toc"


def fsync_path(path: str | Path, *, directory: bool = False) -> None:
    """fsync one file or directory."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def generations(folder: str | Path) -> list[int]:
    """The generations that have a TOC file in folder, newest first."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted((int(m.group(1)) for n in names if (m := _TOC_NAME.match(n))), reverse=True)


def checksum(path: str | Path) -> tuple[int, int]:
    """(size, CRC-32) of a file."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
            size += len(block)
    return size, crc


@dataclass
class Toc:
    """One generation: its segments and the checksums of their files."""

    generation: int
    segments: list[Any]
    files: dict[str, FileSums] = field(default_factory=dict)  # segment id -> its files
    schema_version: int = SCHEMA_VERSION
    parser_version: int = PARSER_VERSION

    def whoosh(self) -> TOC:
        """As Whoosh's TOC object (the schema always from code, never unpickled)."""
        return TOC(SCHEMA, list(self.segments), self.generation)


def _segment_json(seg: Any, files: FileSums) -> dict[str, Any]:
    codec = seg.codec()
    # Whoosh's segment attributes as plain data (its field lengths, compound flag...).
    attrs = {k: v for k, v in vars(seg).items() if k not in ("_codec", "_deleted")}
    return {
        "id": seg.segid,
        "docs": seg.doc_count_all(),
        "deleted": sorted(seg.deleted_docs()) if seg.deleted_count() else None,
        "codec": [codec._blocklimit, codec._compression, codec._inlinelimit],
        "attrs": attrs,
        "files": {name: list(sums) for name, sums in sorted(files.items())},
    }


def encode(toc: Toc) -> bytes:
    """The TOC file's bytes: magic, JSON, and the JSON's SHA-256."""
    body = json.dumps(
        {
            "generation": toc.generation,
            "schema_version": toc.schema_version,
            "parser_version": toc.parser_version,
            "segments": [_segment_json(seg, toc.files.get(seg.segid, {})) for seg in toc.segments],
        },
        separators=(",", ":"),
    ).encode("utf-8")
    return MAGIC + body + b"\n" + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n"


def decode(data: bytes, generation: int) -> Toc:
    """A TOC from its file's bytes; raises TocError."""
    if not data.startswith(MAGIC):
        kind = "empty" if not data else "not an imr-search TOC (an older format?)"
        raise TocError(kind)
    body, _, rest = data[len(MAGIC) :].rpartition(b"\n")
    if not rest:
        body, _, rest = body.rpartition(b"\n")
    if not body or hashlib.sha256(body).hexdigest().encode("ascii") != rest.strip():
        raise TocError("truncated or corrupt (checksum mismatch)")
    try:
        doc = json.loads(body)
        if doc["generation"] != generation:
            raise TocError(f"names generation {doc['generation']}")
        segments, files = [], {}
        for s in doc["segments"]:
            seg = W3Segment(W3Codec(*s["codec"]), INDEX_NAME, s["docs"], s["id"])
            for k, v in s["attrs"].items():
                setattr(seg, k, v)
            seg._deleted = set(s["deleted"]) if s["deleted"] else None
            segments.append(seg)
            files[s["id"]] = {name: (v[0], v[1]) for name, v in s["files"].items()}
        return Toc(generation, segments, files, doc["schema_version"], doc["parser_version"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise TocError(f"malformed: {exc}") from None


def read_toc(folder: str | Path, generation: int) -> Toc:
    """Read one generation's TOC; raises TocError."""
    try:
        data = (Path(folder) / toc_name(generation)).read_bytes()
    except OSError as exc:
        raise TocError(f"cannot be read: {exc.strerror}") from None
    return decode(data, generation)


def newest_readable(folder: str | Path) -> Toc:
    """The newest generation whose TOC reads; a warning for each newer one that does not.
    Raises IndexDamaged when none reads."""
    problems = []
    for gen in generations(folder):
        try:
            toc = read_toc(folder, gen)
        except TocError as exc:
            problems.append(f"{toc_name(gen)}: {exc}")
            continue
        for problem in problems:
            log.warning(
                "index %s: skipping unreadable %s; serving generation %d "
                "(`imr-search check --index %s --repair` removes it)",
                folder,
                problem,
                gen,
                folder,
            )
        return toc
    detail = "; ".join(problems) or "no TOC file"
    raise IndexDamaged(
        f"index {folder} cannot be opened ({detail}): rebuild it with "
        f"`imr-search index PATH... --index {folder} --rebuild`"
    )


def check_version(toc: Toc, folder: str | Path) -> None:
    """Raise IndexVersionMismatch for another schema; warn for another parser version."""
    if toc.schema_version != SCHEMA_VERSION:
        raise IndexVersionMismatch(
            f"index {folder} has schema version {toc.schema_version}, this imr-search uses "
            f"{SCHEMA_VERSION}: rebuild it with `imr-search index PATH... --index {folder} "
            "--rebuild`"
        )
    if toc.parser_version != PARSER_VERSION:
        log.warning(
            "index %s was parsed with parser version %d (this is %d): `imr-search index "
            "PATH... --rebuild` parses every letter again",
            folder,
            toc.parser_version,
            PARSER_VERSION,
        )


def write_toc(folder: str | Path, toc: Toc) -> None:
    """Publish a generation durably: temp file fsynced, directory fsynced, rename, fsync."""
    folder = str(folder)
    final = os.path.join(folder, toc_name(toc.generation))
    temp = final + TMP_SUFFIX
    with open(temp, "wb") as f:
        f.write(encode(toc))
        f.flush()
        os.fsync(f.fileno())
    fsync_path(folder, directory=True)
    os.replace(temp, final)
    fsync_path(folder, directory=True)


def segment_files(folder: str | Path, segid: str) -> list[str]:
    """The names of a segment's files."""
    prefix = f"{INDEX_NAME}_{segid}."
    return sorted(n for n in os.listdir(folder) if n.startswith(prefix))


def durable_files(
    folder: str | Path, segments: list[Any], known: dict[str, FileSums]
) -> dict[str, FileSums]:
    """Checksums of every segment's files: carried over for segments of an earlier commit,
    computed (and the files fsynced) for new ones."""
    out: dict[str, FileSums] = {}
    for seg in segments:
        if seg.segid in known:
            out[seg.segid] = known[seg.segid]
            continue
        sums: FileSums = {}
        for name in segment_files(folder, seg.segid):
            path = os.path.join(folder, name)
            fsync_path(path)
            sums[name] = checksum(path)
        out[seg.segid] = sums
    return out


def leftovers(folder: str | Path, toc: Toc) -> list[str]:
    """Names in folder that the generation does not reference: other TOCs, temp TOCs,
    unreferenced segment files, Whoosh's temp folder, part files, rebuild staging folders."""
    live = {seg.segid for seg in toc.segments}
    out = []
    for name in os.listdir(folder):
        m_toc, m_seg = _TOC_NAME.match(name), _SEGMENT_FILE.match(name)
        if (
            (m_toc and int(m_toc.group(1)) != toc.generation)
            or (m_seg and m_seg.group(1) not in live)
            or _LEFTOVER.match(name)
            or name.startswith(STAGING_PREFIX)
        ):
            out.append(name)
    return sorted(out)


def remove(folder: str | Path, names: list[str]) -> None:
    """Delete files and folders (best effort: a reader may still hold one on some systems)."""
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)
        except OSError:
            pass


def commit(folder: str | Path, toc: Toc, known: dict[str, FileSums]) -> None:
    """Make a generation durable and current, then delete what it no longer references."""
    toc.files = durable_files(folder, toc.segments, known)
    write_toc(folder, toc)
    remove(folder, [n for n in leftovers(folder, toc) if not n.startswith(STAGING_PREFIX)])


def publish_rebuild(folder: str | Path, staging: str | Path) -> None:
    """Switch a --rebuild in: its segment files (fsynced in staging) move into folder, and a
    new generation naming only them is committed; the old one is deleted after the switch."""
    toc = newest_readable(staging)
    for sums in toc.files.values():
        for name in sums:
            os.replace(os.path.join(staging, name), os.path.join(folder, name))
    gens = generations(folder)
    # (commit's first directory fsync, before the TOC's rename, makes the moves durable)
    commit(folder, Toc(gens[0] + 1 if gens else 0, toc.segments), toc.files)
    remove(folder, [os.path.basename(staging)])


def clean_leftovers(folder: str | Path) -> None:
    """Remove what killed runs left behind (call only while holding the writers' lock)."""
    try:
        toc = newest_readable(folder)
    except IndexDamaged:
        return
    remove(folder, leftovers(folder, toc))


class DurableIndex(FileIndex):  # type: ignore[misc]
    """Whoosh's FileIndex over our TOC: the newest readable generation, schema from code."""

    def __init__(self, folder: str | Path, readonly: bool = False) -> None:
        self.folder = Path(folder)
        storage = FileStorage(str(folder), readonly=readonly)
        self.storage = storage
        self._schema = SCHEMA
        self.indexname = INDEX_NAME
        self._cache: tuple[tuple[int, int, int], Toc] | None = None
        toc = self.toc()
        check_version(toc, folder)

    @classmethod
    def create(cls, folder: str | Path) -> DurableIndex:
        """A new empty index (generation after any TOC already there)."""
        Path(folder).mkdir(parents=True, exist_ok=True)
        gens = generations(folder)
        write_toc(folder, Toc(gens[0] + 1 if gens else 0, []))
        return cls(folder)

    def toc(self) -> Toc:
        """The newest readable generation (re-read only when the newest TOC file changed)."""
        gens = generations(self.folder)
        if gens:
            try:
                st = os.stat(self.folder / toc_name(gens[0]))
                stamp = (gens[0], st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = (-1, 0, 0)
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            toc = newest_readable(self.folder)
            self._cache = (stamp, toc)
            return toc
        return newest_readable(self.folder)  # raises IndexDamaged

    def latest_generation(self) -> int:
        """The newest readable generation."""
        return self.toc().generation

    def newest_on_disk(self) -> int:
        """The newest generation named by any TOC file, readable or not."""
        gens = generations(self.folder)
        return gens[0] if gens else -1

    def _read_toc(self) -> TOC:
        return self.toc().whoosh()

    def writer(self, procs: int = 1, **kwargs: Any) -> Any:
        from .writer import FastWriter

        return FastWriter(self, **kwargs)
