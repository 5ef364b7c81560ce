"""The real `furet-serve` under attack: slow clients, gunicorn's own refusals, a search past
its deadline, a stuck request, a segment truncated while it serves.

Every test starts the server on 127.0.0.1 (tests/conftest.py `furet_server`, always
stopped) and counts what failed; none measures time.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.indexing import build

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.reliability
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy")


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 10
          ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def raw(url: str, data: bytes, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as it is on a new connection; the status, headers and body answered."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int,
                      code: str) -> dict[str, str]:
    assert status == expected, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert list(error) == ["code", "message", "field"] and error["code"] == code, error
    assert "Traceback" not in error["message"] and "/" not in error["message"][:1]
    for name in SECURITY_HEADERS:
        assert name in headers, name
    return error


def assert_french_page(status: int, headers: dict[str, str], body: bytes, expected: int
                       ) -> BeautifulSoup:
    assert status == expected, body[:300]
    assert headers["Content-Type"].startswith("text/html")
    page = BeautifulSoup(body.decode("utf-8"), "html.parser")
    assert page.html["lang"] == "fr" and f"Erreur {expected}" in page.get_text(" ")
    for name in SECURITY_HEADERS:
        assert name in headers, name
    return page


@pytest.fixture
def small_index(tmp_path: Path) -> Path:
    """An index of tests/data/articles, built for the test (it may be damaged)."""
    index_dir = tmp_path / "index"
    report = build(index_dir, [DATA / "articles"])
    assert report.rejected == 0
    return index_dir


# -- slow clients


@pytest.mark.slow
def test_slow_clients_hold_no_worker(furet_server, small_index):
    server = furet_server(small_index, workers=1, env={"FURET_RATELIMIT": ""})
    port = int(server.url.rsplit(":", 1)[1])
    cut = []

    def slow_client(n: int) -> None:
        """One header line every 2 s, as the attack did (the head is never finished)."""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: furet\r\n")
            try:
                for line in range(12):
                    time.sleep(2)
                    sock.sendall(b"X-Slow-%d: %d\r\n" % (line, n))
                cut.append(False)
            except OSError:
                cut.append(True)  # the server gave up on it

    clients = [threading.Thread(target=slow_client, args=(n,)) for n in range(6)]
    for client in clients:
        client.start()
    time.sleep(1)
    failures = 0
    for _ in range(10):
        try:
            status, _, body = fetch(server.url + "/api/v1/health", timeout=5)
            failures += status != 200
        except OSError:
            failures += 1
        time.sleep(0.5)
    for client in clients:
        client.join()
    assert failures == 0
    assert cut == [True] * len(clients)  # each was dropped after the head timeout


@pytest.mark.slow
def test_a_head_that_never_ends_gets_408_in_the_error_shape(furet_server, small_index):
    server = furet_server(small_index)
    answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
    heads = {"api": b"GET /api/v1/search?q=haifa HTTP/1.1\r\n",
             "page": b"GET /recherche?q=haifa HTTP/1.1\r\nHost: x\r\n"}
    waiting = [threading.Thread(target=lambda k=k: answers.update({k: raw(server.url, heads[k])}))
               for k in heads]
    for thread in waiting:
        thread.start()
    for thread in waiting:
        thread.join()
    assert_json_error(*answers["api"], 408, "request_timeout")
    assert_french_page(*answers["page"], 408)


# -- gunicorn's own refusals (issue 16, point 3)


@pytest.mark.slow
def test_gunicorn_refusals_have_the_error_shape(furet_server, small_index):
    server = furet_server(small_index)
    long_query = "a" * 9000  # over gunicorn's 8,190-byte request line
    error = assert_json_error(*fetch(f"{server.url}/api/v1/search?q={long_query}"), 414,
                              "uri_too_long")
    assert "8,190" in error["message"]
    page = assert_french_page(*fetch(f"{server.url}/recherche?q={long_query}"), 414)
    assert "Adresse trop longue" in page.get_text(" ")
    big = {"X-Big": "b" * 70_000}  # over what a head may hold
    assert_json_error(*fetch(server.url + "/api/v1/health", headers=big), 431, "too_large")
    many = "".join(f"X-{n}: {n}\r\n" for n in range(150))  # over gunicorn's 100 fields
    status, headers, body = raw(server.url, f"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                                f"{many}\r\n".encode())
    assert_json_error(status, headers, body, 431, "too_large")
    status, headers, body = raw(server.url, b"GET /api/v1/health HTTP/1.1\r\nBad Header\r\n\r\n")
    assert_json_error(status, headers, body, 400, "invalid_request")
    status, headers, body = raw(server.url, b"NOT HTTP AT ALL\r\n\r\n")
    assert_french_page(status, headers, body, 400)
    assert fetch(server.url + "/api/v1/health")[0] == 200  # and the worker serves on
    assert "Traceback" not in server.stderr()


# -- deadlines


@pytest.mark.slow
def test_a_search_past_its_deadline_through_the_real_server(furet_server, small_index):
    server = furet_server(small_index, env={"FURET_SEARCH_TIMEOUT": "0.000000001"})
    assert_json_error(*fetch(server.url + "/api/v1/search?q=haifa"), 504, "search_timeout")
    page = assert_french_page(*fetch(server.url + "/recherche?q=haifa"), 504)
    assert "Recherche trop longue" in page.get_text(" ")
    assert fetch(server.url + "/api/v1/health")[0] == 200
    assert "stopped: the search took longer" in server.stderr()


@pytest.mark.slow
def test_a_stuck_request_gets_503_and_its_worker_is_replaced(furet_server, small_index):
    # Every search hangs (FURET_STALL_AT), as a read from a dead disk would: the deadline
    # cannot stop it, the worker's main loop answers for it.
    server = furet_server(small_index, workers=2, env={
        "FURET_STALL_AT": "search", "FURET_SEARCH_TIMEOUT": "0.5", "FURET_RATELIMIT": ""})
    error = assert_json_error(*fetch(server.url + "/api/v1/search?q=haifa", timeout=30), 503,
                              "server_timeout")
    assert "took too long" in error["message"]
    failures = sum(fetch(server.url + "/api/v1/health")[0] != 200 for _ in range(6))
    assert failures == 0
    assert "got no answer in 6 s; this worker stops and is replaced" in server.stderr()


# -- a segment truncated while serving (SIGBUS before)


@pytest.mark.slow
def test_a_segment_truncated_while_serving_is_a_503(furet_server, small_index):
    server = furet_server(small_index, workers=1, env={"FURET_RATELIMIT": ""})
    status, _, body = fetch(server.url + "/api/v1/search?q=haifa")
    assert status == 200 and json.loads(body)["total"] >= 1  # the segment is mapped now
    for segment in (small_index / "CURRENT").glob("*.seg"):
        with segment.open("r+b") as f:
            f.truncate(segment.stat().st_size // 4)
    for url in ("/api/v1/search?q=attaque", "/api/v1/search?q=ville", "/api/v1/health"):
        error = assert_json_error(*fetch(server.url + url), 503, "index_unavailable")
        assert str(small_index) not in error["message"]  # the path is for the log
    assert_french_page(*fetch(server.url + "/recherche?q=port"), 503)
    log = server.stderr()
    assert "shrank from" in log and "SIGBUS" not in log and "Worker exiting" not in log
    shutil.rmtree(small_index)
