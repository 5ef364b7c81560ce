"""Reloads and upgrades of `furet-serve` under load, as docs/deploying.md describes them:
no request fails, and the new workers run the code installed since.

The server runs from a copy of Furet's packages (PYTHONPATH), so that the test can
"upgrade" it: it changes the copy's version string, then signals the server as the
documented unit file (HUP) or the documented upgrade (USR2, WINCH, TERM) does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from tests.servers import free_port, read_log, serve_command, stop_group, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
UPGRADED = "9.9.9+upgraded"
QUERIES = tuple(quote(q) for q in ("haifa", "gaza", "climat", "énergie", "rafah", "élections",
                                    "budget", "sécheresse"))

pytestmark = pytest.mark.slow


class Load:
    """Readers sending requests from a few threads (about 20 a second), counting failures."""

    def __init__(self, url: str, threads: int = 4, pause: float = 0.15) -> None:
        self.url = url
        self.pause = pause
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(n,), daemon=True)
                         for n in range(threads)]

    def _read(self, n: int) -> None:
        count = 0
        while not self._stop.is_set():
            path = f"/api/v1/search?q={QUERIES[(n + count) % len(QUERIES)]}&page={count % 3 + 1}"
            if count % 4 == 3:
                path = f"/recherche?q={QUERIES[count % len(QUERIES)]}"
            count += 1
            try:
                with urllib.request.urlopen(self.url + path, timeout=30) as response:
                    response.read()
                    failure = None if response.status == 200 else f"{path}: {response.status}"
            except (urllib.error.URLError, OSError) as err:
                failure = f"{path}: {err}"
            with self._lock:
                self.sent += 1
                if failure:
                    self.failures.append(failure)
            time.sleep(self.pause)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


def _version(url: str) -> str:
    with urllib.request.urlopen(url + "/api/v1/openapi.json", timeout=30) as response:
        return json.load(response)["info"]["version"]


def _wait_for_version(url: str, wanted: str, timeout: float = 60) -> None:
    """Until several answers in a row come from workers running `wanted`."""
    deadline, in_a_row = time.monotonic() + timeout, 0
    while in_a_row < 8:
        in_a_row = in_a_row + 1 if wanted in _version(url) else 0
        assert time.monotonic() < deadline, f"still not {wanted}: {_version(url)}"
        time.sleep(0.05)


@pytest.fixture
def upgradable(tmp_path, samples_index):
    """furet-serve (2 workers) running a copy of Furet's code; stopped afterwards."""
    code = tmp_path / "code"
    for package in ("search", "indexer", "web"):
        shutil.copytree(ROOT / package, code / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURET_")}
    env.update(PYTHONPATH=str(code), PYTHONDONTWRITEBYTECODE="1", FURET_RATELIMIT="",
               FURET_QUERY_LOG="")
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*serve_command(), "--port", str(port), "--workers", "2", "--index-dir",
             str(samples_index)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/api/v1/health", process, lambda: read_log(log))
        yield process, url, code, log
    finally:
        stop_group(process)
        for leftover in psutil.Process().children(recursive=True):
            if leftover.pid != process.pid and "furet-serve" in " ".join(leftover.cmdline()):
                leftover.kill()  # a master started by USR2 outlives the first one


def _upgrade(code: Path) -> None:
    init = code / "search" / "__init__.py"
    text = init.read_text("utf-8")
    init.write_text(re.sub(r'__version__ = "[^"]*"', f'__version__ = "{UPGRADED}"', text),
                    "utf-8")


def test_reload_with_hup_loads_the_new_code_and_fails_no_request(upgradable):
    process, url, code, log = upgradable
    assert UPGRADED not in _version(url)
    with Load(url) as load:
        time.sleep(2)
        _upgrade(code)
        process.send_signal(signal.SIGHUP)  # ExecReload of deploy/furet.service
        _wait_for_version(url, UPGRADED)
        time.sleep(2)
    assert load.sent >= 40
    assert load.failures == [], load.failures
    assert process.poll() is None
    assert "Traceback" not in read_log(log)


def test_upgrade_with_usr2_replaces_the_master_and_fails_no_request(upgradable):
    process, url, code, log = upgradable
    with Load(url) as load:
        time.sleep(2)
        _upgrade(code)
        process.send_signal(signal.SIGUSR2)  # a new master, new workers, the same socket
        deadline = time.monotonic() + 60
        while read_log(log).count("Booting worker") < 4:  # the new master's two are up
            assert time.monotonic() < deadline, read_log(log)
            time.sleep(0.1)
        new_master = int(re.findall(r"Listening at: \S+ \((\d+)\)", read_log(log))[1])
        process.send_signal(signal.SIGTERM)  # the old master: its workers finish, then stop
        assert process.wait(30) == 0
        _wait_for_version(url, UPGRADED)
        time.sleep(2)
    assert load.sent >= 40
    assert load.failures == [], load.failures
    assert psutil.pid_exists(new_master)
    assert UPGRADED in _version(url)
    os.kill(new_master, signal.SIGTERM)
    psutil.Process(new_master).wait(30)
    assert "Traceback" not in read_log(log)
