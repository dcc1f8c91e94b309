"""CSV export columns (from the parsed records) and download names that name the search."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask.testing import FlaskClient
from test_web_support import web_index_dir

from search.engine.searcher import SearchIndex
from web.export import COLUMNS, RATIONALE_CHARS, export_filename
from web.urls import SearchState


def rows(web_client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = web_client.get(f"/search.csv?{query}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_csv_columns_come_from_the_records(web_client: FlaskClient) -> None:
    got = rows(web_client, urlencode({"q": "lumbar"}))
    assert got
    with SearchIndex.open(web_index_dir()) as idx:
        for row in got:
            record = idx.get(row["id"])
            assert record is not None
            d = next(x for x in record.decisions if x.ordinal == int(row["decision"]))
            assert row["year"] == (str(record.year) if record.year else "")
            assert row["decision_date"] == (record.decision_date or "")
            assert row["drug_class"] == (d.drug_class or "")
            assert row["category"] == (d.category or "")
            assert row["region"] == "; ".join(d.regions)
            assert row["ur_modified"] == ("yes" if d.ur_modified else "no")
            folded = " ".join((d.rationale or "").split())
            assert row["rationale"].lstrip("'") == folded[:RATIONALE_CHARS]
    assert any(len(r["rationale"]) == RATIONALE_CHARS for r in got)
    assert any(r["year"] == "2017" for r in got)  # the real letters carry their year
    assert any(r["category"] for r in got)


def test_download_name_names_the_search(web_client: FlaskClient) -> None:
    response = web_client.get("/search.csv?" + urlencode({"q": 'tizanidine "low back"'}))
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="imr-search_tizanidine-low-back.csv"'
    assert export_filename(SearchState()) == "imr-search_all.csv"
    named = export_filename(
        SearchState(q="x", filters={"outcome": ("Overturned",), "drug": ("a/b", "c")})
    )
    assert named == "imr-search_x_outcome-Overturned_drug-a-b-c.csv"
    long = export_filename(SearchState(q="word " * 100))
    assert len(long) <= len("imr-search_.csv") + 80 and long.endswith("word.csv")
    odd = export_filename(SearchState(q='"; rm -rf / ü'))
    assert odd == "imr-search_rm-rf.csv"
