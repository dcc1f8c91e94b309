"""Atom feed of a search (/search.atom): its newest matching decisions, for alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request

from search.fields import SORT_NEWEST
from search.model import Determination
from search.results import Hit

from . import urls
from .app import current_index
from .plaintext import plain_text
from .urls import SearchState, parse_params

bp = Blueprint("feeds", __name__)

ATOM_NS: Final = "http://www.w3.org/2005/Atom"
FEED_LETTERS: Final = 50  # newest determinations per feed
EPOCH: Final = "1970-01-01T00:00:00Z"


def atom_time(day: str | None) -> str | None:
    """An ISO date ("2017-01-24") as an RFC 3339 timestamp, else None."""
    if not day:
        return None
    try:
        return dt.date.fromisoformat(day[:10]).isoformat() + "T00:00:00Z"
    except ValueError:
        return None


def feed_title(state: SearchState) -> str:
    """ "IMR decisions: tizanidine (drug: tizanidine; outcome: Overturned)"."""
    filters = "; ".join(f"{f}: {', '.join(v)}" for f, v in state.filters.items())
    what = " ".join(p for p in (state.q, f"({filters})" if filters else "") if p)
    return f"IMR decisions: {what}" if what else "IMR decisions: all"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element in the Atom namespace."""
    child = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def atom_feed(
    state: SearchState,
    hits: Sequence[Hit],
    fetch: Callable[[str], Determination | None],
    base_url: str,
) -> bytes:
    """The Atom document: one entry per matching decision, newest letters first."""
    base = base_url.rstrip("/")
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    page = base + urls.state_url(replace(state, page=1))
    self_url = base + urls.feed_url(state)
    _sub(feed, "id", self_url)
    _sub(feed, "title", feed_title(state))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=page)
    author = _sub(feed, "author")
    _sub(author, "name", "IMR Search")
    _sub(feed, "generator", "imr-search")
    updated = _sub(feed, "updated")
    newest: str | None = None
    for hit in hits:
        record = fetch(hit.id)
        when = atom_time(record.decision_date if record else None) or atom_time(hit.date_assigned)
        newest = max(newest or "", when or "") or None
        label = hit.case_number or hit.id
        for d in hit.decisions:
            anchor = base + urls.determination_url(hit.id, f"decision-{d.ordinal}")
            entry = _sub(feed, "entry")
            _sub(entry, "id", anchor)
            _sub(entry, "title", f"{d.outcome or 'Outcome not stated'}: {d.request} ({label})")
            _sub(entry, "link", rel="alternate", type="text/html", href=anchor)
            _sub(entry, "updated", when or EPOCH)
            if d.outcome:
                _sub(entry, "category", term=d.outcome, label=f"Outcome: {d.outcome}")
            if d.drug:
                _sub(entry, "category", term=d.drug, label=f"Drug: {d.drug}")
            facts = [f"Outcome: {d.outcome or 'not stated'}", f"Case: {label}"]
            if d.drug:
                facts.append(f"Drug: {d.drug}")
            passages = [plain_text(p) for p in d.highlights]
            _sub(entry, "summary", " · ".join(facts) + "".join(f"\n{p}" for p in passages))
    updated.text = newest or EPOCH
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


@bp.get("/search.atom")
def search_atom() -> Response:
    """The feed of the search in the query string (same parameters as /search)."""
    from .views import run_search

    state = parse_params(request.args)
    idx = current_index()
    newest = replace(state, sort=SORT_NEWEST, page=1, size=FEED_LETTERS)
    resp = run_search(idx, newest)  # a QueryError is the usual clean 400
    body = atom_feed(state, resp.results, idx.get, request.host_url)
    return Response(body, mimetype="application/atom+xml")
