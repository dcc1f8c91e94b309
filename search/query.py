"""The query language: a small bounded parser that turns user text into Whoosh query objects.

Grammar (AND binds tighter than OR; juxtaposed terms are ANDed)::

    query  := or
    or     := and ("OR" and)*
    and    := unary (["AND"] unary)*
    unary  := "NOT" unary | "-" atom | atom
    atom   := "(" or ")" | FIELD ":" value | '"phrase"' | word | prefix*
    value  := word | '"phrase"' | "(" or ")" | "[" LOW "TO" HIGH "]" (year only)

Everything costly in Whoosh is refused here, before any index is touched: long queries,
many clauses, deep nesting, leading or short wildcards, ranges on text, unknown fields.
An unclosed quote or parenthesis is closed at the end; stray operators are errors.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from whoosh import query as wq

from .fields import FACET_YEAR, FACETS, MAX_QUERY_LENGTH, SCOPE_AUTO, SCOPE_DECISION, SCOPES
from .results import QueryError
from .schema import (
    DECISION_TEXT_FIELDS,
    DEFAULT_FIELDS,
    FIELD_BOOSTS,
    TEXT_FIELDS,
    bigram_field,
    compounds,
    facet_field,
    tokenize,
)

MAX_CLAUSES: Final = 50  # words and phrases in one query
MAX_DEPTH: Final = 10  # nested parentheses
MAX_WORD_LENGTH: Final = 100  # characters in one word
MAX_PHRASE_WORDS: Final = 12
MIN_PREFIX: Final = 3  # letters before a trailing *
MAX_FILTER_VALUES: Final = 100  # values of one facet filter
MAX_YEAR_SPAN: Final = 100
SYNONYM_FIELDS: Final = ("request", "rationale", "summary")
OPERATORS: Final = ("AND", "OR", "NOT")

Synonyms = Mapping[str, Sequence[str]]
Normalizer = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A built query: the Whoosh text query, normalized filters and what to highlight."""

    query: wq.Query  # the text part; wq.Every() when the text is empty
    filters: Mapping[str, tuple[str, ...]]  # facet -> casefolded values (OR within, AND across)
    highlight: frozenset[tuple[str, str]] = frozenset()  # (field, term); "pre*" for prefixes
    words: tuple[str, ...] = ()  # plain words of the query, for "did you mean"
    text: str = ""
    empty: bool = True  # no text query: everything (subject to filters) matches
    scope: str = SCOPE_AUTO
    scoped: tuple[str, ...] = ()  # treatment words matched in decisions' own text only

    @property
    def combined(self) -> wq.Query:
        """Text query and filters as one Whoosh query (what the engine evaluates)."""
        parts: list[wq.Query] = [] if self.empty else [self.query]
        for facet, values in self.filters.items():
            parts.append(wq.Or([wq.Term(facet_field(facet), v) for v in values]))
        if not parts:
            return wq.Every()
        return parts[0] if len(parts) == 1 else wq.And(parts)


# --- lexer ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT MINUS FIELD RANGE
    text: str
    pos: int


_FIELD_NAME = re.compile(r"[A-Za-z_]+")
_RANGE = re.compile(r"\[\s*([^\s\]]*)\s+TO\s*([^\s\]]*)\s*\]", re.IGNORECASE)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _lex(text: str) -> list[_Tok]:
    """Tokens of a query; unclosed quotes end at the end of the text."""
    text = _CONTROL.sub(" ", text)  # control characters separate words, like spaces
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            toks.append(_Tok("LPAREN" if c == "(" else "RPAREN", c, i))
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            toks.append(_Tok("PHRASE", text[i + 1 : end], i))
            i = end + 1
        elif c == "[":
            # A range only where one is written whole ("[a TO b]"); a stray "[" is
            # punctuation, not a malformed range to complain about.
            m = _RANGE.match(text, i)
            if m:
                toks.append(_Tok("RANGE", m.group(0), i))
            i = m.end() if m else i + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"[':
                j += 1
            word = text[i:j]
            if word in OPERATORS:
                toks.append(_Tok(word, word, i))
            elif word.startswith("-") and len(word) > 1:
                toks.append(_Tok("MINUS", "-", i))
                toks.extend(_word_or_field(word[1:], i + 1, text, j))
            elif word == "-" and j < n and text[j] in '("':
                toks.append(_Tok("MINUS", "-", i))
            else:
                toks.extend(_word_or_field(word.lstrip("+"), i, text, j))
            i = j
    return toks


def _word_or_field(word: str, pos: int, text: str, end: int) -> list[_Tok]:
    """A bare word, or `field:` followed by its value in the same or the next token."""
    name, colon, rest = word.partition(":")
    if colon and _FIELD_NAME.fullmatch(name):
        if rest:
            return [_Tok("FIELD", name, pos), _Tok("WORD", rest, pos + len(name) + 1)]
        if end < len(text) and text[end] in '("[':
            return [_Tok("FIELD", name, pos)]
        raise QueryError(f"'{name}:' needs a value after the colon.")
    return [_Tok("WORD", word, pos)] if word else []


# --- parser (to a small AST) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Leaf:
    kind: str  # word | phrase | prefix | range
    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class _Node:
    op: str  # AND | OR | NOT
    children: tuple[_Node | _Leaf, ...] = field(default_factory=tuple)


_Ast = _Node | _Leaf


class _Parser:
    """Recursive descent with caps on depth and clause count."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.depth = 0
        self.clauses = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> _Ast | None:
        if not self.toks:
            return None
        node = self.parse_or(None)
        tok = self.peek()
        if tok is not None:  # only an unmatched ")" can stop the top level early
            raise QueryError("Unmatched ')' in the query.")
        return node

    def parse_or(self, fieldname: str | None) -> _Ast:
        parts = [self.parse_and(fieldname)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            self._need_operand("OR")
            parts.append(self.parse_and(fieldname))
        return parts[0] if len(parts) == 1 else _Node("OR", tuple(parts))

    def parse_and(self, fieldname: str | None) -> _Ast:
        tok = self.peek()
        if tok is not None and tok.kind in ("AND", "OR"):
            raise QueryError(f"'{tok.kind}' needs a search term on each side.")
        parts = [self.parse_unary(fieldname)]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.i += 1
                self._need_operand("AND")
            parts.append(self.parse_unary(fieldname))
        return parts[0] if len(parts) == 1 else _Node("AND", tuple(parts))

    def _need_operand(self, op: str) -> None:
        tok = self.peek()
        if tok is None or tok.kind in ("AND", "OR", "RPAREN"):
            raise QueryError(f"'{op}' needs a search term on each side.")

    def parse_unary(self, fieldname: str | None) -> _Ast:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("NOT", "MINUS"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("AND", "OR", "RPAREN"):
                raise QueryError("'NOT' needs a search term after it.")
            return _Node("NOT", (self.parse_unary(fieldname),))
        return self.parse_atom(fieldname)

    def parse_atom(self, fieldname: str | None) -> _Ast:
        tok = self.peek()
        assert tok is not None
        self.i += 1
        if tok.kind == "LPAREN":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"Too many nested parentheses (at most {MAX_DEPTH}).")
            nxt = self.peek()
            if nxt is None:
                raise QueryError("Unclosed parenthesis: '(' with no search term or ')' after it.")
            if nxt.kind == "RPAREN":
                raise QueryError("Empty parentheses in the query.")
            node = self.parse_or(fieldname)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "RPAREN":
                self.i += 1
            # else: an unclosed "(" is closed at the end of the query
            self.depth -= 1
            return node
        if tok.kind == "RPAREN":
            raise QueryError("Unmatched ')' in the query.")
        if tok.kind == "FIELD":
            if fieldname is not None:
                raise QueryError(f"'{tok.text}:' cannot be used inside '{fieldname}:'.")
            name = tok.text.lower()
            if name not in TEXT_FIELDS and name not in FACETS:
                known = ", ".join((*TEXT_FIELDS, *FACETS))
                raise QueryError(f"Unknown field '{tok.text}'. Known fields: {known}.")
            if self.peek() is None:
                raise QueryError(f"'{tok.text}:' needs a value after the colon.")
            return self.parse_atom(name)
        if tok.kind == "RANGE":
            if fieldname != FACET_YEAR:
                raise QueryError("Ranges are only supported for year, e.g. year:[2013 TO 2015].")
            return self._leaf("range", tok.text, fieldname)
        if tok.kind == "PHRASE":
            return self._leaf("phrase", tok.text, fieldname)
        if tok.kind == "WORD":
            return self._leaf(_word_kind(tok.text), tok.text, fieldname)
        raise QueryError(f"'{tok.text}' needs a search term on each side.")

    def _leaf(self, kind: str, text: str, fieldname: str | None) -> _Leaf:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QueryError(f"Too many search terms (at most {MAX_CLAUSES}).")
        return _Leaf(kind, text, fieldname)


def _word_kind(word: str) -> str:
    """ "word" or "prefix"; refuses other wildcards and overlong words."""
    if len(word) > MAX_WORD_LENGTH:
        raise QueryError(f"A word is too long (at most {MAX_WORD_LENGTH} characters).")
    stem = word[:-1] if word.endswith("*") else word
    if "*" in stem or "?" in stem:
        raise QueryError(
            f"Wildcards are only allowed at the end of a word of at least {MIN_PREFIX} "
            f"letters, e.g. tizan*: '{word}'."
        )
    if word.endswith("*"):
        letters = tokenize(stem)
        if len(letters) != 1 or len(letters[0]) < MIN_PREFIX or letters[0] != stem.lower():
            raise QueryError(
                f"Wildcards are only allowed at the end of a word of at least {MIN_PREFIX} "
                f"letters, e.g. tizan*: '{word}'."
            )
        return "prefix"
    return "word"


# --- to Whoosh queries ------------------------------------------------------------------


class _Builder:
    """Turns the AST into Whoosh queries, collecting highlight terms and plain words."""

    def __init__(
        self,
        synonyms: Synonyms,
        normalizers: Mapping[str, Normalizer],
        treatments: frozenset[str] = frozenset(),
        scope: str = SCOPE_AUTO,
    ) -> None:
        self.synonyms = synonyms
        self.normalizers = normalizers
        self.treatments = treatments
        self.scope = scope
        self.highlight: set[tuple[str, str]] = set()
        self.words: list[str] = []
        self.scoped: list[str] = []

    def fields_of(self, leaf: _Leaf, words: list[str]) -> tuple[str, ...]:
        """The text fields a leaf searches: its own field; a decision's own text for a word
        naming a treatment (or every word under scope=decision); else every text field."""
        if leaf.field:
            return (leaf.field,)
        if self.scope == SCOPE_DECISION:
            return DECISION_TEXT_FIELDS
        if self.scope == SCOPE_AUTO and words:
            name = " ".join(words)
            if name in self.treatments or (len(words) == 1 and words[0] in self.synonyms):
                self.scoped.append(name)
                return DECISION_TEXT_FIELDS
        return DEFAULT_FIELDS

    def build(self, node: _Ast, positive: bool = True) -> wq.Query:
        if isinstance(node, _Leaf):
            return self.leaf(node, positive)
        if node.op == "NOT":
            return wq.Not(self.build(node.children[0], not positive))
        children = [self.build(c, positive) for c in node.children]
        return wq.And(children) if node.op == "AND" else wq.Or(children)

    def leaf(self, leaf: _Leaf, positive: bool) -> wq.Query:
        if leaf.field in FACETS:
            return self.facet(leaf)
        if leaf.kind == "prefix":
            stem = leaf.text[:-1].lower()
            fields = self.fields_of(leaf, [])
            if positive:
                self.highlight.update((f, stem + "*") for f in fields)
            return _any_field([wq.Prefix(f, stem, boost=FIELD_BOOSTS[f]) for f in fields])
        words = tokenize(leaf.text)
        if not words:
            return wq.NullQuery
        if len(words) > MAX_PHRASE_WORDS:
            raise QueryError(f"A phrase is too long (at most {MAX_PHRASE_WORDS} words).")
        fields = self.fields_of(leaf, words)
        if positive and leaf.kind == "word" and leaf.field is None and len(words) == 1:
            self.words.append(words[0])
        alternatives: list[list[str]] = [words]
        if leaf.kind == "word" and len(words) == 1:
            for name in self.synonyms.get(words[0], ()):
                alt = tokenize(name)
                if alt and alt not in alternatives:
                    alternatives.append(alt)
        elif leaf.kind == "word":  # "non-opioid" also matches "nonopioid"
            alternatives.extend([[c] for c in compounds(leaf.text)])
        # Synonyms (often 10-30 names) only where drugs are discussed, to bound the expansion.
        alt_fields = fields if leaf.field else tuple(f for f in SYNONYM_FIELDS if f in fields)
        queries = [_phrase(f, words) for f in fields]
        queries += [_phrase(f, alt) for alt in alternatives[1:] for f in alt_fields]
        if positive:
            for f in fields:
                for alt in alternatives if f in alt_fields else alternatives[:1]:
                    self.highlight.update(_highlight_terms(f, alt))
        return _any_field(queries)

    def facet(self, leaf: _Leaf) -> wq.Query:
        assert leaf.field is not None
        if leaf.kind == "prefix":
            raise QueryError(f"Wildcards are not supported in '{leaf.field}:'.")
        if leaf.kind == "range":
            values = _year_range(leaf.text)
        else:
            values = normalize_facet_values(
                leaf.field, [leaf.text], self.synonyms, self.normalizers
            )
        if not values:
            return wq.NullQuery
        return _any_field([wq.Term(facet_field(leaf.field), v) for v in values])


def _any_field(queries: list[wq.Query]) -> wq.Query:
    """One query, or an OR of several."""
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _phrase(fieldname: str, words: list[str]) -> wq.Query:
    """A word, or a phrase as the AND of its adjacent pairs in the field's pair index."""
    boost = FIELD_BOOSTS[fieldname]
    if len(words) == 1:
        return wq.Term(fieldname, words[0], boost=boost)
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    terms = [wq.Term(bigram_field(fieldname), p, boost=boost) for p in dict.fromkeys(pairs)]
    return terms[0] if len(terms) == 1 else wq.And(terms)


def _highlight_terms(fieldname: str, words: list[str]) -> list[tuple[str, str]]:
    """What to mark for a word or phrase: the word, or the phrase's adjacent pairs."""
    if len(words) == 1:
        return [(fieldname, words[0])]
    return [(fieldname, f"{a} {b}") for a, b in itertools.pairwise(words)]


def _year_range(text: str) -> tuple[str, ...]:
    """Years of a "[2013 TO 2015]" range (either end may be left open with *)."""
    m = _RANGE.fullmatch(text.strip())
    if not m:
        raise QueryError("Write a year range as year:[2013 TO 2015].")
    low, high = (None if v in ("", "*") else v for v in m.groups())
    if low is None or high is None:
        raise QueryError("A year range needs both ends, e.g. year:[2013 TO 2015].")
    if not (low.isdigit() and high.isdigit()):
        raise QueryError("A year range needs numbers, e.g. year:[2013 TO 2015].")
    lo, hi = int(low), int(high)
    if hi < lo or hi - lo > MAX_YEAR_SPAN:
        raise QueryError("That year range is empty or too wide.")
    return tuple(str(y) for y in range(lo, hi + 1))


def normalize_facet_values(
    facet: str,
    values: Sequence[str],
    synonyms: Synonyms | None = None,
    normalizers: Mapping[str, Normalizer] | None = None,
) -> tuple[str, ...]:
    """Casefolded facet values as indexed (brand drugs add their generic, states their name)."""
    out: list[str] = []
    normalize = (normalizers or {}).get(facet)
    for raw in values:
        value = " ".join(raw.split()).casefold()
        if not value:
            continue
        if facet == FACET_YEAR and not value.isdigit():
            raise QueryError(f"A year must be a number: '{raw}'.")
        out.append(value)
        if normalize is not None:
            norm = normalize(raw)
            if norm:
                out.append(norm.casefold())
        if facet == "drug" and synonyms:
            # A brand finds its generic (the first name), never a wider set: the drug facet
            # counts generics, and a value's count must equal what its filter returns.
            out.extend(n.casefold() for n in synonyms.get(value, ())[:1])
    return tuple(dict.fromkeys(out))


def normalize_filters(
    filters: Mapping[str, Sequence[str]],
    synonyms: Synonyms | None = None,
    normalizers: Mapping[str, Normalizer] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Checked filters {facet: casefolded values}; unknown facets are a QueryError."""
    out: dict[str, tuple[str, ...]] = {}
    for name, values in filters.items():
        facet = name.strip().lower()
        if facet not in FACETS:
            raise QueryError(f"Unknown filter '{name}'. Known filters: {', '.join(FACETS)}.")
        if isinstance(values, str):
            values = (values,)
        if len(values) > MAX_FILTER_VALUES:
            raise QueryError(f"Too many values for filter '{facet}' (at most {MAX_FILTER_VALUES}).")
        norm = normalize_facet_values(facet, values, synonyms, normalizers)
        if norm:
            out[facet] = tuple(dict.fromkeys(out.get(facet, ()) + norm))
    return out


def build_query(
    text: str,
    filters: Mapping[str, Sequence[str]] | None = None,
    *,
    synonyms: Synonyms | None = None,
    normalizers: Mapping[str, Normalizer] | None = None,
    treatments: frozenset[str] = frozenset(),
    scope: str = SCOPE_AUTO,
) -> ParsedQuery:
    """Parse query text and filters into a ParsedQuery; raises QueryError when refused.

    scope: "auto" (words naming a treatment, in `treatments` or `synonyms`, match only a
    decision's own text; other words also its letter's), "decision" or "letter" (all words).
    """
    if scope not in SCOPES:
        raise QueryError(f"Unknown scope '{scope}'. Use one of: {', '.join(SCOPES)}.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is too long (at most {MAX_QUERY_LENGTH} characters).")
    checked = normalize_filters(filters or {}, synonyms, normalizers)
    ast = _Parser(_lex(text)).parse()
    if ast is None:
        return ParsedQuery(wq.Every(), checked, text=text, scope=scope)
    builder = _Builder(synonyms or {}, normalizers or {}, treatments, scope)
    built = builder.build(ast).normalize()
    if isinstance(built, wq.Not):  # "NOT x" alone: everything except x
        built = wq.And([wq.Every(), built])
    return ParsedQuery(
        query=built,
        filters=checked,
        highlight=frozenset(builder.highlight),
        words=tuple(dict.fromkeys(builder.words)),
        text=text,
        empty=False,
        scope=scope,
        scoped=tuple(dict.fromkeys(builder.scoped)),
    )
