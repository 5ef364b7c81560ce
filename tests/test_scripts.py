"""`scripts/run` as a new user runs it: the port they ask for, the address it prints, and
their own ./index left alone. It runs from a copy of the tree whose set-up step is the
environment these tests run in (no download)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.indexing import build
from tests.servers import free_port, read_log, stop_group, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = ROOT / "tests" / "data"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of scripts/run and samples/, the test environment as .venv, and an ./index of
    the user's own articles."""
    root = tmp_path / "clone"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "run", root / "scripts" / "run")
    stub = root / "scripts" / "setup-env"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    shutil.copytree(SAMPLES, root / "samples")
    (root / ".venv").symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    build(root / "index", [DATA / "articles"])
    return root


def _documents(url: str) -> int:
    with urllib.request.urlopen(url + "/api/v1/health", timeout=10) as response:
        return json.load(response)["documents"]


def _index_state(index_dir: Path) -> tuple[str, list[str]]:
    return os.readlink(index_dir / "CURRENT"), sorted(p.name for p in index_dir.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("how", ["FURET_PORT", "--port"])
def test_run_serves_the_samples_on_the_port_asked_and_leaves_index_alone(tree, how):
    own = _index_state(tree / "index")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURET_")}
    arguments = []
    if how == "FURET_PORT":
        env["FURET_PORT"] = str(port)
    else:
        arguments = ["--port", str(port)]
    log = tree / "run.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen([str(tree / "scripts" / "run"), *arguments], cwd=tree,
                                   env=env, stdout=stderr, stderr=stderr,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/api/v1/health", process, lambda: read_log(log), 90)
        samples = _documents(url)
        assert samples >= 42  # the samples, not the user's few articles
    finally:
        assert stop_group(process) == 0
    said = read_log(log)
    assert f"serving {url} (Ctrl-C stops)" in said
    assert "8000" not in said
    assert "demo-index/" in said and "./index" in said
    assert _index_state(tree / "index") == own  # the user's index is untouched
    assert (tree / "demo-index" / "CURRENT").exists()
