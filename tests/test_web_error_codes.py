"""docs/web.md's table of error codes is what the API answers: each documented pair of code
and status is provoked and checked, and every code the OpenAPI document lists is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web import create_app
from web.openapi import ERROR_CODES

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(\w+)` \| (\d{3}) \|", re.M)

# A request provoking each documented (code, status), and how (method, path, body).
PROVOKED = {
    ("invalid_parameter", 400): ("GET", "/api/v1/search?per_page=500", None),
    ("invalid_query", 400): ("GET", "/api/v1/search?q=depuis:2024-13-45", None),
    ("too_large", 400): ("GET", "/api/v1/search?q=" + "x" * 1001, None),
    ("too_large", 413): ("GET", "/api/v1/search", "x" * 20_000),
    ("not_found", 404): ("GET", "/api/v1/articles/nope", None),
    ("method_not_allowed", 405): ("POST", "/api/v1/search", None),
    ("uri_too_long", 414): ("GET", "/api/v1/search?q=" + "x" * 8100, None),
    ("rate_limited", 429): ("GET", "/api/v1/search?q=limited", None),
    ("invalid_host", 400): ("GET", "/api/v1/search?q=haifa", None),
}
# Answered by furet-serve's worker or at the deadline: provoked through the real server in
# test_web_hardening.py and test_reliability_serving.py.
NOT_PROVOKED_HERE = {("index_unavailable", 503), ("internal_error", 500),
                     ("invalid_request", 400), ("request_timeout", 408), ("too_large", 431),
                     ("server_timeout", 503), ("search_timeout", 504)}


def _documented() -> set[tuple[str, int]]:
    text = (ROOT / "docs" / "web.md").read_text("utf-8")
    errors = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    return {(code, int(status)) for code, status in ROW.findall(errors)}


def test_every_code_is_documented_with_its_statuses():
    documented = _documented()
    assert {code for code, _ in documented} == set(ERROR_CODES)
    assert documented == set(PROVOKED) | NOT_PROVOKED_HERE


@pytest.mark.parametrize(("code", "status"), sorted(PROVOKED))
def test_the_api_answers_the_documented_status(samples_index, code, status):
    client = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                         "RATELIMIT": "1/minute", "ALLOWED_HOSTS": "localhost"}).test_client()
    method, path, body = PROVOKED[(code, status)]
    if code == "rate_limited":
        client.get(path)
    host = "ailleurs.example" if code == "invalid_host" else "localhost"
    response = client.open(path, method=method, data=body, headers={"Host": host})
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_no_index_answers_the_documented_status(tmp_path):
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none"),
                         "QUERY_LOG": ""}).test_client()
    response = client.get("/api/v1/search?q=haifa")
    assert (response.get_json()["error"]["code"], response.status_code) == (
        "index_unavailable", 503)
