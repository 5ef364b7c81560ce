"""The life of build folders: made live atomically, retired, then removed.

A build that went live holds a LIVE file; the one it replaced gets a RETIRED file and stays
RETIRED_GRACE_SECONDS (FURET_RETIRED_GRACE) for web workers still answering from it. Only
the write-lock holder switches and cleans, so nothing removed here is being written.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from search.faults import checkpoint
from search.whoosh.layout import BUILDS, CURRENT, TMP_SUFFIX, fsync_dir
from search.whoosh.private import segments_of

__all__ = ["LIVE", "RETIRED", "RETIRED_GRACE_SECONDS", "clean_build", "clean_index_dir",
           "is_current", "switch_to"]

# A retired build stays on disk this long, for readers still answering from it.
RETIRED_GRACE_SECONDS = float(os.environ.get("FURET_RETIRED_GRACE", "300"))
RETIRED = "RETIRED"  # in a build that was live and was replaced: when
LIVE = "LIVE"  # in a build that was made live: a build without it never served a reader


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def switch_to(index_dir: Path, build: Path) -> None:
    """Point CURRENT at `build` atomically, and mark the build it replaces as retired."""
    link = index_dir / CURRENT
    try:
        old = index_dir / os.readlink(link)
    except OSError:
        old = None
    (build / LIVE).write_text(_now() + "\n")
    fsync_dir(build)
    tmp_link = index_dir / (CURRENT + TMP_SUFFIX)
    tmp_link.unlink(missing_ok=True)
    os.symlink(os.path.join(BUILDS, build.name), tmp_link)
    os.replace(tmp_link, link)
    fsync_dir(index_dir)
    checkpoint("switched")
    if old is not None and old.is_dir() and old.resolve() != build.resolve():
        (old / RETIRED).write_text(_now() + "\n")


def _current(index_dir: Path) -> Path | None:
    try:
        return (index_dir / os.readlink(index_dir / CURRENT)).resolve()
    except OSError:
        return None


def is_current(index_dir: Path, build: Path) -> bool:
    """Whether CURRENT points at `build`: the live build, which nothing may remove."""
    return _current(index_dir) == build.resolve()


def clean_index_dir(index_dir: Path) -> None:
    """Remove what interrupted runs left, and retired builds past their grace period.

    Only the write-lock holder calls this, so nothing it removes is being written. A build
    that never went live is removed at once; one that was live is kept for
    RETIRED_GRACE_SECONDS after it was replaced, for web workers still reading it.
    """
    builds = index_dir / BUILDS
    (index_dir / (CURRENT + TMP_SUFFIX)).unlink(missing_ok=True)
    if not builds.is_dir():
        return
    live = _current(index_dir)
    for entry in builds.iterdir():
        if entry.resolve() == live:
            continue
        if entry.name.endswith(TMP_SUFFIX) or not (entry / LIVE).exists():
            shutil.rmtree(entry, ignore_errors=True)  # a build that never went live
            continue
        retired = entry / RETIRED
        if not retired.exists():  # replaced by a run that died before marking it
            retired.write_text(_now() + "\n")
        if time.time() - retired.stat().st_mtime >= RETIRED_GRACE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def clean_build(build: Path, ix: Any) -> None:
    """Remove what a writer that died or failed left in the live build (we hold the lock):
    temporary folders, unrenamed tables of contents, and segment files no table of contents
    refers to (a commit that never happened). Whoosh removes the others at each commit."""
    for entry in [*build.glob("*" + TMP_SUFFIX), *build.glob("_*.toc.*")]:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    live = {segment.segment_id() for segment in segments_of(ix)}
    for entry in build.glob(f"{ix.indexname}_*.*"):
        if entry.name.split(".", 1)[0] not in live and entry.is_file():
            entry.unlink(missing_ok=True)
