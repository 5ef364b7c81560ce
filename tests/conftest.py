"""Shared fixtures: paths to the bundled articles, a CLI runner, a built index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """A writable copy of tests/data/articles."""
    target = tmp_path / "articles"
    shutil.copytree(DATA / "articles", target)
    return target


@pytest.fixture(scope="session")
def samples_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of samples/, built once for the whole session (read-only for tests)."""
    from indexer.writing import build

    index_dir = tmp_path_factory.mktemp("samples-index")
    report = build(index_dir, [SAMPLES])
    assert report.rejected == 0, [str(e) for e in report.errors]
    return index_dir
