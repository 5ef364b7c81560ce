"""The file system's and the manifest's errors while an index is written, as IndexWriteError."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path
from types import TracebackType

from search.errors import FuretError, IndexWriteError

__all__ = ["WriteErrors"]


def _disk_full(err: BaseException, folder: Path) -> bool:
    """True if `err`, or an error that led to it, is a full disk (SQLite only says "disk
    I/O error": then the free space of `folder` tells)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, sqlite3.Error) and ("full" in str(seen) or "I/O" in str(seen)):
            try:
                return shutil.disk_usage(folder).free < 1024 * 1024
            except OSError:
                return False
        seen = seen.__cause__ or seen.__context__
    return False


class WriteErrors:
    """A context that turns the file system's and the manifest's errors into
    IndexWriteError (a class: entered for every article a build adds, where a generator's
    context cost several calls more)."""

    __slots__ = ("folder",)

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if err is None or isinstance(err, FuretError) \
                or not isinstance(err, OSError | sqlite3.Error):
            return False
        unchanged = "the last committed index is unchanged"
        if _disk_full(err, self.folder):
            message = f"no space left on device; {unchanged}"
        elif isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            message = f"{err.strerror or err}{where}; {unchanged}"
        else:
            message = f"the manifest cannot be written ({err}); {unchanged}"
        raise IndexWriteError(message) from err
