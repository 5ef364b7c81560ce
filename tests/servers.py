"""Processes the tests start: a free port, waiting until a server answers, stopping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen[bytes],
                         log: Callable[[], str], wait: float = 30) -> None:
    """Wait until `url` answers (any HTTP status); fail the test if `process` exits first."""
    deadline = time.monotonic() + wait
    while True:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{log()}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (503 while there is no index)
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer in {wait} s:\n{log()}")
            time.sleep(0.1)


def stop_group(process: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM, then SIGKILL to the whole process group if it lingers; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    return process.returncode


def read_log(path: Path) -> str:
    """A log file the tests' processes write, as text."""
    return path.read_text("utf-8", errors="replace") if path.exists() else ""


def serve_command() -> list[str]:
    """The command starting furet-serve from this environment."""
    script = Path(sys.executable).with_name("furet-serve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "web.serve"]
