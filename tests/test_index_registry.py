"""The registry of an index run: what the index holds per source file, found by digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from search.index import index_paths, open_index
from search.index_registry import Registry, digest, find, union_sorted
from search.schema import F_RID, F_SHA, F_SRC, unpack_record


def test_find_sees_digests_ending_in_zero_bytes() -> None:
    """numpy reads an "S16" value without its trailing zero bytes: such digests are found."""
    values = [bytes(15) + b"\x01", b"\x02" + bytes(15), b"\x03" * 14 + b"\x00\x00", b"\x04" * 16]
    digests = np.array(sorted(values), dtype="S16")
    for value in values:
        at = find(digests, value)
        assert at is not None and bytes(digests[at]).ljust(16, b"\x00") == value
    assert find(digests, b"\x03" * 15 + b"\x00") is None
    assert find(digests, b"\x05" * 16) is None
    assert find(np.zeros(0, dtype="S16"), b"\x01" * 16) is None
    texts = [t for t in (f"id-{i}" for i in range(2000)) if digest(t).endswith(b"\x00")]
    registry = Registry(None)
    for t in texts:
        registry.add(t, t, t)
    registry.committed()
    assert texts and all(registry.id_taken(t) and registry.sha_taken(t) for t in texts)


def test_by_source_matches_whoosh_lookups(tmp_path: Path, generated_dir: Path) -> None:
    """On an index with updated letters (deleted documents in older segments) and a removed
    one, by_source finds for every source what Whoosh's term lookup finds, and nothing for
    a source the index does not hold."""
    folder = tmp_path / "letters"
    shutil.copytree(generated_dir, folder)
    paths = sorted(folder.glob("*.txt"))[:40]
    for p in sorted(folder.glob("*.txt"))[40:]:
        p.unlink()
    index = tmp_path / "ix"
    index_paths(index, [folder], workers=1, batch_size=15)
    for p in paths[::6]:
        p.write_text(p.read_text() + "\nAmended.\n")
    index_paths(index, [folder], workers=1, batch_size=4)
    paths[1].unlink()
    index_paths(index, [folder], workers=1, prune=True)
    ix = open_index(index)
    searcher = ix.searcher()
    try:
        records = searcher.reader().column_reader("c_rec")
        registry = Registry(searcher)
        sources = [
            t.decode("utf-8") if isinstance(t, bytes) else t for t in searcher.lexicon(F_SRC)
        ]
        found = 0
        for key in [*sources, str(tmp_path / "no-such-letter.txt")]:
            docnum = searcher.document_number(**{F_SRC: key})
            entry = registry.by_source(key)
            if docnum is None:
                assert entry is None, key
                continue
            found += 1
            stored = searcher.stored_fields(docnum)
            version = unpack_record(records[docnum]).get("parser_version")
            assert entry is not None, key
            assert (entry.id, entry.sha, entry.version) == (stored[F_RID], stored[F_SHA], version)
        assert found == 39
        assert registry.sources_table is not None and len(registry.sources_table[0]) == 39
    finally:
        searcher.close()
        ix.close()


@pytest.mark.parametrize("seed", range(6))
def test_union_sorted_as_union1d(seed: int) -> None:
    """New digests inserted into the sorted ones as np.union1d would give them: repeats,
    ones already there, digests ending in zero bytes (read back shorter by numpy), empties."""
    rng = np.random.default_rng(seed)
    pool = [bytes(rng.integers(0, 256, 16, dtype=np.uint8)) for _ in range(300)]
    pool += [p[:12] + b"\x00" * 4 for p in pool[:30]]  # trailing zero bytes
    old = np.unique(np.array(rng.choice(pool, int(rng.integers(0, 200))), dtype="S16"))
    new = np.array(rng.choice(pool, int(rng.integers(0, 200))), dtype="S16")
    merged = union_sorted(old, new)
    assert merged.dtype == np.dtype("S16")
    assert merged.tolist() == np.union1d(old, new).tolist()
    assert all(find(merged, bytes(d)) is not None for d in new)
