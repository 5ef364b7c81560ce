"""Packaging: every folder of the site's files is declared, and a build prints no warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools.config.setupcfg import read_configuration

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search", "indexer", "web")


def _folders_with_files() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(".".join(path.parent.relative_to(ROOT).parts))
    return found


def test_every_folder_holding_files_is_a_declared_package(monkeypatch):
    """Recent setuptools warns, at every install, about a folder of package data that is
    not a package of its own (web.static, web.templates): each must be declared."""
    monkeypatch.chdir(ROOT)
    options = read_configuration(str(ROOT / "setup.cfg"))["options"]
    declared = set(options["packages"])
    assert _folders_with_files() <= declared, _folders_with_files() - declared
    assert not any("__pycache__" in name for name in declared)
    assert options["package_data"]["web.templates"] and options["package_data"]["web.static"]


def test_a_build_copies_the_site_files_silently(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    # build_py is the step that copies package data (and where setuptools warns about it).
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import setuptools; setuptools.setup()",
         "--quiet", "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=source, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    assert result.returncode == 0, result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stderr
    built = tmp_path / "lib"
    for folder, pattern in (("web/templates", "*.html"), ("web/static", "*")):
        for path in (ROOT / folder).glob(pattern):
            assert (built / folder / path.name).is_file(), path
