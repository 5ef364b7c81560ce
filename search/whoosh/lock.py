"""One writer at a time: an exclusive lock on `index/write.lock`, freed even by SIGKILL."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from search.errors import IndexLockedError
from search.whoosh.layout import LOCK

__all__ = ["writer_lock"]

# The descriptors of the locks this process holds. A process forked from it (a build's
# worker, indexer/parallel.py) closes its copies at once: closing them does not free the
# lock, which stays the parent's, but a child that outlived a killed parent would
# otherwise keep the lock held until it ended.
_held: set[int] = set()


def _close_in_child() -> None:
    for fd in _held:
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


@contextmanager
def writer_lock(index_dir: Path, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's write lock, waiting up to `wait` seconds, else IndexLockedError."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    who = f" (process {holder})" if holder.isdigit() else ""
                    advice = "try again later" if wait else "try again later, or pass --wait"
                    raise IndexLockedError(
                        f"{index_dir}/ is being written by another furet-index{who}; "
                        f"{advice}"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        _held.add(fd)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # closing the descriptor releases the lock
