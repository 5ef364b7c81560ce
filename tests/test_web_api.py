"""The JSON API v1 through the Flask test client: shapes, parameters, errors, caching, CORS."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from web import create_app

HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
HAIFA_HTML = ("https://www.exemple-actu.fr/economie/2024/01/12/"
              "mediterranee-orientale-assureurs-maritimes-primes-haifa")
RESULT_KEYS = ["query", "total", "total_is_exact", "page", "per_page", "took_ms", "hits",
               "facets", "suggestion", "corrected", "timeline", "synonyms", "pinned"]
HIT_KEYS = ["id", "url", "title", "title_html", "snippet_html", "published", "section",
            "authors", "score"]
ARTICLE_KEYS = ["id", "url", "title", "lead", "body", "published", "modified", "section",
                "authors", "tags", "lang"]
DATA = Path(__file__).parent / "data"


def assert_error(response, status: int, code: str, field: str | None = None) -> str:
    """The response is the error shape with this status, code and field; returns the message."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert list(body["error"]) == ["code", "message", "field"]
    assert body["error"]["code"] == code
    assert body["error"]["field"] == field
    message = body["error"]["message"]
    assert message and "Traceback" not in message
    return message


# -- shapes


def test_search_shape(client):
    response = client.get("/api/v1/search?q=haifa")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == RESULT_KEYS
    assert body["query"] == "haifa"
    assert body["total"] == 2 and body["total_is_exact"] is True
    assert (body["page"], body["per_page"]) == (1, 10)
    assert body["suggestion"] is None and body["corrected"] is False
    assert {hit["id"] for hit in body["hits"]} == {HAIFA_TXT, HAIFA_HTML}
    for hit in body["hits"]:
        assert list(hit) == HIT_KEYS
    assert any("<mark>Haïfa</mark>" in hit["snippet_html"] for hit in body["hits"])
    assert {"section", "author", "year"} <= set(body["facets"])
    for values in body["facets"].values():
        for value in values:
            assert list(value) == ["value", "count"]
    assert {"value": "2024", "count": 2} in body["facets"]["year"]
    assert "Haïfa".encode() in response.data  # UTF-8, not \u escapes


def test_search_matches_library(client, samples_index):
    from search import open_index, search

    expected = search(open_index(samples_index), "haifa").to_json()
    body = client.get("/api/v1/search?q=haifa").get_json()
    expected["took_ms"] = body["took_ms"]
    assert body == expected


def test_empty_query_browses_everything_newest_first(client):
    body = client.get("/api/v1/search?per_page=100").get_json()
    health = client.get("/api/v1/health").get_json()
    assert body["total"] == health["documents"] > 2
    dates = [hit["published"][:10] for hit in body["hits"] if hit["published"]]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("query, check", [
    ("section=Économie", lambda h: h["section"] == "Économie"),
    ("author=Karim+Benali", lambda h: "Karim Benali" in h["authors"]),
    ("year=2024", lambda h: h["published"].startswith("2024")),
    ("year=2023&year=2024", lambda h: h["published"][:4] in ("2023", "2024")),
    ("month=2024-01", lambda h: h["published"].startswith("2024-01")),
    ("from=2024-01-10", lambda h: h["published"][:10] >= "2024-01-10"),
    ("to=2023", lambda h: h["published"][:4] <= "2023"),
    ("from=2024-01&to=2024-01", lambda h: h["published"].startswith("2024-01")),
])
def test_filters(client, query, check):
    body = client.get(f"/api/v1/search?per_page=100&{query}").get_json()
    assert body["total"] > 0
    assert len(body["hits"]) == body["total"]
    assert all(check(hit) for hit in body["hits"]), query


def test_month_facet_with_one_year(client):
    body = client.get("/api/v1/search?year=2024").get_json()
    assert body["facets"]["month"]
    assert all(v["value"].startswith("2024-") for v in body["facets"]["month"])


@pytest.mark.parametrize("sort, reverse", [("newest", True), ("oldest", False)])
def test_sort_by_date(client, sort, reverse):
    body = client.get(f"/api/v1/search?q=etats-unis&sort={sort}&per_page=100").get_json()
    dates = [hit["published"] for hit in body["hits"] if hit["published"]]
    assert len(dates) > 3
    assert [d[:10] for d in dates] == sorted((d[:10] for d in dates), reverse=reverse)


def test_paging(client):
    everything = client.get("/api/v1/search?q=etats-unis&per_page=100").get_json()
    second = client.get("/api/v1/search?q=etats-unis&per_page=2&page=2").get_json()
    assert (second["page"], second["per_page"]) == (2, 2)
    assert [h["id"] for h in second["hits"]] == [h["id"] for h in everything["hits"][2:4]]


def test_correction(client):
    body = client.get("/api/v1/search?q=hiafa").get_json()
    assert body["query"] == "hiafa"
    assert body["suggestion"] == "haïfa"
    assert body["corrected"] is True
    assert body["total"] == 2


def test_suggest(client):
    response = client.get("/api/v1/suggest?q=hai")
    assert response.status_code == 200
    assert response.mimetype == "application/x-suggestions+json"
    typed, completions, descriptions, addresses, extra = response.get_json(force=True)
    assert typed == "hai"
    assert "haïfa" in completions
    assert len(completions) == len(descriptions) == len(addresses) == len(extra["furet:kinds"])
    empty = ["", [], [], [], {"furet:kinds": []}]
    assert client.get("/api/v1/suggest?q=").get_json(force=True) == empty
    assert client.get("/api/v1/suggest").get_json(force=True) == empty


def test_suggestions_say_which_are_articles(client):
    """Titles are articles to open, not words to search for: the OpenSearch format's
    descriptions and addresses say so, and an additive object names each kind."""
    typed, texts, descriptions, addresses, extra = client.get(
        "/api/v1/suggest?q=dinosau").get_json(force=True)
    kinds = extra["furet:kinds"]
    assert kinds == ["word", "article"]
    assert texts[0] == "dinosaures" and texts[1].startswith("Paléontologie")
    assert descriptions == ["", "Article"]
    assert addresses[0] == "http://localhost/recherche?q=dinosaures"
    assert addresses[1].startswith("http://localhost/article/")
    page = client.get(addresses[1].removeprefix("http://localhost"))
    assert page.status_code == 200 and "Paléontologie" in page.get_data(as_text=True)


@pytest.mark.parametrize("article_id", [HAIFA_TXT, HAIFA_HTML])
def test_article(client, article_id):
    response = client.get("/api/v1/articles/" + quote(article_id, safe=""))
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ARTICLE_KEYS
    assert body["id"] == article_id
    assert "Haïfa" in body["title"]
    assert "\n\n" in body["body"]
    # Unencoded slashes work too, double slash of https:// included.
    assert client.get("/api/v1/articles/" + article_id).get_json() == body


def test_related(client):
    body = client.get("/api/v1/articles/" + quote(HAIFA_TXT, safe="") + "/related").get_json()
    assert list(body) == ["id", "hits"]
    assert body["id"] == HAIFA_TXT
    ids = [hit["id"] for hit in body["hits"]]
    assert HAIFA_TXT not in ids
    assert HAIFA_HTML in ids
    for hit in body["hits"]:
        assert list(hit) == HIT_KEYS


def test_health(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["status", "documents", "generation", "last_update"]
    assert body["status"] == "ok"
    assert body["documents"] >= 40
    assert body["last_update"].endswith("+00:00")
    assert response.headers["Cache-Control"] == "no-store"


# -- errors


@pytest.mark.parametrize("query, status, code, field, says", [
    ("page=abc", 400, "invalid_parameter", "page", ["'abc'", "1 to 1000"]),
    ("page=0", 400, "invalid_parameter", "page", ["'0'"]),
    ("page=1001", 400, "invalid_parameter", "page", ["1001"]),
    ("page=²", 400, "invalid_parameter", "page", ["'²'"]),
    ("per_page=101", 400, "invalid_parameter", "per_page", ["101", "1 to 100"]),
    ("per_page=-1", 400, "invalid_parameter", "per_page", ["'-1'"]),
    ("sort=best", 400, "invalid_parameter", "sort", ["'best'", "relevance, newest, oldest"]),
    ("year=24", 400, "invalid_parameter", "year", ["'24'", "2024"]),
    ("year=deux", 400, "invalid_parameter", "year", ["'deux'"]),
    ("month=2024-13", 400, "invalid_parameter", "month", ["'2024-13'", "2024-01"]),
    ("from=2024-02-30", 400, "invalid_parameter", "from", ["'2024-02-30'", "2024-01-15"]),
    ("to=hier", 400, "invalid_parameter", "to", ["'hier'"]),
    ("q=depuis:2024-13", 400, "invalid_query", "q", ["2024-13"]),
    ("q=" + "x" * 1001, 400, "too_large", "q", ["1,001", "1,000"]),
    ("section=" + "x" * 201, 400, "too_large", "section", ["200"]),
    ("author=a&" * 21, 400, "invalid_parameter", "author", ["20"]),
])
def test_bad_parameters(client, query, status, code, field, says):
    message = assert_error(client.get("/api/v1/search?" + query), status, code, field)
    assert message.startswith(f"{field}:") or code == "invalid_query"
    for words in says:
        assert words in message


def test_unknown_endpoint(client):
    message = assert_error(client.get("/api/v1/nope"), 404, "not_found")
    assert "/api/v1/openapi.json" in message


def test_unknown_article(client):
    message = assert_error(client.get("/api/v1/articles/nope"), 404, "not_found")
    assert "'nope'" in message
    assert_error(client.get("/api/v1/articles/nope/related"), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_method_not_allowed(client, method):
    response = getattr(client, method)("/api/v1/search?q=haifa")
    message = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in message
    assert "GET" in response.headers["Allow"]


def test_uri_too_long(client):
    message = assert_error(client.get("/api/v1/search?q=" + "a" * 9000), 414, "uri_too_long")
    assert "8,000" in message


def test_body_too_large(client):
    assert_error(client.get("/api/v1/search", data="x" * 20_000), 413, "too_large")


def test_internal_error_is_logged_not_shown(app, client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("search.whoosh.backend.WhooshBackend.search", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/search?q=haifa")
    message = assert_error(response, 500, "internal_error")
    assert "secret" not in message and b"secret" not in response.data
    assert any(r.exc_info and "secret detail" in str(r.exc_info[1]) for r in caplog.records)
    page = client.get("/recherche?q=haifa")
    assert page.status_code == 500 and b"secret" not in page.data
    assert "Erreur interne" in page.get_data(as_text=True)


# -- no index yet, then one


def test_unavailable_then_recovers(tmp_path, caplog):
    index_dir = tmp_path / "index"
    app = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                      "RATELIMIT": ""})
    client = app.test_client()
    message = assert_error(client.get("/api/v1/health"), 503, "index_unavailable")
    # Clients learn what, not where: the path and the command to run are for the log.
    assert "no index has been built yet" in message and str(tmp_path) not in message
    assert "furet-index build" in caplog.text and str(index_dir) in caplog.text
    assert_error(client.get("/api/v1/search?q=haifa"), 503, "index_unavailable")
    assert client.get("/api/v1/health").headers["Retry-After"] == "60"
    page = client.get("/recherche?q=haifa")
    assert page.status_code == 503
    assert "indisponible" in page.get_data(as_text=True)

    from tests.indexing import build

    build(index_dir, [DATA / "articles"])
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/search?q=haifa").get_json()["total"] >= 1


# -- caching


def test_etag_and_304(client):
    first = client.get("/api/v1/search?q=haifa")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/search?q=haifa", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    # The same search written differently has the same ETag; another search another one.
    same = client.get("/api/v1/search?q=haifa&page=1&sort=relevance")
    assert same.headers["ETag"] == etag
    assert client.get("/api/v1/search?q=gaza").headers["ETag"] != etag
    for url in ("/api/v1/suggest?q=hai", "/api/v1/articles/" + quote(HAIFA_TXT, safe=""),
                "/api/v1/openapi.json", "/recherche?q=haifa", "/"):
        tag = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": tag}).status_code == 304, url


def test_etag_follows_index_generation(tmp_path):
    from tests.indexing import update

    articles = tmp_path / "articles"
    shutil.copytree(DATA / "articles", articles)
    index_dir = tmp_path / "index"
    update(index_dir, [articles])
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                         "RATELIMIT": ""}).test_client()
    before = client.get("/api/v1/search?q=funambule")
    assert before.get_json()["total"] == 0
    (articles / "new.jsonl").write_text(
        '{"id": "t-new", "title": "Le funambule", "body": "Un funambule traverse.", '
        '"published": "2024-05-01", "section": "Culture", "authors": ["Zoë Martin"]}\n',
        encoding="utf-8")
    update(index_dir, [articles])
    after = client.get("/api/v1/search?q=funambule",
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["total"] == 1
    assert after.headers["ETag"] != before.headers["ETag"]


# -- CORS, OPTIONS, rate limit, query log


def test_cors(client):
    response = client.get("/api/v1/search?q=haifa")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert client.get("/api/v1/nope").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v1/search", headers={
        "Origin": "https://outil.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/recherche?q=haifa").headers


def _limited_client(samples_index, **settings):
    return create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                       "RATELIMIT": "2/minute", **settings}).test_client()


def test_rate_limit(samples_index):
    client = _limited_client(samples_index)
    assert client.get("/api/v1/search?q=haifa").status_code == 200
    assert client.get("/api/v1/articles/" + quote(HAIFA_TXT, safe="")).status_code == 200
    response = client.get("/api/v1/search?q=gaza")
    message = assert_error(response, 429, "rate_limited")
    assert "2 per 1 minute" in message
    assert int(response.headers["Retry-After"]) > 0
    assert client.options("/api/v1/search").status_code == 200  # preflights are free
    assert client.get("/recherche?q=gaza").status_code == 200  # pages are not limited


def test_suggestions_have_a_budget_of_their_own(samples_index):
    client = _limited_client(samples_index, SUGGEST_RATELIMIT="3/minute")
    for prefix in ("ha", "hai", "haï"):  # a reader typing
        assert client.get(f"/api/v1/suggest?q={prefix}").status_code == 200
    assert client.get("/api/v1/search?q=haifa").status_code == 200  # searches unaffected
    assert client.get("/api/v1/search?q=gaza").status_code == 200
    assert "3 per 1 minute" in assert_error(client.get("/api/v1/suggest?q=haïf"), 429,
                                            "rate_limited")
    assert_error(client.get("/api/v1/search?q=rafah"), 429, "rate_limited")


def test_health_checks_are_never_limited(samples_index):
    client = _limited_client(samples_index, RATELIMIT="1/minute", SUGGEST_RATELIMIT="1/minute")
    client.get("/api/v1/search?q=haifa")
    client.get("/api/v1/suggest?q=hai")
    for _ in range(20):
        response = client.get("/api/v1/health")
        assert response.status_code == 200
        assert "X-RateLimit-Remaining" not in response.headers


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "counted"), [
    ("127.0.0.1", "127.0.0.1", "203.0.113.7", "203.0.113.7"),  # nginx on this machine
    ("127.0.0.1", "127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # right-most
    ("10.0.0.0/8, 127.0.0.1", "127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # 2 hops
    ("127.0.0.1", "127.0.0.1", "garbage, 203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "127.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
    ("127.0.0.1", "192.0.2.50", "203.0.113.7", "192.0.2.50"),  # not a proxy: ignored
    ("", "127.0.0.1", "203.0.113.7", "127.0.0.1"),  # no proxy trusted
    ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),
])
def test_client_address_behind_trusted_proxies(trusted, peer, forwarded, counted):
    from web.proxies import client_address, parse_networks
    from web.settings import load_settings

    networks = parse_networks(load_settings({"TRUSTED_PROXIES": trusted}, environ={})[
        "TRUSTED_PROXIES"])
    assert client_address(peer, forwarded, networks) == counted


def test_each_reader_behind_a_proxy_has_a_budget(samples_index):
    client = _limited_client(samples_index, TRUSTED_PROXIES="127.0.0.1")

    def search(reader, q="haifa"):
        return client.get(f"/api/v1/search?q={q}", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                          headers={"X-Forwarded-For": reader})

    assert search("203.0.113.1").status_code == 200
    assert search("203.0.113.1", "gaza").status_code == 200
    assert search("203.0.113.1", "rafah").status_code == 429
    assert search("203.0.113.2").status_code == 200  # another reader, another budget
    # From a peer that is not a trusted proxy the header is ignored: no way round the limit.
    other = {"REMOTE_ADDR": "192.0.2.9"}
    for n, status in enumerate((200, 200, 429)):
        assert client.get(f"/api/v1/search?q=q{n}", environ_base=other,
                          headers={"X-Forwarded-For": f"203.0.113.{50 + n}"}
                          ).status_code == status


def test_weak_etags_revalidate(client):
    """nginx's gzip turns ETags weak (W/"…"): If-None-Match compares weakly (RFC 9110)."""
    for url in ("/api/v1/search?q=haifa", "/recherche?q=haifa", "/api/v1/openapi.json"):
        tag = client.get(url).headers["ETag"]
        assert tag.startswith('"')
        for sent in (f"W/{tag}", f'"other", W/{tag}', tag, "*"):
            assert client.get(url, headers={"If-None-Match": sent}).status_code == 304, sent
        assert client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_query_log(app, client):
    client.get("/api/v1/search?q=Haïfa&section=Économie", environ_base={
        "REMOTE_ADDR": "203.0.113.9"})
    client.get("/recherche?q=hiafa&annee=2024")
    client.get("/api/v1/suggest?q=hai")  # not a search
    rows = app.extensions["furet.querylog"].recent()
    assert [(r["source"], r["query"], r["hits"]) for r in rows] == [
        ("html", "hiafa", 2), ("api", "Haïfa", 1)]
    assert rows[0]["filters"] == {"year": ["2024"]} and rows[0]["corrected"] == 1
    assert rows[1]["filters"] == {"section": ["Économie"]}
    assert all(r["took_ms"] >= 0 and r["at"].endswith("+00:00") for r in rows)
    log_bytes = Path(app.extensions["furet.querylog"].path).read_bytes()
    assert b"203.0.113.9" not in log_bytes


def test_query_log_is_bounded(tmp_path):
    from web.querylog import QueryLog

    log = QueryLog(tmp_path / "q.sqlite", max_rows=100)
    for n in range(350):
        log.record(source="api", query=f"q{n}", filters={}, sort="relevance", page=1,
                   hits=n, took_ms=1.0, corrected=False)
    rows = log.recent(limit=1000)
    assert 100 <= len(rows) <= 110
    assert rows[0]["query"] == "q349"


def test_query_log_failure_does_not_fail_searches(samples_index, tmp_path, caplog):
    client = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "RATELIMIT": "",
                         "QUERY_LOG": str(tmp_path / "missing" / "q.sqlite")}).test_client()
    with caplog.at_level(logging.WARNING):
        assert client.get("/api/v1/search?q=haifa").status_code == 200
        assert client.get("/api/v1/search?q=gaza").status_code == 200
    assert len([r for r in caplog.records if "query log" in r.getMessage()]) == 1
