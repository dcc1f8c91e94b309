"""The Atom feed of a search, read back by a real feed library, and plain-text highlights."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import feedparser
from flask.testing import FlaskClient

from web.plaintext import plain_passage


def parse(web_client: FlaskClient, query: str) -> feedparser.FeedParserDict:
    response = web_client.get(f"/search.atom?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_feed_is_valid_atom_with_one_entry_per_matching_decision(
    web_client: FlaskClient,
) -> None:
    query = urlencode({"q": "tizanidine", "outcome": "Overturned"})
    feed = parse(web_client, query)
    api = web_client.get(f"/api/search?{query}&sort=newest&size=50").get_json()
    expected = [
        (r["id"], d["ordinal"], d["outcome"]) for r in api["results"] for d in r["decisions"]
    ]
    assert expected and len(feed.entries) == len(expected)
    for entry, (det_id, ordinal, outcome) in zip(feed.entries, expected, strict=True):
        assert entry.link.endswith(f"/determinations/{det_id}#decision-{ordinal}")
        assert entry.id == entry.link
        assert entry.title.startswith(f"{outcome}: ")
        assert f"Outcome: {outcome}" in entry.summary
        assert "<mark>" not in entry.summary
    assert "tizanidine" in feed.feed.title and "Overturned" in feed.feed.title
    assert feed.feed.link.endswith("/search?" + query)


def test_feed_is_newest_first(web_client: FlaskClient) -> None:
    feed = parse(web_client, "q=pain")
    times = [e.updated for e in feed.entries if not e.updated.startswith("1970")]
    assert len(times) > 5 and times == sorted(times, reverse=True)
    assert feed.feed.updated == times[0]


def test_feed_escapes_the_query(web_client: FlaskClient) -> None:
    feed = parse(web_client, urlencode({"q": '<script>x</script> & "pain"'}))
    assert '<script>x</script> & "pain"' in feed.feed.title  # text, parsed back intact


def test_bad_query_is_400_not_a_feed(web_client: FlaskClient) -> None:
    assert web_client.get("/search.atom?q=(((").status_code == 400
    assert web_client.get("/search.atom?page=0").status_code == 400


def test_page_links_its_feed(web_client: FlaskClient) -> None:
    html = web_client.get("/search?q=tizanidine&outcome=Overturned&page=1&sort=oldest").get_data(
        as_text=True
    )
    href = "/search.atom?q=tizanidine&amp;outcome=Overturned"
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert html.count(f'href="{href}"') == 2  # the <link> and the visible link
    assert "Follow (Atom feed)" in html


def test_plain_passage_offsets() -> None:
    got = plain_passage("a <mark>Tizanidine</mark> &amp; <mark>low back</mark> &lt;x&gt;")
    assert got["text"] == "a Tizanidine & low back <x>"
    spans = [got["text"][s:e] for s, e in got["matches"]]
    assert spans == ["Tizanidine", "low back"]
    assert plain_passage("no marks")["matches"] == []
    assert plain_passage("<mark>open")["matches"] == [[0, 4]]


def test_api_gives_highlights_as_plain_text(web_client: FlaskClient) -> None:
    body = web_client.get("/api/search?q=tizanidine").get_json()
    decisions = [d for r in body["results"] for d in r["decisions"] if d["highlights"]]
    assert decisions
    for d in decisions:
        assert len(d["highlights_text"]) == len(d["highlights"])
        for plain in d["highlights_text"]:
            words = [plain["text"][s:e].lower() for s, e in plain["matches"]]
            assert words and all("tizanidine" in w or "zanaflex" in w for w in words)


def test_feed_module_is_plain_xml(tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    from web.feeds import atom_feed
    from web.urls import SearchState

    body = atom_feed(SearchState(q="x"), [], lambda _id: None, "http://h/")
    root = ET.fromstring(body)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.find("{http://www.w3.org/2005/Atom}updated") is not None
