"""Named points where the crash tests make the indexer die, as a power cut would, and where
the serving tests make a search hang, as a read from a dead disk would.

`FURET_CRASH_AT=<point>` in the environment makes the process kill itself with SIGKILL
when it reaches that point; nothing happens otherwise (one dictionary lookup). The points
are listed in POINTS, in the order a build or an update reaches them.
`FURET_STALL_AT=search` makes every search sleep for an hour, deadline or not;
`FURET_STALL_AT=<point>` makes a writer sleep there (the signal tests stop it meanwhile).
"""

from __future__ import annotations

import os
import signal
import time

POINTS = (
    "adding",  # after the first article is added, before the commit
    "segment-written",  # the new segment's files are on disk, its TOC is not
    "toc-written",  # Whoosh committed, the manifest is not updated
    "prepared-writing",  # the generation's prepared file half written (build: before the
    # manifest; update: after it)
    "manifest-written",  # manifest committed (update) / build folder complete (build)
    "build-renamed",  # build: the new build is in place, CURRENT not switched yet
    "switched",  # build: CURRENT points at the new build, the old one not retired
)

_TARGET = os.environ.get("FURET_CRASH_AT", "")
_STALL = os.environ.get("FURET_STALL_AT", "")


def checkpoint(point: str) -> None:
    """Die here if the crash tests asked for it, or hang if the signal tests did."""
    if _TARGET and point == _TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
    stall(point)


def stall(point: str) -> None:
    """Hang here for an hour if the serving tests asked for it."""
    if _STALL and point == _STALL:
        time.sleep(3600)
