"""/precedent and /api/precedent on a real index: similar decisions, outcome split, filters."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from test_web_support import web_index_dir

from search.engine.searcher import SearchIndex
from web.charts import wilson

TIZANIDINE = {
    "request": "Tizanidine 4mg #60",
    "summary": "Chronic low back pain with muscle spasms after a lifting injury; "
    "taking opioids and a muscle relaxant, spasms improved with it.",
}


def api(web_client: FlaskClient, **params: str) -> dict[str, object]:
    response = web_client.get("/api/precedent?" + urlencode(params))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, object] = response.get_json()
    return body


def test_similar_decisions_and_their_outcome_split(web_client: FlaskClient) -> None:
    body = api(web_client, **TIZANIDINE)
    results = body["results"]
    assert isinstance(results, list) and 5 <= len(results) <= 20
    assert "tizanidine" in body["words"]  # type: ignore[operator]
    assert results[0]["drug"] == "tizanidine"
    assert sum(r["drug"] == "tizanidine" for r in results[:5]) >= 4
    outcomes = body["outcomes"]
    assert isinstance(outcomes, dict)
    over = sum(r["outcome"] == "Overturned" for r in results)
    up = sum(r["outcome"] == "Upheld" for r in results)
    assert (outcomes["Overturned"], outcomes["Upheld"], outcomes["total"]) == (over, up, over + up)
    low, high = outcomes["interval_95"]
    assert (low, high) == pytest.approx(wilson(over, over + up))
    assert low <= outcomes["overturn_rate"] <= high
    for r in results:
        assert r["url"].endswith(f"#decision-{r['decision']}")
        for plain in r["highlights_text"]:
            assert all(0 <= s < e <= len(plain["text"]) for s, e in plain["matches"])
    assert any(r["highlights"] for r in results)  # the rationale passages that decided them


def test_filters_by_drug_service_and_year(web_client: FlaskClient) -> None:
    drug = api(web_client, **TIZANIDINE, drug="tizanidine")
    assert drug["results"] and all(r["drug"] == "tizanidine" for r in drug["results"])  # type: ignore[union-attr,index]
    mri = {"request": "MRI of the lumbar spine", "summary": "low back pain, radiculopathy"}
    category = api(web_client, **mri)["results"][0]["category"]  # type: ignore[index]
    assert category
    service = api(web_client, **mri, category=category)
    assert service["results"] and all(r["category"] == category for r in service["results"])  # type: ignore[union-attr,index]
    year = api(web_client, request="MRI of the lumbar spine", year="2017")
    assert year["results"] and all(r["year"] == 2017 for r in year["results"])  # type: ignore[union-attr,index]
    assert api(web_client, **TIZANIDINE, limit="3")["results"].__len__() == 3  # type: ignore[union-attr]


def test_finds_a_real_letters_own_decision_from_its_request_and_summary(
    web_client: FlaskClient,
) -> None:
    with SearchIndex.open(web_index_dir()) as idx:
        record = idx.get("CM17-0013077")
    assert record is not None
    summary = " ".join(record.section("case_summary").split()[:80])
    decision = record.decisions[1]
    body = api(web_client, request=decision.request, summary=summary, limit="5")
    top = [(r["id"], r["decision"]) for r in body["results"]]  # type: ignore[union-attr,index]
    assert ("CM17-0013077", decision.ordinal) in top


def test_bad_parameters(web_client: FlaskClient) -> None:
    unknown = web_client.get("/api/precedent?requst=x")
    assert unknown.status_code == 400 and "requst" in unknown.get_json()["error"]
    long = web_client.get("/api/precedent?" + urlencode({"summary": "x" * 6001}))
    assert long.status_code == 400 and "summary" in long.get_json()["error"]
    assert web_client.get("/api/precedent?limit=0").status_code == 400
    empty = api(web_client)
    assert empty["results"] == [] and empty["outcomes"]["total"] == 0  # type: ignore[index]


def test_page_shows_split_and_escapes_the_paste(web_client: FlaskClient) -> None:
    html = web_client.get("/precedent").get_data(as_text=True)
    assert "How did cases like mine go?" in html and 'name="summary"' in html
    page = web_client.get(
        "/precedent?" + urlencode({**TIZANIDINE, "summary": "<script>alert(1)</script> spasms"})
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert "Overturned in " in text and "95% interval" in text
    assert 'href="/determinations/' in text and "#decision-" in text


def test_the_drug_filter_is_typed_with_the_most_frequent_drugs_suggested(
    web_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drug filter is a text box with the drugs of most decisions suggested (a list of
    every drug is thousands of options at scale); a typed brand name finds its generic."""
    from web import precedent

    monkeypatch.setattr(precedent, "SUGGESTED", 3)
    counts = web_client.get("/api/search").get_json()["facets"]["drug"]
    html = web_client.get("/precedent?" + urlencode({**TIZANIDINE, "drug": "Zanaflex"}))
    page = html.get_data(as_text=True)
    assert '<select id="pf-drug"' not in page and '<select id="pf-year"' in page
    assert 'id="pf-drug" name="drug" type="text" list="pf-drug-values" value="Zanaflex"' in page
    datalist = page.split('<datalist id="pf-drug-values">')[1].split("</datalist>")[0]
    suggested = [part.split('"')[0] for part in datalist.split('<option value="')[1:]]
    assert len(counts) > 3 and suggested == list(counts)[:3]
    brand = api(web_client, **TIZANIDINE, drug="Zanaflex")
    assert brand["results"] and all(r["drug"] == "tizanidine" for r in brand["results"])  # type: ignore[union-attr,index]
