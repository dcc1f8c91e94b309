"""Searching: the SearchIndex API used by the CLI and the web app.

Facet counts are numbers of matching decisions (a letter with two matching decisions adds
two to the letter's state, year...); a letter whose decisions could not be parsed counts
once under the letter facets. total_determinations counts letters, total_decisions counts
parsed decisions.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np

from ..fields import (
    ENGINE_MAX_PAGE_SIZE,
    FACETS,
    MAX_PAGE,
    SCOPE_AUTO,
    SCOPE_LETTER,
    SORT_NEWEST,
    SORT_RELEVANCE,
    SORTS,
)
from ..index import IndexMissing, open_index
from ..model import Determination, determination_from_dict
from ..query import ParsedQuery
from ..results import Hit, QueryError, SearchRequest, SearchResponse
from ..schema import (
    C_REC,
    F_RID,
    TEXT_FIELDS,
    unpack_record,
)
from ._codec import VarBytesView, read_at_random, trim_mapped
from .deadline import search_deadline
from .evaluate import SCORE_CACHE_BYTES, Evaluator, Leaf, PostingCache, SearchTimeout
from .facets import FacetCounter, SegmentMatch, final_mask
from .highlight import Terms
from .hits import (
    LetterRows,
    characteristic_words,
    distinctive_words,
    highlight_terms,
    page_order,
    parse_request,
    understood_request,
)
from .letters import (
    SegmentRows,
    joined_rows,
    letter_hit,
    letter_rows,
    letters_outside,
    matching_ordinals,
    same_letters,
    segment_rows,
    select,
)
from .parallel import SEARCH_THREADS, each
from .segments import (
    BoolArray,
    FacetTable,
    SegmentData,
    live_mask,
    load_segment,
)
from .snapshot import LRU, Snapshot
from .suggest import Speller, segment_words, suggest

__all__ = [
    "IndexMissing",
    "SearchIndex",
    "SearchTimeout",
    "highlight_terms",
    "understood_request",
]

_LRU = LRU  # the name tests and older callers import
T = TypeVar("T")

TIME_LIMIT: Final = 5.0  # seconds a search may take (less when its request must end sooner)
HIGHLIGHT_HITS: Final = 100  # hits of a page that get highlights (a 5000-hit page would not)
SUGGEST_BELOW: Final = 3  # offer "did you mean" when fewer letters match
SUGGEST_RARE: Final = 20  # or for words in fewer documents than this
RECORD_CACHE: Final = 4096
MASK_CACHE: Final = 256
BROWSE_ROWS: Final = 10_000  # letters of browsing everything kept in sort order per commit
MASK_CACHE_BYTES: Final = 64 * 1024 * 1024  # filter masks are a byte per document of a segment
# Resident pages of the mapped segments kept after a search: past it they are unmapped (they
# stay in the page cache), so a server's RSS is its heap plus this, not the index's size.
SERVE_MAPPED_BUDGET: Final = 1 << 30


class SearchIndex:
    """A read-only view of an index; refresh() picks up new commits. Thread-safe, no lock
    held during a search."""

    def __init__(
        self,
        path: Path,
        ix: Any,
        mapped_budget: int = SERVE_MAPPED_BUDGET,
        threads: int | None = None,
    ) -> None:
        self.path = path
        self._ix = ix
        self.mapped_budget = mapped_budget
        read_at_random()  # before the reader maps its segments
        self._refresh_lock = threading.Lock()  # one refresh at a time; searches never wait
        self._tables = {f: FacetTable() for f in FACETS}
        self._segments: dict[str, SegmentData] = {}
        self._words: dict[str, dict[str, int]] = {}  # segment -> the speller's words (lazy)
        self._lives: dict[tuple[str, int], BoolArray] = {}
        self._masks = LRU(MASK_CACHE, MASK_CACHE_BYTES)  # (segment, facet, values) -> mask
        self._records = LRU(RECORD_CACHE)  # (segment, docnum) -> Determination
        self._counter = FacetCounter(self._tables)
        self._postings = PostingCache()
        self._scores = PostingCache(SCORE_CACHE_BYTES)
        self._snap: Snapshot | None = None
        self._pinned = False
        # threads one search may use (parallel.each): the cores, unless worker processes
        # share them (a server of one process per core searches on one thread each)
        self.threads = max(1, threads or SEARCH_THREADS)
        self._open_reader()

    @classmethod
    def open(
        cls, path: str | Path, mapped_budget: int = SERVE_MAPPED_BUDGET, threads: int | None = None
    ) -> SearchIndex:
        """Open the index at path; raises IndexMissing when there is none."""
        folder = Path(path)
        return cls(folder, open_index(folder), mapped_budget, threads)

    def close(self) -> None:
        """Release the index files."""
        with self._refresh_lock:
            if self._snap is not None and self._snap.reader is not None:
                self._snap.reader.close()
                self._snap.reader = None

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- readers and per-segment caches ---------------------------------------------------

    def _open_reader(self) -> None:
        reader = self._ix.reader()
        leaves: list[Leaf] = []
        seen: set[str] = set()
        for segreader, base in reader.leaf_readers():
            segid = segreader.segment().segment_id()
            seen.add(segid)
            data = self._segments.get(segid)
            if data is None:
                data = self._segments[segid] = load_segment(segreader, self._tables)
            deleted = segreader.segment().deleted_count()
            live = self._lives.get((segid, deleted))
            if live is None:
                live = self._lives[(segid, deleted)] = live_mask(segreader, data.n)
            leaves.append(Leaf(segreader, base, data, live, segid))
        for segid in list(self._segments):
            if segid not in seen:
                del self._segments[segid]
        self._lives = {k: v for k, v in self._lives.items() if k[0] in seen}
        self._words = {k: v for k, v in self._words.items() if k in seen}
        self._counter.retain(seen)
        self._postings.retain(seen)
        self._scores.retain(seen)
        self._masks.drop_all()
        # The old reader is not closed: searches still running use it, and it is released
        # (its maps unmapped) when the last of them drops the old snapshot.
        self._snap = Snapshot(reader, leaves, self._ix.latest_generation())

    def pinned(self) -> SearchIndex:
        """A view fixed on the current snapshot, sharing this index's caches: refreshes do
        not move it, so an export pages through one committed state. Do not close it."""
        view = copy.copy(self)
        view._snap = self._current()
        view._pinned = True
        return view

    def refresh(self) -> bool:
        """Reopen the reader when the index changed on disk; True when it did."""
        if self._pinned:
            return False
        with self._refresh_lock:
            if self._snap is not None and self._ix.latest_generation() == self._snap.generation:
                return False
            self._open_reader()
            return True

    def _filter_mask(self, leaf: Leaf, facet: str, values: tuple[str, ...]) -> BoolArray:
        """Documents of a segment whose facet has any of the (casefolded) values; cached."""
        key = (leaf.segid, facet, values)
        found: BoolArray | None = self._masks.fetch(key)
        if found is not None:
            return found
        mask = leaf.data.facets[facet].mask(self._counter.filter_codes(facet, values))
        self._masks.store(key, mask)
        return mask

    # --- searching ------------------------------------------------------------------------

    def _current(self) -> Snapshot:
        """The snapshot a search works on (taken once per search)."""
        snap = self._snap
        if snap is None or snap.reader is None:
            raise IndexMissing(f"the index at {self.path} is closed")
        return snap

    def _matches(
        self, snap: Snapshot, parsed: ParsedQuery, deadline: float
    ) -> tuple[list[SegmentMatch], list[tuple[BoolArray, np.ndarray]], Evaluator]:
        """Per segment: the text query's matches with each filter's mask, and (matching live
        documents, scores)."""
        found, out, ev, _ = self._segments_then(snap, parsed, deadline, None)
        return found, out, ev

    def _segments_then(
        self,
        snap: Snapshot,
        parsed: ParsedQuery,
        deadline: float,
        then: Callable[[int, SegmentMatch, tuple[BoolArray, np.ndarray]], T] | None,
    ) -> tuple[list[SegmentMatch], list[tuple[BoolArray, np.ndarray]], Evaluator, list[T | None]]:
        """_matches, and `then` of each segment's matches (facet counts, letter rows) in the
        same part: the segments are searched on several threads (parallel.each)."""
        ev = Evaluator(snap.reader, snap.leaves, deadline, self._postings, self._scores)
        if not parsed.empty:
            ev.prepare(parsed.query, self.threads)

        def part(i: int) -> tuple[SegmentMatch, tuple[BoolArray, np.ndarray], T | None]:
            leaf = snap.leaves[i]
            if parsed.empty:
                text = leaf.live.copy()
                score = np.zeros(leaf.data.n, dtype=np.float32)
            else:
                text, score = ev.evaluate(parsed.query, i)
                text &= leaf.live
            filters = {
                facet: self._filter_mask(leaf, facet, values)
                for facet, values in parsed.filters.items()
            }
            match = SegmentMatch(leaf.data, leaf.live, leaf.segid, text, filters)
            pair = (final_mask(match), score)
            ev.check_time()
            return match, pair, None if then is None else then(i, match, pair)

        parts = each(part, len(snap.leaves), self.threads)
        return [p[0] for p in parts], [p[1] for p in parts], ev, [p[2] for p in parts]

    def search(self, request: SearchRequest) -> SearchResponse:
        """Run a search; raises QueryError for a bad query, filter, sort or page."""
        if request.sort not in SORTS:
            raise QueryError(f"Unknown sort '{request.sort}'. Use one of: {', '.join(SORTS)}.")
        if not 1 <= request.page <= MAX_PAGE:
            raise QueryError(f"Page must be between 1 and {MAX_PAGE}.")
        if not 1 <= request.size <= ENGINE_MAX_PAGE_SIZE:
            raise QueryError(f"Page size must be between 1 and {ENGINE_MAX_PAGE_SIZE}.")
        parsed, understood = understood_request(request)
        text, filters = parsed.text, dict(parsed.filters)
        deadline = search_deadline(TIME_LIMIT)
        snap = self._current()
        browse = parsed.empty and not parsed.filters
        # Without query text every score is equal and ties go to the newest: say so.
        sort = SORT_NEWEST if parsed.empty and request.sort == SORT_RELEVANCE else request.sort
        top = request.page * request.size
        keep = max(top, BROWSE_ROWS) if browse else top
        cached = snap.browse.get(sort) if browse else None
        if cached is not None and top > len(cached[4]):
            cached = None  # deeper than the kept rows: computed afresh
        sizes = self._counter.sizes()

        def counted(i: int, match: SegmentMatch, pair: Any) -> tuple[Any, SegmentRows]:
            # a segment's facet counts and letter rows, on the thread that matched it
            counts = self._counter.segment(match, sizes)
            return counts, segment_rows(i, snap.leaves[i], pair, keep, sort)

        _, matches, ev, parts = self._segments_then(
            snap, parsed, deadline, counted if cached is None else None
        )
        if cached is None:
            facets = self._counter.total([p[0] for p in parts if p is not None], sizes)
            letters, total, total_decisions = joined_rows([p[1] for p in parts if p is not None])
            order = page_order(letters, sort, keep)
            if browse:
                # Browsing everything (the landing page) is sorted once per commit, and only
                # the rows the first pages can show are kept: memory bounded, not per letter.
                letters = select(letters, order)
                order = np.arange(len(order))
                snap.browse[sort] = (facets, letters, total, total_decisions, order)
        else:
            facets, letters, total, total_decisions, order = cached
        page_rows = order[(request.page - 1) * request.size : request.page * request.size]
        terms = highlight_terms(parsed, understood)
        results = tuple(
            self._hit(snap, letters, int(row), matches, terms if n < HIGHLIGHT_HITS else {})
            for n, row in enumerate(page_rows)
        )
        suggestion = None
        # Also when hits came only through synonyms, or a word is rare (a likely typo
        # that a few letters share): the speller offers only much more frequent words.
        rare = [
            w for w in parsed.words if sum(ev.df.get((f, w), 0) for f in TEXT_FIELDS) < SUGGEST_RARE
        ]
        if parsed.words and (total < SUGGEST_BELOW or rare):
            words = parsed.words if total < SUGGEST_BELOW else tuple(rare)
            suggestion = suggest(request.q, words, self._get_speller(snap))
        if suggestion and total and self._same_letters(snap, suggestion, request, matches):
            suggestion = None  # the hits already come from the corrected words
        also = 0
        if request.count_elsewhere and parsed.scoped and request.scope == SCOPE_AUTO:
            also = self._also_mentioned(snap, text, filters, matches, deadline)
        trim_mapped(self.mapped_budget)
        return SearchResponse(
            query=request.q,
            total_determinations=total,
            total_decisions=total_decisions,
            facets=facets,
            suggestion=suggestion,
            results=results,
            page=request.page,
            size=request.size,
            sort=sort,
            filters={k: tuple(v) for k, v in request.filters.items()},
            scope=request.scope,
            literal=request.literal,
            interpreted=understood,
            also_mentioned=also,
        )

    def _also_mentioned(
        self,
        snap: Snapshot,
        text: str,
        filters: Mapping[str, tuple[str, ...]],
        narrow: list[tuple[BoolArray, np.ndarray]],
        deadline: float,
    ) -> int:
        """Letters that match only when treatment words may match anywhere in the letter:
        they mention the treatment, but none of their decisions is about it (not counted)."""
        wide = parse_request(text, filters, SCOPE_LETTER)
        _, matches, _ = self._matches(snap, wide, deadline)
        return letters_outside(snap.leaves, matches, narrow)

    def _same_letters(
        self,
        snap: Snapshot,
        q: str,
        request: SearchRequest,
        found: list[tuple[BoolArray, np.ndarray]],
    ) -> bool:
        """True when query `q` (with the request's filters) matches exactly the letters of
        the matches `found`."""
        try:
            parsed = parse_request(q, request.filters, request.scope)
            _found, matches, _ev = self._matches(snap, parsed, search_deadline(TIME_LIMIT))
        except QueryError:
            return False
        return same_letters(self._letters(snap, matches)[0], self._letters(snap, found)[0])

    def _letters(
        self,
        snap: Snapshot,
        matches: list[tuple[BoolArray, np.ndarray]],
        top: int | None = None,
        sort: str = SORT_RELEVANCE,
    ) -> tuple[LetterRows, int, int]:
        """Matching letters as rows, their number and the matching decisions' (letters.py)."""
        return letter_rows(snap.leaves, matches, top, sort)

    def _record(self, leaf: Leaf, docnum: int) -> Determination:
        """The stored record of the letter whose primary document this is (cached)."""
        key = (leaf.segid, docnum)
        rec: Determination | None = self._records.fetch(key)
        if rec is None:
            column = leaf.data.records
            if column is None:
                column = leaf.data.records = VarBytesView(leaf.reader, C_REC)
            rec = determination_from_dict(unpack_record(column[docnum]))
            self._records.store(key, rec)
        return rec

    def _hit(
        self,
        snap: Snapshot,
        letters: LetterRows,
        row: int,
        matches: list[tuple[BoolArray, np.ndarray]],
        terms: Mapping[str, Terms],
    ) -> Hit:
        """One result: the letter, its matching decisions and highlights."""
        return letter_hit(snap.leaves, letters, row, matches, terms, self._record)

    # --- records, similar, counts -----------------------------------------------------------

    def _find(self, snap: Snapshot, letter_id: str) -> tuple[Leaf, int] | None:
        """The segment and primary docnum of a letter id (live only)."""
        from .segments import postings

        for leaf in snap.leaves:
            ids, _ = postings(leaf.reader, F_RID, letter_id)
            for docnum in ids:
                if docnum < leaf.data.n and leaf.live[docnum]:
                    return leaf, int(docnum)
        return None

    def matching_ordinals(self, id: str, request: SearchRequest) -> tuple[int, ...] | None:
        """Ordinals of a letter's decisions that a search matches; None if the id is unknown.

        The same matching as search() (one evaluation of the query), read for one letter.
        """
        parsed, _ = understood_request(request)
        snap = self._current()
        found = self._find(snap, id)
        if found is None:
            return None
        leaf, start = found
        _, matches, _ = self._matches(snap, parsed, search_deadline(TIME_LIMIT))
        s = next(i for i, other in enumerate(snap.leaves) if other is leaf)
        letter = int(leaf.data.letter[start])
        return tuple(sorted(matching_ordinals(leaf.data, matches[s][0], letter)))

    def get(self, id: str) -> Determination | None:
        """The record of a letter id, or None."""
        found = self._find(self._current(), id)
        return self._record(*found) if found else None

    def similar(
        self, id: str, *, same_drug: bool = False, same_outcome: bool = False, limit: int = 10
    ) -> list[Hit] | None:
        """Letters most like this one (more-like-this over its decisions); None if id unknown."""
        snap = self._current()
        found = self._find(snap, id)
        if found is None:
            return None
        rec = self._record(*found)
        words = characteristic_words(rec, snap.reader)
        if not words:
            return []
        q = " OR ".join(words)
        filters: dict[str, tuple[str, ...]] = {}
        if same_drug:
            drugs = tuple(d.drug for d in rec.decisions if d.drug)
            if not drugs:
                return []
            filters["drug"] = drugs
        if same_outcome:
            outcomes = tuple(d.outcome for d in rec.decisions if d.outcome)
            if not outcomes:
                return []
            filters["outcome"] = outcomes
        parsed = parse_request(q, filters)
        _, matches, _ = self._matches(snap, parsed, search_deadline(TIME_LIMIT))
        letters, _, _ = self._letters(snap, matches, max(1, min(limit, 100)) + 1)
        own = found[0].data.lkey[found[1]]
        letters = select(letters, letters[4] != own)
        order = page_order(letters, SORT_RELEVANCE, max(1, min(limit, 100)))
        return [self._hit(snap, letters, int(r), matches, {}) for r in order[:limit]]

    def more_like_text(
        self, text: str, filters: Mapping[str, tuple[str, ...]], size: int = 20
    ) -> tuple[tuple[str, ...], SearchResponse]:
        """Decisions most like a free text (a request and clinical summary): more-like-this.

        The text's distinctive indexed words (tf-idf) are OR-ed, read literally (not as
        filters), and ranked like any search; returns (the words, the response).
        """
        # A pasted request is short: keep words like "mri" and "lumbar" that a whole letter's
        # text would drown, and drop only the near-universal ones.
        reader = self._current().reader
        words = tuple(distinctive_words(text, reader, min_length=3, max_share=0.5))
        if not words:
            empty = SearchResponse("", 0, 0, {}, None, (), size=size, filters=dict(filters))
            return words, empty
        request = SearchRequest(q=" OR ".join(words), filters=filters, size=size, literal=True)
        return words, self.search(request)

    def facet_values(self, facet: str) -> dict[str, int]:
        """Decision counts of every value of one facet over the whole index."""
        if facet not in FACETS:
            raise QueryError(f"Unknown facet '{facet}'. Known facets: {', '.join(FACETS)}.")
        return dict(self.search(SearchRequest(size=1)).facets[facet])

    def doc_count(self) -> tuple[int, int]:
        """(determinations, decisions) in the index."""
        letters = decisions = 0
        for leaf in self._current().leaves:
            letters += int(np.count_nonzero(leaf.live[leaf.data.starts]))
            decisions += int(np.count_nonzero(leaf.live & (leaf.data.ordinal > 0)))
        return letters, decisions

    def _get_speller(self, snap: Snapshot) -> Speller:
        """The did-you-mean vocabulary of a snapshot (built on first need)."""
        if snap.speller is None:
            vocab: dict[str, int] = {}
            for leaf in snap.leaves:
                words = self._words.get(leaf.segid)
                if words is None:
                    words = self._words[leaf.segid] = segment_words(leaf.reader)
                for word, df in words.items():
                    vocab[word] = vocab.get(word, 0) + df
            snap.speller = Speller(vocab)
        return snap.speller
