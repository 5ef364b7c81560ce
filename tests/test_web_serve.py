"""`furet-serve`: options, and the real gunicorn server started, used and stopped."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from web.serve import main

DATA = Path(__file__).parent / "data"


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode(), dict(err.headers)


@pytest.mark.parametrize("arguments, says", [
    (["--port", "abc"], "--port"),
    (["--port", "70000"], "--port"),
    (["--workers", "0"], "--workers"),
    (["--index-dir", "setup.cfg"], "--index-dir"),
    (["--colour"], "--colour"),
])
def test_bad_options_exit_2(runner, arguments, says):
    result = runner.invoke(main, arguments)
    assert result.exit_code == 2
    assert says in result.output


@pytest.mark.parametrize("name, value", [("FURET_PORT", "huit-mille"),
                                         ("FURET_WORKERS", "0"),
                                         ("FURET_RATELIMIT", "beaucoup")])
def test_bad_settings_exit_2(runner, name, value):
    result = runner.invoke(main, [], env={name: value})
    assert result.exit_code == 2
    assert name in result.output and value in result.output


def test_help_names_the_settings(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("FURET_HOST", "FURET_PORT", "FURET_WORKERS", "FURET_INDEX_DIR"):
        assert name in result.output


@pytest.mark.slow
def test_serves_without_index_then_recovers(furet_server, tmp_path):
    index_dir = tmp_path / "index"
    server = furet_server(index_dir, workers=2)
    status, body, headers = fetch(server.url + "/api/v1/health")
    assert status == 503
    assert json.loads(body)["error"]["code"] == "index_unavailable"
    status, body, headers = fetch(server.url + "/recherche?q=haifa")
    assert status == 503 and "indisponible" in body
    assert headers["Content-Type"].startswith("text/html")

    from tests.indexing import build

    build(index_dir, [DATA / "articles"])
    # Each worker notices the new index on its next request: no restart.
    for _ in range(6):
        status, body, _ = fetch(server.url + "/api/v1/search?q=haifa")
        assert status == 200
        assert json.loads(body)["total"] >= 1
    status, body, _ = fetch(server.url + "/recherche?q=haifa")
    assert status == 200 and "<mark>Haïfa</mark>" in body

    assert server.stop() == 0  # SIGTERM: a clean, graceful exit
    log = server.stderr()
    assert '"GET /api/v1/search?q=haifa HTTP/1.1" 200' in log  # access log on stderr
    assert "Traceback" not in log


@pytest.mark.slow
def test_long_url_is_refused_by_the_app(furet_server, samples_index):
    server = furet_server(samples_index)
    status, body, _ = fetch(server.url + "/api/v1/search?q=" + "a" * 8100)
    assert status == 414
    assert json.loads(body)["error"]["code"] == "uri_too_long"
    status, _, _ = fetch(server.url + "/api/v1/search?q=" + "0" * 1000)
    assert status == 200  # the longest query a reader may type is answered


@pytest.mark.slow
def test_ctrl_c_stops_gracefully(furet_server, samples_index):
    server = furet_server(samples_index)
    assert fetch(server.url + "/api/v1/health")[0] == 200
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(15) == 0
    assert "Shutting down" in server.stderr() and "Traceback" not in server.stderr()
