"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, jsonify

from search.fields import (
    DEFAULT_PAGE_SIZE,
    FACET_LABELS,
    FACET_YEAR,
    FACETS,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    OUTCOMES,
    SCOPES,
    SORTS,
)

from .api import MAX_FACET_SIZE
from .precedent import DEFAULT_LIMIT, MAX_LIMIT, MAX_REQUEST, MAX_SUMMARY, PRECEDENT_FILTERS
from .urls import MAX_VALUE_LENGTH
from .views import FACET_LISTED

bp = Blueprint("openapi", __name__)

VERSION: Final = "1.0.0"
STR: Final = {"type": "string"}
NSTR: Final = {"type": ["string", "null"]}
INT: Final = {"type": "integer"}
STRS: Final = {"type": "array", "items": STR}
YEAR_ITEM: Final = {"type": "string", "pattern": "^\\s*[0-9]+\\s*$", "examples": ["2017"]}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object schema: `required` keys must be present; more keys may be added later."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A GET parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def search_params(checked: bool = True) -> list[dict[str, Any]]:
    """The search state's GET parameters (the same on the pages and their JSON twins).

    checked=False: the search is context only (a determination's matches), so a year that is
    not a number is not refused there.
    """
    params = [
        query_param("q", {"type": "string", "maxLength": MAX_QUERY_LENGTH}, "query text"),
        query_param("sort", {"type": "string", "enum": list(SORTS)}, "order of letters"),
        query_param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "page"),
        query_param(
            "size",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE_SIZE,
                "default": DEFAULT_PAGE_SIZE,
            },
            "letters per page",
        ),
        query_param("scope", {"type": "string", "enum": list(SCOPES)}, "where words match"),
        query_param("literal", {"type": "integer", "enum": [0, 1]}, "1: no query understanding"),
    ]
    for facet in FACETS:
        item = YEAR_ITEM if facet == FACET_YEAR and checked else STR
        p = query_param(
            facet,
            {"type": "array", "items": item},
            f"{FACET_LABELS[facet]} filter (repeat to OR values)",
        )
        p.update(style="form", explode=True)
        params.append(p)
    return params


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS: Final = {
    "400": json_response(ref("Error"), "a bad or unknown parameter, or a query that cannot run"),
    "503": json_response(ref("Error"), "no index is available"),
}
NOT_FOUND: Final = {"404": json_response(ref("Error"), "no determination has this id")}
ID_PARAM: Final = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,100}$"},
}


def schemas() -> dict[str, Any]:
    """The component schemas."""
    passage_text = obj(
        {
            "text": STR,
            "matches": {
                "type": "array",
                "items": {"type": "array", "items": INT, "minItems": 2, "maxItems": 2},
            },
        }
    )
    decision_hit = obj(
        {
            "ordinal": INT,
            "request": STR,
            "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
            "drug": NSTR,
            "highlights": STRS,
        },
        {"highlights_text": {"type": "array", "items": ref("PlainPassage")}},
    )
    hit = obj(
        {
            "id": STR,
            "url": STR,
            "source": {"type": "string", "pattern": "^[^/\\\\]+$"},
            "score": {"type": "number"},
            "case_number": NSTR,
            "date_assigned": NSTR,
            "decision_date": NSTR,
            "states": STRS,
            "specialties": STRS,
            "highlights": STRS,
            "decisions": {"type": "array", "items": ref("DecisionHit")},
        },
        {"highlights_text": {"type": "array", "items": ref("PlainPassage")}},
    )
    counts = {
        "type": "object",
        "additionalProperties": {"type": "object", "additionalProperties": INT},
    }
    search = obj(
        {
            "query": STR,
            "filters": {"type": "object", "additionalProperties": STRS},
            "sort": {"type": "string", "enum": list(SORTS)},
            "page": INT,
            "size": INT,
            "total_determinations": INT,
            "total_decisions": INT,
            "facets": counts,
            "facet_values_total": {"type": "object", "additionalProperties": INT},
            "suggestion": NSTR,
            "results": {"type": "array", "items": ref("Hit")},
        }
    )
    decision = obj(
        {"ordinal": INT, "request": STR, "outcome": NSTR, "drug": NSTR, "rationale": STR}
    )
    determination = obj(
        {
            "id": STR,
            "source": {"type": "string", "pattern": "^[^/\\\\]+$"},
            "case_number": NSTR,
            "decisions": {"type": "array", "items": ref("Decision")},
        },
        {"year": {"type": ["integer", "null"]}, "search": {"type": "object"}},
    )
    similar = obj({"id": STR, "results": {"type": "array", "items": ref("Hit")}})
    bar = obj(
        {
            "value": STR,
            "total": INT,
            "overturned": INT,
            "upheld": INT,
            "rate": {"type": "number"},
            "low": {"type": "number"},
            "high": {"type": "number"},
        }
    )
    charts = obj(
        {
            "query": STR,
            "filters": {"type": "object", "additionalProperties": STRS},
            "outcome_filter_ignored": {"type": "boolean"},
        }
    )
    precedent = obj(
        {
            "request": STR,
            "summary": STR,
            "filters": {"type": "object", "additionalProperties": STRS},
            "limit": INT,
            "words": STRS,
            "outcomes": obj(
                {
                    "Overturned": INT,
                    "Upheld": INT,
                    "total": INT,
                    "overturn_rate": {"type": ["number", "null"]},
                    "interval_95": {
                        "type": ["array", "null"],
                        "items": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                }
            ),
            "results": {
                "type": "array",
                "items": obj(
                    {
                        "id": STR,
                        "url": STR,
                        "case_number": NSTR,
                        "decision": INT,
                        "request": STR,
                        "outcome": NSTR,
                        "drug": NSTR,
                        "category": NSTR,
                        "year": {"type": ["integer", "null"]},
                        "highlights": STRS,
                        "highlights_text": {"type": "array", "items": ref("PlainPassage")},
                    }
                ),
            },
        }
    )
    facet_list = obj(
        {
            "facet": {"type": "string", "enum": list(FACETS)},
            "query": STR,
            "filters": {"type": "object", "additionalProperties": STRS},
            "fq": STR,
            "total_values": INT,
            "matching_values": INT,
            "values": {
                "type": "array",
                "items": obj({"value": STR, "count": INT, "selected": {"type": "boolean"}}),
            },
        }
    )
    return {
        "Error": obj({"error": STR}),
        "FacetValues": facet_list,
        "PlainPassage": passage_text,
        "DecisionHit": decision_hit,
        "Hit": hit,
        "SearchResponse": search,
        "Decision": decision,
        "Determination": determination,
        "Similar": similar,
        "Bar": bar,
        "Charts": charts,
        "Precedent": precedent,
    }


def openapi() -> dict[str, Any]:
    """The whole OpenAPI document."""
    precedent_params = [
        query_param(
            "request", {"type": "string", "maxLength": MAX_REQUEST}, "the disputed request"
        ),
        query_param(
            "summary",
            {"type": "string", "maxLength": MAX_SUMMARY},
            "clinical summary or UR denial text",
        ),
        query_param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "decisions to list",
        ),
    ]
    for facet in PRECEDENT_FILTERS:
        p = query_param(
            facet,
            {"type": "array", "items": STR},
            f"only decisions of this {FACET_LABELS[facet].lower()}",
        )
        p.update(style="form", explode=True)
        precedent_params.append(p)
    flag = {"type": "integer", "enum": [0, 1]}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IMR Search JSON API",
            "version": VERSION,
            "description": "Search California IMR final determinations. Every page has a "
            "JSON twin with the same GET parameters; unknown parameters are refused with 400.",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search decisions",
                    "parameters": [
                        *search_params(),
                        query_param(
                            "facet_size",
                            {
                                "type": "string",
                                "pattern": f"^([0-9]{{1,4}}|{MAX_FACET_SIZE}|all)$",
                                "examples": ["20", "all"],
                                "default": str(FACET_LISTED),
                            },
                            "values listed per facet, most decisions first (all: every one)",
                        ),
                    ],
                    "responses": {
                        "200": json_response(
                            ref("SearchResponse"), "one page of results and facet counts"
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/facets/{name}": {
                "get": {
                    "operationId": "facet",
                    "summary": "Every value of one facet for a search",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(FACETS)},
                        },
                        *search_params(),
                        query_param(
                            "fq",
                            {"type": "string", "maxLength": MAX_VALUE_LENGTH},
                            "only values containing these words",
                        ),
                    ],
                    "responses": {
                        "200": json_response(ref("FacetValues"), "the facet's values"),
                        **ERRORS,
                        "404": json_response(ref("Error"), "no facet has this name"),
                    },
                }
            },
            "/api/charts": {
                "get": {
                    "operationId": "charts",
                    "summary": "Overturn rates per facet value",
                    "parameters": search_params(),
                    "responses": {
                        "200": json_response(ref("Charts"), "the numbers of /charts"),
                        **ERRORS,
                    },
                }
            },
            "/api/determinations/{id}": {
                "get": {
                    "operationId": "determination",
                    "summary": "One parsed determination",
                    "parameters": [ID_PARAM, *search_params(checked=False)],
                    "responses": {
                        "200": json_response(ref("Determination"), "the record"),
                        **ERRORS,
                        **NOT_FOUND,
                    },
                }
            },
            "/api/determinations/{id}/similar": {
                "get": {
                    "operationId": "similar",
                    "summary": "Similar determinations",
                    "parameters": [
                        ID_PARAM,
                        query_param("same_drug", flag, "1: only letters with one of its drugs"),
                        query_param(
                            "same_outcome", flag, "1: only letters with one of its outcomes"
                        ),
                        query_param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                            "how many",
                        ),
                    ],
                    "responses": {
                        "200": json_response(ref("Similar"), "the most similar letters"),
                        **ERRORS,
                        **NOT_FOUND,
                    },
                }
            },
            "/api/precedent": {
                "get": {
                    "operationId": "precedent",
                    "summary": "How did cases like mine go?",
                    "parameters": precedent_params,
                    "responses": {
                        "200": json_response(
                            ref("Precedent"), "similar decisions and their outcome split"
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "responses": {"200": json_response({"type": "object"}, "the OpenAPI document")},
                }
            },
        },
        "components": {"schemas": schemas()},
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI description."""
    return jsonify(openapi())
