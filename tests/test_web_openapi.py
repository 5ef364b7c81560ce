"""The OpenAPI document: valid OpenAPI 3.1, and the live API's answers conform to it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from web import create_app
from web.openapi import ERROR_CODES, openapi_document

SERVER = "http://localhost/api/v1"


@pytest.fixture(scope="module")
def api_app(samples_index):
    return create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                       "RATELIMIT": ""})


def test_document_is_valid_openapi_31(api_app):
    response = api_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_document_describes_every_endpoint(api_app):
    document = api_app.test_client().get("/api/v1/openapi.json").get_json()
    routes = {rule.rule.removeprefix("/api/v1").replace("<path:article_id>", "{id}")
              for rule in api_app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert routes == set(document["paths"])
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message", "field"]
    assert tuple(error["properties"]["code"]["enum"]) == ERROR_CODES


def test_server_url_follows_base_url(samples_index):
    app = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                      "RATELIMIT": "", "BASE_URL": "https://recherche.example.org/"})
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["servers"] == [{"url": "https://recherche.example.org/api/v1"}]


# The document as the app serves it (test_document_matches_served checks they are equal).
# Loaded from the dict rather than from a fixture: schemathesis' lazy fixture loader does
# not support this pytest version.
# Statuses: an address over 8,000 bytes is refused with 414 (invalid or not), and a valid
# value can still be refused with 400 (30 February, a bad date inside q).
CONFIG = schemathesis.Config.from_dict({"checks": {
    "negative_data_rejection": {"expected-statuses": [400, 404, 405, 413, 414, 429]},
    "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 400, 404, 414, 429]},
}})
schema = schemathesis.openapi.from_dict(openapi_document(server=SERVER), config=CONFIG)


def test_document_matches_served(api_app):
    served = api_app.test_client().get("/api/v1/openapi.json",
                                       base_url="http://localhost").get_json()
    assert served == openapi_document(server=SERVER)


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, api_app):
    case.call_and_validate(app=api_app)
