"""The web app through Flask's test client, on a real index: every route, parameter and error."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import web_index_dir

from search.engine.searcher import SearchIndex
from search.fields import (
    FACET_LABELS,
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    SECTION_LABELS,
)
from search.results import SearchRequest
from web.app import SECURITY_HEADERS, create_app
from web.plaintext import add_plain_highlights
from web.reader import DECISION_SECTIONS

SECTION_ANCHOR = re.compile(r'id="(section-[a-z_]+(?:-\d+)?)"')


@pytest.fixture(scope="session")
def index_path() -> Path:
    return web_index_dir()


@pytest.fixture(scope="session")
def app(index_path: Path) -> Flask:
    return create_app({"INDEX_PATH": str(index_path), "REFRESH_INTERVAL": 0})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def idx(index_path: Path) -> SearchIndex:
    return SearchIndex.open(str(index_path))


@pytest.fixture(scope="session")
def everything(idx: SearchIndex) -> Any:
    """The browse response (all determinations) with a large page."""
    return idx.search(SearchRequest(size=MAX_PAGE_SIZE))


@pytest.fixture(scope="session")
def drug_values(everything: Any) -> list[str]:
    """Drug facet values, most frequent first (at least two)."""
    counts = everything.facets.get("drug", {})
    values = sorted(counts, key=lambda v: -counts[v])
    assert len(values) >= 2, counts
    return values


@pytest.fixture(scope="session")
def with_decisions(everything: Any) -> Any:
    """A hit whose letter has at least one decision."""
    return next(h for h in everything.results if h.decisions)


def body(response: Any) -> str:
    text: str = response.get_data(as_text=True)
    return text


# --- every response carries the security headers -------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/search?q=tizanidine",
        "/search?page=0",
        "/charts",
        "/search.csv?q=tizanidine",
        "/api/search",
        "/api/determinations/nope",
        "/determinations/nope",
        "/no/such/page",
        "/static/style.css",
        "/static/copy.js",
    ],
)
def test_security_headers(client: FlaskClient, url: str) -> None:
    with client.get(url) as response:
        response.get_data()
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (url, name)
    csp = response.headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp


def test_static_assets(client: FlaskClient) -> None:
    with client.get("/static/style.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
    with client.get("/static/copy.js") as js:
        assert js.mimetype in ("text/javascript", "application/javascript")
    for url in ("/static/favicon.svg", "/favicon.ico"):
        with client.get(url) as icon:
            assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


# --- search page --------------------------------------------------------------------------


def test_browse_shows_everything(client: FlaskClient, idx: SearchIndex) -> None:
    for url in ("/", "/search", "/search?q=&utm_source=x"):
        response = client.get(url)
        assert response.status_code == 200
        html = body(response)
        determinations, _ = idx.doc_count()
        assert f"<strong>{determinations:,}</strong> determination" in html
        assert "Browsing every determination" in html
        assert 'class="skip-link" href="#main"' in html
        assert '<label class="search-label" for="q">' in html
        assert '<main id="main"' in html


def test_search_page_results_facets_and_highlights(client: FlaskClient, everything: Any) -> None:
    response = client.get("/search?q=tizanidine")
    assert response.status_code == 200
    html = body(response)
    assert "<mark>" in html
    assert 'value="tizanidine"' in html
    assert 'class="badge badge-' in html
    assert ">Overturned<" in html or ">Upheld<" in html
    for facet in ("outcome", "drug"):
        assert f'id="facet-{facet}"' in html
        assert FACET_LABELS[facet] in html
    assert 'href="/search?q=tizanidine&amp;sort=newest"' in html
    assert 'href="/search.csv?q=tizanidine"' in html
    assert 'href="/charts?q=tizanidine"' in html


def test_facet_filters_chips_and_counts(
    client: FlaskClient, idx: SearchIndex, drug_values: list[str]
) -> None:
    first, second = drug_values[:2]
    one = idx.search(SearchRequest(filters={"drug": (first,)}))
    both = idx.search(SearchRequest(filters={"drug": (first, second)}))
    html = body(client.get("/search?" + urlencode({"drug": first})))
    assert f"<strong>{one.total_determinations:,}</strong>" in html
    assert 'class="chip"' in html and first in html
    assert 'class="facet-option is-active"' in html
    html2 = body(client.get("/search?" + urlencode([("drug", first), ("drug", second)])))
    assert f"<strong>{both.total_determinations:,}</strong>" in html2
    assert html2.count('class="chip"') == 2
    assert "Clear all filters" in html2
    # the remove link of the first chip leaves only the second value
    assert f'href="/search?{urlencode({"drug": second})}"' in html2
    # counts follow the query: a facet value's count is the engine's for this query
    resp = idx.search(SearchRequest(q="tizanidine"))
    html3 = body(client.get("/search?q=tizanidine"))
    for value, count in list(resp.facets.get("outcome", {}).items()):
        assert re.search(
            rf'facet-value">{re.escape(value)}</span>\s*<span class="facet-count">{count}<', html3
        )


def test_unknown_facet_names_are_ignored_by_the_page(client: FlaskClient) -> None:
    plain = body(client.get("/search?q=tizanidine"))
    tagged = body(client.get("/search?q=tizanidine&colour=blue&drugs=x"))
    assert "ignored: <code>colour</code>, <code>drugs</code>" in tagged
    assert plain.count('class="hit"') == tagged.count('class="hit"') > 0


def test_sort_and_pages(client: FlaskClient, idx: SearchIndex, everything: Any) -> None:
    assert everything.total_determinations > 2
    html = body(client.get("/search?size=1&sort=newest&page=2"))
    assert 'aria-current="page"' in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert 'href="/search?sort=newest&amp;size=1"' in html  # page 1 drops the page parameter
    last = everything.total_determinations
    html_last = body(client.get(f"/search?size=1&page={last}"))
    assert 'rel="next"' not in html_last
    past = client.get(f"/search?size=1&page={last + 5}")
    assert past.status_code == 200
    assert "Nothing on page" in body(past)


def test_no_results_explained(client: FlaskClient) -> None:
    response = client.get("/search?q=zzqqxxnotaword")
    assert response.status_code == 200
    html = body(response)
    assert "No determination matches" in html
    assert "Browse all determinations" in html


def test_did_you_mean(client: FlaskClient, idx: SearchIndex) -> None:
    resp = idx.search(SearchRequest(q="tizanidien"))
    if resp.suggestion is None:
        pytest.skip("the engine offers no suggestion for this misspelling")
    html = body(client.get("/search?q=tizanidien"))
    assert "Did you mean" in html
    assert f'href="/search?{urlencode({"q": resp.suggestion})}"' in html


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        (f"page={MAX_PAGE + 1}", "page"),
        ("size=0", "size"),
        (f"size={MAX_PAGE_SIZE + 1}", "size"),
        ("size=1e3", "size"),
        ("sort=random", "sort"),
        ("q=" + "a" * (MAX_QUERY_LENGTH + 1), "q"),
        ("drug=" + "d" * 300, "drug"),
    ],
)
@pytest.mark.parametrize("path", ["/search", "/charts", "/search.csv", "/api/search"])
def test_bad_parameters_are_400_naming_the_parameter(
    client: FlaskClient, path: str, query: str, param: str
) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.is_json
        assert response.get_json()["error"].startswith(f"Parameter {param}:")
    else:
        assert f"Parameter {param}:" in body(response)
        assert response.mimetype == "text/html"


def _bad_query(idx: SearchIndex) -> str:
    """A query the engine refuses with a QueryError."""
    from search.results import QueryError

    for q in ('"unclosed', "(tizanidine", "drug:", "AND", "tizanidine OR", "nosuchfield:x", "*"):
        try:
            idx.search(SearchRequest(q=q))
        except QueryError:
            return q
    pytest.skip("the engine accepts every candidate bad query")


def test_bad_query_is_400_with_engine_message(client: FlaskClient, idx: SearchIndex) -> None:
    from search.results import QueryError

    q = _bad_query(idx)
    with pytest.raises(QueryError) as info:
        idx.search(SearchRequest(q=q))
    message = str(info.value)
    response = client.get("/search?" + urlencode({"q": q}))
    assert response.status_code == 400
    html = body(response)
    assert "This search could not be run" in html
    assert str(escape_html(message)) in html
    api = client.get("/api/search?" + urlencode({"q": q}))
    assert api.status_code == 400 and api.get_json() == {"error": message}
    assert client.get("/charts?" + urlencode({"q": q})).status_code == 400
    assert client.get("/search.csv?" + urlencode({"q": q})).status_code == 400


def escape_html(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_reflected_query_is_escaped(client: FlaskClient) -> None:
    payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for path in ("/search", "/charts"):
        html = body(client.get(path + "?" + urlencode({"q": payload, "drug": payload})))
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_external_requests(client: FlaskClient, with_decisions: Any) -> None:
    for url in ("/", "/search?q=tizanidine", "/charts", f"/determinations/{with_decisions.id}"):
        html = body(client.get(url))
        assert not re.search(r'(src|href)="(https?:)?//', html), url
        assert "<style" not in html and " style=" not in html  # CSP: no inline styles
        assert re.findall(r"<script[^>]*>", html) == [
            '<script src="/static/copy.js" defer>',
            '<script src="/static/facets.js" defer>',
        ]


# --- determination page -------------------------------------------------------------------


def test_determination_page(client: FlaskClient, idx: SearchIndex, with_decisions: Any) -> None:
    record = idx.get(with_decisions.id)
    assert record is not None
    response = client.get(f"/determinations/{record.id}")
    assert response.status_code == 200
    html = body(response)
    for d in record.decisions:
        assert f'id="decision-{d.ordinal}"' in html
        assert f'href="#decision-{d.ordinal}" data-copy-link' in html
        if d.drug:
            assert f'href="/search?{urlencode({"drug": d.drug})}"' in html
        if d.outcome:
            assert f'href="/search?{urlencode({"outcome": d.outcome})}"' in html
    # each decision once: the decisions' own sections are shown as the decision items
    keys = [s.key for s in record.sections]
    shown = [
        k
        for i, k in enumerate(keys)
        if k not in DECISION_SECTIONS or not any(other in DECISION_SECTIONS for other in keys[:i])
    ]
    anchors = SECTION_ANCHOR.findall(html)
    assert anchors and len(anchors) == len(set(anchors)) == len(shown)
    for key in shown:
        assert SECTION_LABELS[key] in html
    for state in record.reviewer.states:
        assert f'href="/search?{urlencode({"state": state})}"' in html
    for specialty in record.reviewer.specialties:
        assert f'href="/search?{urlencode({"specialty": specialty})}"' in html
    assert 'id="similar"' in html
    similar = idx.similar(record.id, limit=10) or []
    for hit in similar:
        assert f'href="/determinations/{hit.id}"' in html
    assert f'href="/api/determinations/{record.id}"' in html


def test_determination_similar_options(client: FlaskClient, with_decisions: Any) -> None:
    url = f"/determinations/{with_decisions.id}"
    html = body(client.get(url + "?same_drug=1&same_outcome=1"))
    assert f'href="{url}?same_outcome=1#similar"' in html  # turning "same drug" off
    assert f'href="{url}?same_drug=1#similar"' in html
    assert client.get(url + "?same_drug=maybe").status_code == 400


@pytest.mark.parametrize(
    "det_id",
    ["no-such-id", "x" * 100, "x" * 101, "..", "..%2F..%2Fetc%2Fpasswd", "a%00b", "%C3%A9", "a b"],
)
def test_unknown_or_invalid_ids_are_friendly_404(client: FlaskClient, det_id: str) -> None:
    response = client.get(f"/determinations/{det_id}")
    assert response.status_code == 404
    assert "No determination" in body(response)
    assert "Go to the search page" in body(response)
    api = client.get(f"/api/determinations/{det_id}")
    assert api.status_code == 404 and "error" in api.get_json()
    similar = client.get(f"/api/determinations/{det_id}/similar")
    assert similar.status_code == 404 and "error" in similar.get_json()


def test_path_traversal_ids(client: FlaskClient) -> None:
    for url in ("/determinations/../../etc/passwd", "/determinations/a/b", "/determinations/"):
        assert client.get(url).status_code == 404


# --- JSON twins ---------------------------------------------------------------------------


def test_api_search_is_search_response_json(client: FlaskClient, idx: SearchIndex) -> None:
    response = client.get("/api/search?q=tizanidine&sort=newest&size=3")
    assert response.status_code == 200 and response.is_json
    expected = idx.search(SearchRequest(q="tizanidine", sort="newest", size=3)).to_json()
    for result in expected["results"]:  # the API shows file names, not server paths
        result["source"] = Path(result["source"]).name
    add_plain_highlights(expected["results"])  # and highlights also as plain text
    # every facet has fewer values than the 100 listed: all are there, and counted
    expected["facet_values_total"] = {f: len(expected["facets"].get(f, {})) for f in FACETS}
    assert response.get_json() == json.loads(json.dumps(expected))


def test_api_determination_and_similar(
    client: FlaskClient, idx: SearchIndex, with_decisions: Any
) -> None:
    record = idx.get(with_decisions.id)
    assert record is not None
    got = client.get(f"/api/determinations/{record.id}")
    assert got.status_code == 200
    expected = {**record.to_dict(), "source": Path(record.source).name}
    assert got.get_json() == json.loads(json.dumps(expected))
    similar = client.get(f"/api/determinations/{record.id}/similar?limit=3&same_outcome=1")
    assert similar.status_code == 200
    data = similar.get_json()
    expected = idx.similar(record.id, same_outcome=True, limit=3) or []
    assert data["id"] == record.id
    assert [h["id"] for h in data["results"]] == [h.id for h in expected]
    for bad in ("limit=0", "limit=51", "limit=x", "same_drug=2"):
        err = client.get(f"/api/determinations/{record.id}/similar?{bad}")
        assert err.status_code == 400 and "error" in err.get_json()


def test_api_unknown_route_and_method(client: FlaskClient) -> None:
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and "error" in missing.get_json()
    post = client.post("/api/search")
    assert post.status_code == 405 and "error" in post.get_json()
    page = client.post("/search")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]


# --- CSV export ---------------------------------------------------------------------------


def csv_rows(response: Any) -> list[dict[str, str]]:
    text = body(response)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_export_all_pages(index_path: Path, idx: SearchIndex, everything: Any) -> None:
    app = create_app({"INDEX_PATH": str(index_path), "EXPORT_PAGE_SIZE": 2})
    response = app.test_client().get("/search.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert len(rows) == sum(len(h.decisions) for h in everything.results)
    assert len({r["id"] for r in rows}) == len([h for h in everything.results if h.decisions])
    first = rows[0]
    assert first["url"].startswith("http://localhost/determinations/")
    assert re.search(r"#decision-\d+$", first["url"])
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_export_follows_filters_and_cap(
    index_path: Path, client: FlaskClient, drug_values: list[str]
) -> None:
    rows = csv_rows(client.get("/search.csv?" + urlencode({"drug": drug_values[0]})))
    assert rows and all(r["drug"] == drug_values[0] for r in rows)
    capped = create_app({"INDEX_PATH": str(index_path), "EXPORT_MAX_ROWS": 3})
    response = capped.test_client().get("/search.csv")
    assert len(csv_rows(response)) == 3
    assert response.headers["X-Export-Truncated"] == "first 3 rows"


# --- charts -------------------------------------------------------------------------------


def test_charts_page(client: FlaskClient, idx: SearchIndex, drug_values: list[str]) -> None:
    response = client.get("/charts")
    assert response.status_code == 200
    html = body(response)
    assert html.count('role="img"') >= 2
    assert "<title id=" in html and "<desc id=" in html
    assert "Overturn rate by drug" in html
    everything = idx.search(SearchRequest(size=1))
    over = idx.search(SearchRequest(size=1, filters={"outcome": ("Overturned",)}))
    value = drug_values[0]
    total = everything.facets["drug"][value]
    overturned = over.facets.get("drug", {}).get(value, 0)
    assert f"{overturned} of {total} overturned" in html
    filtered = body(client.get("/charts?" + urlencode({"drug": value, "outcome": "Upheld"})))
    assert "The outcome filter is left out here" in filtered
    assert 'href="/charts"' in filtered  # the chip removes the filter and stays on /charts


def test_charts_nothing_to_chart(client: FlaskClient) -> None:
    html = body(client.get("/charts?q=zzqqxxnotaword"))
    assert "Nothing to chart" in html


# --- errors -------------------------------------------------------------------------------


def test_500_is_a_friendly_page(index_path: Path) -> None:
    app = create_app({"INDEX_PATH": str(index_path)})

    def boom() -> str:
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = body(response)
    assert "Something went wrong" in html and "secret detail" not in html
    assert response.headers["X-Frame-Options"] == "DENY"
    api = app.test_client().get("/api/boom")
    assert api.status_code == 500 and api.get_json() == {
        "error": "The server hit an unexpected error. Please try again."
    }


def test_missing_index_is_503(tmp_path: Path) -> None:
    app = create_app({"INDEX_PATH": str(tmp_path / "none")})
    response = app.test_client().get("/")
    assert response.status_code == 503
    assert "imr-search index" in body(response)
    assert app.test_client().get("/api/search").get_json()["error"]


def test_index_is_reused(app: Flask) -> None:
    holder = app.extensions["imr_search_index"]
    with app.test_client() as c:
        c.get("/")
        first = holder.get()
        c.get("/search?q=tizanidine")
    assert holder.get() is first


def test_unknown_parameters_are_shown_on_the_page_and_refused_by_the_api(client: Any) -> None:
    page = client.get("/search?q=pain&outcom=Upheld")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ignored: <code>outcom</code>" in text
    assert "ignored:" not in client.get("/search?q=pain&outcome=Upheld").get_data(as_text=True)
    api = client.get("/api/search?outcom=Upheld&q=pain&tracking=1")
    assert api.status_code == 400
    assert "outcom" in api.get_json()["error"] and "tracking" in api.get_json()["error"]
    assert client.get("/api/search?outcome=Upheld").status_code == 200


def test_api_never_shows_server_paths(client: Any) -> None:
    body = client.get("/api/search?size=100").get_json()
    sources = [r["source"] for r in body["results"]]
    assert sources and all("/" not in s and "\\\\" not in s for s in sources)
    assert all(s.endswith(".txt") for s in sources)
    first = body["results"][0]["id"]
    record = client.get(f"/api/determinations/{first}").get_json()
    assert "/" not in record["source"] and record["source"].endswith(".txt")


def test_browsing_is_labelled_with_the_sort_it_uses(client: Any) -> None:
    body = client.get("/api/search").get_json()
    assert body["sort"] == "newest"
    # The sort key: the decision date where the letter states it, else the date assigned.
    dates = [d for r in body["results"] if (d := r["decision_date"] or r["date_assigned"])]
    assert dates == sorted(dates, reverse=True)
    page = client.get("/search").get_data(as_text=True)
    assert 'aria-current="true">Newest</a>' in page
    assert ">Relevance</a>" not in page and "newest first" in page
    ranked = client.get("/search?q=pain").get_data(as_text=True)
    assert 'aria-current="true">Relevance</a>' in ranked


def test_unclosed_parenthesis_is_named(client: Any) -> None:
    response = client.get("/api/search?q=(((")
    assert response.status_code == 400
    assert "Unclosed parenthesis" in response.get_json()["error"]
