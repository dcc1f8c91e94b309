"""/api/openapi.json: a valid OpenAPI 3.1 document that the live app keeps to.

Like schemathesis, but bounded and deterministic: for every operation and parameter the
test derives valid and invalid values from the document itself (enum members, integer
bounds and one past them, long strings), calls the live app, and checks that the status is
one the document declares and that the body validates against that response's schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from test_web_support import web_index_dir

from web.app import create_app


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app({"INDEX_PATH": str(web_index_dir()), "REFRESH_INTERVAL": 0})


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.is_json
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture(scope="module")
def known_id(app: Flask) -> str:
    body = app.test_client().get("/api/search?q=tizanidine").get_json()
    det_id: str = body["results"][0]["id"]
    return det_id


def test_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_api_route_is_described(app: Flask, spec: dict[str, Any]) -> None:
    routes = {
        rule.rule.replace("<path:det_id>", "{id}").replace("<name>", "{name}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    assert routes == set(spec["paths"])


def check(client: FlaskClient, spec: dict[str, Any], path: str, url: str) -> int:
    """GET url; its status must be documented for path, its body must match the schema."""
    response = client.get(url)
    responses = spec["paths"][path]["get"]["responses"]
    status = str(response.status_code)
    assert status in responses, (url, status, response.get_data(as_text=True)[:300])
    schema = responses[status]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = sorted(validator.iter_errors(response.get_json()), key=str)
    assert not errors, (url, errors[0].message)
    return response.status_code


def cases(param: dict[str, Any]) -> Iterator[tuple[str, bool | None]]:
    """(value, valid?) pairs for one parameter, from its schema (None: either is fine)."""
    schema = param["schema"]
    kind = schema.get("type")
    if kind == "array":
        schema = schema["items"]
        kind = schema.get("type")
    if "pattern" in schema:
        for value in schema["examples"]:
            assert re.search(schema["pattern"], value)
            yield value, True
        assert not re.search(schema["pattern"], "pain")
        yield "pain", False
    elif "enum" in schema:
        for value in schema["enum"]:
            yield str(value), True
        yield "zzz-not-allowed", False
    elif kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 10)
        yield str(low), True
        yield str(min(high, low + 2)), True
        yield str(low - 1), False
        yield str(high + 1), False
        yield "x", False
    elif kind == "string":
        yield "pain", True
        if "maxLength" in schema:
            # At the length limit the engine may still refuse (e.g. too many terms): any
            # documented answer will do; one character more must be a 400.
            words = ("pain " * schema["maxLength"])[: schema["maxLength"]]
            yield words, None
            yield words + "x", False


def test_live_app_keeps_to_the_document(app: Flask, spec: dict[str, Any], known_id: str) -> None:
    client = app.test_client()
    calls = 0
    for path, item in spec["paths"].items():
        base = path.replace("{id}", quote(known_id)).replace("{name}", "drug")
        check(client, spec, path, base)
        for param in item["get"].get("parameters", []):
            if param["in"] != "query":
                continue
            for value, valid in cases(param):
                status = check(client, spec, path, f"{base}?{urlencode({param['name']: value})}")
                calls += 1
                if valid:
                    assert status == 200, (path, param["name"], value[:20])
                elif valid is False:
                    assert status == 400, (path, param["name"], value[:20])
        check(client, spec, path, f"{base}?not_a_parameter=1")
        if "{id}" in path:
            assert check(client, spec, path, path.replace("{id}", "no-such-id")) == 404
    assert calls > 100


def test_search_results_keep_to_the_hit_schema(app: Flask, spec: dict[str, Any]) -> None:
    client = app.test_client()
    for q in ("tizanidine", "lumbar spine", '"low back"', "pain NOT opioid"):
        assert check(client, spec, "/api/search", "/api/search?" + urlencode({"q": q})) == 200
    assert check(client, spec, "/api/search", "/api/search?q=(((") == 400
