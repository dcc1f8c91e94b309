"""Unseen queries: a seeded mix drawn from the indexed letters' own words, for every engine.

Each query is made from words of a randomly chosen decision (so it matches something, with
counts from a handful to most of the corpus) and rendered in our query language, as an FTS5
MATCH expression and as tantivy query syntax. No query is repeated within a mix, so no
engine answers one from a cache of its own answers.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from search.engine.docs import decision_texts
from search.model import Determination

KINDS: Final = ("word", "two words", "phrase", "or-and", "word + outcome", "filter only")
_WORD: Final = re.compile(r"[a-z]{4,}")
# Words too common to say anything (every engine would match nearly every document).
_STOP: Final = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "were",
        "which",
        "been",
        "their",
        "there",
        "these",
        "they",
        "will",
        "would",
        "should",
        "than",
        "into",
        "also",
        "does",
        "when",
        "what",
        "such",
        "other",
        "only",
        "more",
        "most",
        "some",
        "where",
        "upon",
        "both",
        "each",
        "being",
        "under",
        "over",
        "after",
        "before",
        "about",
    ]
)


@dataclass(frozen=True)
class Query:
    """One query of the mix, with its text words and filters."""

    kind: str
    words: tuple[str, ...] = ()  # all required (AND) unless kind is or-and: (a OR b) AND c
    phrase: bool = False
    filters: dict[str, str] = field(default_factory=dict)  # facet -> one value

    def ours(self) -> tuple[str, dict[str, tuple[str, ...]]]:
        """Our query text and filters."""
        filters = {k: (v,) for k, v in self.filters.items()}
        if self.phrase:
            return f'"{" ".join(self.words)}"', filters
        if self.kind == "or-and":
            a, b, c = self.words
            return f"({a} OR {b}) AND {c}", filters
        return " ".join(self.words), filters

    def request(self) -> Any:
        """Our SearchRequest, as the peers take a query: the words as written (literal: no
        query understanding), in any field of the decision or of its letter (scope "letter")."""
        from search.results import SearchRequest  # (bench_ab puts its tree first on the path)

        q, filters = self.ours()
        return SearchRequest(q=q, filters=filters, literal=True, scope="letter")

    def fts(self) -> str | None:
        """An FTS5 MATCH expression (None: no text)."""
        if not self.words:
            return None
        if self.phrase:
            return f'"{" ".join(self.words)}"'
        if self.kind == "or-and":
            a, b, c = self.words
            return f"({a} OR {b}) AND {c}"
        return " AND ".join(self.words)

    def tantivy(self) -> str | None:
        """tantivy query-parser syntax (None: no text)."""
        if not self.words:
            return None
        if self.phrase:
            return f'"{" ".join(self.words)}"'
        if self.kind == "or-and":
            a, b, c = self.words
            return f"+({a} OR {b}) +{c}"
        return " ".join(f"+{w}" for w in self.words)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def make_mix(records: Sequence[Determination], n: int, seed: int) -> list[Query]:
    """n distinct queries, the kinds taking turns, drawn with a seeded generator."""
    rng = random.Random(seed)
    with_decisions = [r for r in records if r.decisions]
    out: list[Query] = []
    seen: set[Query | str] = set()
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        kind = KINDS[len(out) % len(KINDS)]
        rec = rng.choice(with_decisions)
        d = rng.choice(rec.decisions)
        texts = decision_texts(d)
        words = _words(texts["rationale"]) or _words(texts["request"])
        if len(words) < 4:
            continue
        q: Query
        if kind == "word":
            q = Query(kind, (rng.choice(words),))
        elif kind == "two words":
            q = Query(kind, tuple(rng.sample(words, 2)))
        elif kind == "phrase":
            raw = texts["rationale"].lower().split()
            pairs = [
                (a, b)
                for a, b in itertools.pairwise(raw)
                if _WORD.fullmatch(a) and _WORD.fullmatch(b)
            ]
            if not pairs:
                continue
            q = Query(kind, rng.choice(pairs), phrase=True)
        elif kind == "or-and":
            q = Query(kind, tuple(rng.sample(words, 3)))
        elif kind == "word + outcome":
            if not d.outcome:
                continue
            q = Query(kind, (rng.choice(words),), filters={"outcome": d.outcome})
        else:
            if not d.drug:
                continue
            q = Query(kind, (), filters={"drug": d.drug})
        key = json.dumps(asdict(q), sort_keys=True)
        if key in seen or len(set(q.words)) < len(q.words):
            continue
        seen.add(key)
        out.append(q)
    return out


def save(queries: Iterable[Query], path: Path) -> None:
    """Write a mix as JSON lines."""
    with path.open("w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(asdict(q)) + "\n")


def load(path: Path) -> list[Query]:
    """Read a mix written by save()."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        out.append(Query(data["kind"], tuple(data["words"]), data["phrase"], dict(data["filters"])))
    return out
