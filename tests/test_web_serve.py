"""`furet-serve`: options, and the real gunicorn server started, used and stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import serve_command
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


def test_a_busy_port_is_one_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*serve_command(), "--port", str(port), "--index-dir",
                                 str(tmp_path / "index")], capture_output=True, text=True,
                                timeout=60, env={**os.environ, "FURET_QUERY_LOG": ""})
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "--port 8001 (or FURET_PORT=8001)" in result.stderr
    assert "Connection in use" not in result.stderr  # gunicorn never tried


def test_an_address_of_another_machine_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(main, ["--host", "192.0.2.1", "--index-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "192.0.2.1 is not an address of this machine" in result.output


@pytest.mark.slow
def test_an_unwritable_query_log_is_said_once_at_start(furet_server, samples_index, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # even root cannot create a file inside a file
    server = furet_server(samples_index, workers=2,
                          env={"FURET_QUERY_LOG": str(blocked / "querylog.sqlite")})
    for _ in range(4):
        assert fetch(server.url + "/api/v1/search?q=haifa")[0] == 200
    server.stop()
    log = server.stderr()
    assert log.count("cannot be written") == 1, log
    assert f"the query log {blocked / 'querylog.sqlite'} cannot be written" in log
    assert "FURET_QUERY_LOG" in log
    assert not (blocked.parent / "querylog.sqlite").exists()
