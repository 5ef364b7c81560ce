"""The site's answers that an attacker could bend: a search past its deadline, absolute
links taken from the Host header, and what an unavailable index tells clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.indexing import build
from tests.test_web_api import assert_error
from web import create_app
from web.settings import SettingError, load_settings

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of tests/data/articles, built for these tests."""
    index_dir = tmp_path_factory.mktemp("small") / "index"
    assert build(index_dir, [DATA / "articles"]).rejected == 0
    return index_dir


def client_of(index_dir: Path, **config: str):
    return create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                       "RATELIMIT": "", **config}).test_client()


# -- the deadline


def test_a_search_past_its_deadline_is_a_504_in_the_error_shape(small_index, caplog):
    client = client_of(small_index, SEARCH_TIMEOUT="0.000000001")
    message = assert_error(client.get("/api/v1/search?q=haifa"), 504, "search_timeout", "q")
    assert "took longer than its 1e-09 s budget" in message
    assert_error(client.get("/api/v1/suggest?q=hai"), 504, "search_timeout", "q")
    page = client.get("/recherche?q=haifa")
    assert page.status_code == 504 and page.headers["Cache-Control"] == "no-store"
    html = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert html.html["lang"] == "fr" and html.h1.get_text(strip=True) == "Recherche trop longue"
    assert "Traceback" not in page.get_data(as_text=True)
    assert client.get("/api/v1/health").status_code == 200  # no search: no deadline
    assert "GET /api/v1/search?q=haifa stopped: the search took longer" in caplog.text
    assert client_of(small_index).get("/api/v1/search?q=haifa").status_code == 200


@pytest.mark.parametrize("value", ["0", "-1", "601", "vite"])
def test_search_timeout_setting_is_checked(value):
    with pytest.raises(SettingError, match="FURET_SEARCH_TIMEOUT"):
        load_settings(environ={"FURET_SEARCH_TIMEOUT": value})


# -- the Host header


HOST_BOUND = ["/opensearch.xml", "/recherche.atom?q=haifa", "/api/v1/openapi.json"]


@pytest.mark.parametrize("url", HOST_BOUND)
def test_links_taken_from_host_say_vary_host(small_index, url):
    client = client_of(small_index)
    answer = client.get(url, headers={"Host": "attaquant.example"})
    assert answer.status_code == 200
    assert "attaquant.example" in answer.get_data(as_text=True)
    assert "Host" in answer.headers["Vary"]  # a cache keeps one copy per host
    revalidated = client.get(url, headers={"Host": "attaquant.example",
                                           "If-None-Match": answer.headers["ETag"]})
    assert revalidated.status_code == 304 and "Host" in revalidated.headers["Vary"]


@pytest.mark.parametrize("url", HOST_BOUND)
def test_base_url_makes_links_ignore_the_host_header(small_index, url):
    client = client_of(small_index, BASE_URL="https://recherche.example.org")
    answer = client.get(url, headers={"Host": "attaquant.example"})
    body = answer.get_data(as_text=True)
    assert "https://recherche.example.org" in body and "attaquant" not in body
    assert "Host" not in answer.headers.get("Vary", "")


def test_allowed_hosts_refuse_other_hosts(small_index):
    client = client_of(small_index, ALLOWED_HOSTS="recherche.example.org, .exemple.fr")
    for host in ("recherche.example.org", "RECHERCHE.example.org:8443", "www.exemple.fr",
                 "exemple.fr"):
        assert client.get("/api/v1/search?q=haifa", headers={"Host": host}).status_code == 200
    for host in ("attaquant.example", "exemple.fr.attaquant.example", "127.0.0.1:8000"):
        message = assert_error(client.get("/api/v1/search?q=haifa", headers={"Host": host}),
                               400, "invalid_host")
        assert "use recherche.example.org" in message
        page = client.get("/opensearch.xml", headers={"Host": host})
        assert page.status_code == 400 and "ne répond pas" in page.get_data(as_text=True)
    # A load balancer checks health by address.
    assert client.get("/api/v1/health", headers={"Host": "10.1.2.3:8000"}).status_code == 200


@pytest.mark.parametrize("value", ["exemple.fr/chemin", "a b", "exemple.fr:port"])
def test_allowed_hosts_setting_is_checked(value):
    with pytest.raises(SettingError, match="FURET_ALLOWED_HOSTS"):
        load_settings(environ={"FURET_ALLOWED_HOSTS": value})


# -- what an unavailable index tells clients


def test_an_unreadable_index_tells_clients_no_path(tmp_path, caplog):
    index_dir = tmp_path / "index"
    assert build(index_dir, [DATA / "articles"]).rejected == 0
    for segment in (index_dir / "CURRENT").glob("*.seg"):
        segment.write_bytes(b"\0" * 64)  # damaged before anything opened it
    client = client_of(index_dir)
    message = assert_error(client.get("/api/v1/search?q=haifa"), 503, "index_unavailable")
    page = client.get("/recherche?q=haifa").get_data(as_text=True)
    for shown in (message, page):
        assert str(tmp_path) not in shown and "Error" not in shown and "rebuild" not in shown
    assert str(index_dir) in caplog.text and "furet-index build" in caplog.text
