"""Hostile requests, and what readers see when the index is missing or damaged.

- Fuzzing: raw query strings and paths built byte by byte (quotes, operators, control
  characters, 10,000-character values, 1,000 parameters, invalid percent-encoding, bytes
  that are not UTF-8), passed to the app as a WSGI server would (QUERY_STRING and PATH_INFO
  decoded as latin-1). Never a 5xx; under /api/ always the documented error shape, elsewhere
  a French HTML page. (tests/test_web_openapi.py fuzzes the API within its OpenAPI
  document; this goes below it, at the level of bytes.)
- Unavailable: with no index, then with CURRENT pointing at a damaged build, the site shows
  « Recherche indisponible » with 503 and the API answers 503 `index_unavailable`; after
  `furet-index build` both recover without a restart. `furet-index check` reports the damage.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search.whoosh.layout import BUILDS, CURRENT
from tests.conftest import DATA, ROOT
from web import create_app
from web.errors import UNAVAILABLE_FRENCH
from web.openapi import ERROR_CODES

pytestmark = pytest.mark.reliability

RESULT_KEYS = ["query", "total", "total_is_exact", "page", "per_page", "took_ms", "hits",
               "facets", "suggestion", "corrected", "timeline", "synonyms", "pinned"]
ENDPOINTS = ["/api/v1/search", "/api/v1/suggest", "/recherche", "/recherche.atom", "/"]
NAMES = ["q", "page", "per_page", "sort", "section", "author", "year", "month", "from", "to",
         "tri", "rubrique", "auteur", "annee", "mois"]
HOSTILE = ['"', '""', "'", "(((", ")", "-", "--", "NOT", "OR", "OU", "AND", "ET", "SAUF", "*",
           "a*", "**", "titre:", 'auteur:"', "rubrique:", "depuis:2024-13", "avant:", ":",
           "\x00", "\x1b[31m", "\u202e", "\ufeff", "\ud800", "%", "%%", "%zz", "%ff", "%C3",
           "%ED%A0%80", "&", "=", "+", ";", "#", "\r\n", "\t", "<script>", "Haïfa", "ÉTATS",
           "l’attaque", "２０２４", "\U0001f600"]
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def fuzz_client(samples_index):
    app = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                      "RATELIMIT": ""})
    return app.test_client()


def _encode(text: str, how: str) -> bytes:
    """`text` as it may stand in a request line: percent-encoded, or raw printable ASCII."""
    if how == "utf-8":  # a lone surrogate gives bytes that are not UTF-8
        return quote(text.encode("utf-8", "surrogatepass"), safe="").encode("ascii")
    if how == "latin-1":  # what an old form sends: %E9 for é, not UTF-8 either
        return quote(text.encode("latin-1", "replace"), safe="").encode("ascii")
    return bytes(b for b in text.encode("utf-8", "surrogatepass")  # (not ASCII: dropped)
                 if 0x21 <= b <= 0x7E and b != 0x23)


texts = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE)),
                 max_size=8).map("".join)
encodings = st.sampled_from(["utf-8", "latin-1", "raw"])
values = st.one_of(
    st.tuples(texts, encodings).map(lambda t: _encode(*t)),
    st.binary(max_size=24).map(lambda b: quote(b, safe="").encode("ascii")),
    st.tuples(st.sampled_from(["a", "%C3%A9", "%22", "%", "%ff", "x+"]),
              st.sampled_from([999, 1000, 1001, 2000, 10_000])).map(
        lambda t: (t[0] * t[1]).encode("ascii")),
)
names = st.one_of(st.sampled_from(NAMES).map(str.encode),
                  st.tuples(texts, encodings).map(lambda t: _encode(*t)))
pairs = st.lists(st.tuples(names, values), max_size=10)
many = st.tuples(st.sampled_from(NAMES).map(str.encode), values,
                 st.integers(min_value=20, max_value=1000)).map(lambda t: [t[:2]] * t[2])
# Query strings as gunicorn passes them on: it refuses request lines with raw bytes outside
# printable ASCII (400, before the app), so anything else arrives percent-encoded.
query_strings = st.one_of(pairs, pairs, many).map(
    lambda items: b"&".join(name + b"=" + value for name, value in items))


def test_raw_non_utf8_bytes_in_the_query_string(fuzz_client):
    for endpoint in ENDPOINTS:
        response = fuzz_client.get(endpoint, environ_overrides={"QUERY_STRING": "q=caf\xe9"})
        check_response(endpoint, response)


def check_response(path: str, response) -> None:
    """No 5xx; the API's error shape under /api/, a French HTML page elsewhere."""
    status = response.status_code
    assert status < 500, (path, status, response.data[:500])
    assert status in (200, 400, 404, 413, 414), (path, status)
    if path.startswith("/api/"):
        body = json.loads(response.data)
        if status >= 400:
            assert response.mimetype == "application/json"
            assert list(body) == ["error"] and list(body["error"]) == ["code", "message", "field"]
            error = body["error"]
            assert error["code"] in ERROR_CODES, error
            assert isinstance(error["message"], str) and error["message"], error
            assert "Traceback" not in error["message"]
            assert error["field"] is None or isinstance(error["field"], str), error
        elif path == "/api/v1/search":
            assert list(body) == RESULT_KEYS
        else:
            assert isinstance(body, list) and len(body) == 5 and isinstance(body[1], list)
        return
    if path.endswith(".atom") and status == 200:
        assert response.mimetype == "application/atom+xml"
        ET.fromstring(response.data)
        return
    assert response.mimetype == "text/html", (path, status, response.mimetype)
    html = response.get_data(as_text=True)
    assert re.match(r"(?i)<!doctype html>", html) and '<html lang="fr"' in html, html[:200]
    if status >= 400:
        assert BeautifulSoup(html, "html.parser").h1.get_text(strip=True), html[:500]


@pytest.mark.slow
@SETTINGS
@given(endpoint=st.sampled_from(ENDPOINTS), query=query_strings)
@example(endpoint="/recherche", query=b"q=" + b"a" * 10_000)
@example(endpoint="/api/v1/search", query=b"q=" + "é".encode() * 3_000)
@example(endpoint="/api/v1/search", query=b"q=" + b"x" * 1001)
@example(endpoint="/api/v1/search", query=b"&".join([b"a=1"] * 1000))
@example(endpoint="/recherche", query=b"&".join([b"rubrique=x"] * 1000))
@example(endpoint="/api/v1/search", query=b"&".join([b"author=%ff"] * 1000))
@example(endpoint="/api/v1/search", query=b"q=%&page=%zz&sort=%C3%28")
@example(endpoint="/recherche", query=b"q=%ff%fe%00&tri=%e9")
@example(endpoint="/api/v1/suggest", query=b"q=%ED%A0%80")
@example(endpoint="/recherche.atom", query=b'q="(((NOT-OR*titre:')
@example(endpoint="/api/v1/search", query=b"q=%00%01%1b%7f&section=%0a&year=%00")
@example(endpoint="/api/v1/search", query=b"q=depuis:99999-99 avant:0000")
def test_hostile_query_strings(fuzz_client, endpoint, query):
    response = fuzz_client.get(endpoint, environ_overrides={"QUERY_STRING": query.decode(
        "latin-1")})
    check_response(endpoint, response)


# PATH_INFO is the path once percent-decoded: any bytes, as latin-1 (PEP 3333).
paths = st.one_of(st.binary(max_size=40), texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
                  texts.map(lambda t: _encode(t, "utf-8")))


@SETTINGS
@given(prefix=st.sampled_from(["/api/v1/articles/", "/article/", "/api/v1/", "/"]),
       path=paths, related=st.booleans())
@example(prefix="/api/v1/articles/", path=b"\xff\xfe", related=True)
@example(prefix="/article/", path=b"..%2f..%2fetc%2fpasswd", related=False)
@example(prefix="/api/v1/articles/", path=b"%ED%A0%80", related=False)
def test_hostile_paths(fuzz_client, prefix, path, related):
    raw = prefix.encode() + path + (b"/related" if related else b"")
    response = fuzz_client.get("/", environ_overrides={"PATH_INFO": raw.decode("latin-1")})
    check_response(raw.decode("latin-1"), response)


# ----------------------------------------------------------------- missing or damaged index


@pytest.fixture(scope="module")
def good_build(tmp_path_factory) -> Path:
    """The folder of one complete build of tests/data/articles, to copy and damage."""
    from tests.indexing import build

    index_dir = tmp_path_factory.mktemp("good-index")
    build(index_dir, [DATA / "articles"])
    return index_dir / os.readlink(index_dir / CURRENT)


def _only(build: Path, pattern: str) -> Path:
    (found,) = build.glob(pattern)
    return found


def _truncate(path: Path, keep: Callable[[int], int]) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:keep(len(data))])


def _garble(path: Path, start: float, length: int) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(7)
    first = int(len(data) * start)
    for n in range(first, min(len(data), first + length)):
        data[n] = rng.randrange(256)
    path.write_bytes(bytes(data))


DAMAGES = {
    "toc-garbled": lambda b: _garble(_only(b, "*.toc"), 0.3, 200),
    "seg-half-truncated": lambda b: _truncate(_only(b, "*.seg"), lambda n: n // 2),
    "seg-garbled-head": lambda b: _garble(_only(b, "*.seg"), 0.0, 4000),
    "seg-missing": lambda b: _only(b, "*.seg").unlink(),
    "whoosh-files-missing": lambda b: [p.unlink() for p in [*b.glob("*.seg"), *b.glob("*.toc")]],
    "toc-empty": lambda b: _only(b, "*.toc").write_bytes(b""),
    "toc-half-truncated": lambda b: _truncate(_only(b, "*.toc"), lambda n: n // 2),
    "seg-empty": lambda b: _only(b, "*.seg").write_bytes(b""),
    "seg-tail-truncated": lambda b: _truncate(_only(b, "*.seg"), lambda n: n - 100),
}
# One damage stands for all in the fast tier (-m "not slow"); each of them takes a second or more.
DAMAGE_PARAMS = [pytest.param(name, marks=() if name == "seg-half-truncated" else pytest.mark.slow)
                 for name in DAMAGES]


def install_damaged(good: Path, index_dir: Path, damage: str) -> Path:
    """Copy `good` into index_dir as a build, damage it, and point CURRENT at it."""
    build = index_dir / BUILDS / f"damaged-{damage}"
    shutil.copytree(good, build)
    DAMAGES[damage](build)
    (index_dir / "CURRENT.tmp").symlink_to(os.path.join(BUILDS, build.name))
    os.replace(index_dir / "CURRENT.tmp", index_dir / CURRENT)
    return build


def assert_unavailable_page(status: int, headers, html: str) -> None:
    assert status == 503, html[:300]
    page = BeautifulSoup(html, "html.parser")
    assert page.html["lang"] == "fr"
    assert page.h1.get_text(strip=True) == "Recherche indisponible"
    assert UNAVAILABLE_FRENCH in page.get_text(" ")
    assert headers["Retry-After"] == "60" and headers["Cache-Control"] == "no-store"
    assert "Traceback" not in html


def assert_unavailable_api(status: int, body: bytes) -> str:
    assert status == 503, body[:300]
    error = json.loads(body)["error"]
    assert error["code"] == "index_unavailable" and error["field"] is None
    assert error["message"] and "Traceback" not in error["message"]
    return error["message"]


def furet_index(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# Opening a damaged build fails inside Whoosh with the segment's file still open; it is
# closed by the garbage collector, which warns.
unclosed_files = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")


@unclosed_files
@pytest.mark.parametrize("damage", DAMAGE_PARAMS)
def test_missing_then_damaged_then_rebuilt(tmp_path, good_build, damage):
    index_dir = tmp_path / "index"
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                         "RATELIMIT": ""}).test_client()

    def unavailable() -> None:
        for url in ("/recherche?q=haifa", "/"):
            page = client.get(url)
            assert_unavailable_page(page.status_code, page.headers, page.get_data(as_text=True))
        for url in ("/api/v1/search?q=haifa", "/api/v1/health", "/api/v1/suggest?q=hai"):
            api = client.get(url)
            assert_unavailable_api(api.status_code, api.data)

    unavailable()  # no index yet
    index_dir.mkdir()
    install_damaged(good_build, index_dir, damage)
    unavailable()
    check = furet_index("check", "--index-dir", str(index_dir))
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr
    assert f"damaged-{damage}" in check.stderr, check.stderr

    built = furet_index("build", str(DATA / "articles"), "--index-dir", str(index_dir))
    assert built.returncode == 0, built.stderr
    api = client.get("/api/v1/search?q=haifa")  # the same app: no restart
    assert api.status_code == 200 and api.get_json()["total"] >= 1
    page = client.get("/recherche?q=haifa")
    assert page.status_code == 200 and "<mark>Haïfa</mark>" in page.get_data(as_text=True)
    assert furet_index("check", "--index-dir", str(index_dir)).returncode == 0


@unclosed_files
@pytest.mark.parametrize("damage", ["seg-half-truncated", "toc-garbled"])
def test_damaged_index_messages_say_how_to_rebuild(tmp_path, good_build, damage, caplog):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    install_damaged(good_build, index_dir, damage)
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                         "RATELIMIT": ""}).test_client()
    check = furet_index("check", "--index-dir", str(index_dir))
    response = client.get("/api/v1/search?q=haifa")
    assert "furet-index build" in check.stderr, check.stderr
    # The log says what to run; the client learns neither paths nor exception text.
    message = assert_unavailable_api(response.status_code, response.data)
    assert message == ("the search is unavailable: the index cannot be read; try again later "
                       "(the server log says why)")
    assert "furet-index build" in caplog.text and str(index_dir) in caplog.text


def _fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.slow
def test_real_server_unavailable_then_recovers(furet_server, tmp_path, good_build):
    index_dir = tmp_path / "index"
    server = furet_server(index_dir, workers=2, env={"FURET_RATELIMIT": ""})

    def unavailable() -> None:
        for _ in range(4):  # both workers
            status, headers, body = _fetch(server.url + "/recherche?q=haifa")
            assert_unavailable_page(status, headers, body.decode("utf-8"))
            assert headers["Content-Type"].startswith("text/html")
            status, _, body = _fetch(server.url + "/api/v1/search?q=haifa")
            assert_unavailable_api(status, body)

    unavailable()
    index_dir.mkdir()
    install_damaged(good_build, index_dir, "seg-half-truncated")
    unavailable()
    assert furet_index("build", str(DATA / "articles"), "--index-dir",
                       str(index_dir)).returncode == 0
    for _ in range(4):
        status, _, body = _fetch(server.url + "/api/v1/search?q=haifa")
        assert status == 200 and json.loads(body)["total"] >= 1
        status, _, body = _fetch(server.url + "/recherche?q=haifa")
        assert status == 200 and "<mark>Haïfa</mark>" in body.decode("utf-8")
    assert server.stop() == 0
    assert "Traceback" not in server.stderr()
