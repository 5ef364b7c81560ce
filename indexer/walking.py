"""Finding the article files under the sources given on the command line, and opening them.

A source is a file or a folder, walked recursively in a stable order: hidden entries are
skipped, the format is chosen by extension (`.gz` may follow any), symbolic links to
folders are followed once and loops are reported.

What a folder may publish stays inside it: a file or a folder found under a source folder is
read only if its real path is inside that folder, or inside a folder the operator allowed
(`furet-index --allow-links-to`). A symbolic link leading anywhere else is reported as
`path: reason` and skipped. A file named on the command line is read wherever it leads: the
operator named it. `open_source` checks again when it opens a file, so a file swapped for
such a link after the walk is refused too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from indexer.terminal import display_path
from search.errors import ArticleError

__all__ = ["EXTENSIONS", "LinkOutsideError", "SourceFile", "open_source", "walk_sources"]

EXTENSIONS = {
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
}


@dataclass(frozen=True)
class SourceFile:
    """A file to read, with what the manifest needs to know whether it changed."""

    path: str  # absolute, possibly with undecodable bytes (surrogate-escaped)
    shown: str  # as found under the source given, printable: for messages
    rel: str  # relative to the source it was found in, printable, "/"-separated
    size: int
    mtime_ns: int
    kind: str  # html, text, json, jsonl, feed
    identity: tuple[int, int] = (0, 0)  # (device, inode) the walk found
    within: tuple[str, ...] = ()  # real folders it must stay in; () when named itself

    @property
    def location(self) -> str:
        return self.shown


class LinkOutsideError(ArticleError):
    """A symbolic link under a source folder that leads outside it: not read."""

    def __init__(self, path: str, real: str, within: tuple[str, ...]) -> None:
        super().__init__(display_path(path), "symbolic link to " + _outside_reason(real, within))
        self.path = os.path.abspath(path)


def walk_sources(
    sources: Sequence[str | os.PathLike[str]],
    allow: Sequence[str | os.PathLike[str]] = (),
) -> Iterator[SourceFile | ArticleError]:
    """Every article file under `sources`, in a stable order, and what could not be read.

    Symbolic links under a source folder may lead inside it, or inside a folder of `allow`.
    """
    allowed = tuple(os.path.realpath(folder) for folder in allow)
    for source in sources:
        source = os.fspath(source)
        if os.path.isdir(source):
            yield from _walk_dir(source, (os.path.realpath(source), *allowed))
            continue
        kind = _kind(os.path.basename(source))
        if kind is None:
            yield ArticleError(display_path(source), "unknown format (expected "
                               + ", ".join(sorted(EXTENSIONS)) + ", optionally .gz)")
            continue
        yield _stat_file(source, os.path.basename(source), kind, ())


def open_source(source: SourceFile) -> BinaryIO:
    """The file, opened for reading if it is still the regular file the walk found inside
    its folder (a FIFO swapped in does not block: it is refused)."""
    fd = os.open(source.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArticleError(source.location, "no longer a regular file; skipped")
        if source.within and (info.st_dev, info.st_ino) != source.identity:
            # Replaced since the walk: read it only if it is where the walk would accept it.
            real = os.path.realpath(source.path)
            if not _inside(real, source.within):
                raise ArticleError(source.location, "replaced by a link to "
                                   + _outside_reason(real, source.within))
            now = os.stat(real)
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                raise ArticleError(source.location, "changed while it was opened; skipped "
                                   "(read again next run)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return EXTENSIONS.get(os.path.splitext(lower)[1])


def _inside(real: str, within: tuple[str, ...]) -> bool:
    return any(real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)
               for folder in within)


def _outside_reason(real: str, within: tuple[str, ...]) -> str:
    return f"{display_path(real)}, outside {display_path(within[0])}; skipped"


def _link_outside(path: str, within: tuple[str, ...]) -> LinkOutsideError | None:
    """An error if `path` is a symbolic link whose target is outside `within`."""
    if not within or not os.path.islink(path):
        return None
    real = os.path.realpath(path)
    return None if _inside(real, within) else LinkOutsideError(path, real, within)


def _stat_file(path: str, rel: str, kind: str,
               within: tuple[str, ...]) -> SourceFile | ArticleError:
    where = display_path(path)
    outside = _link_outside(path, within)
    if outside is not None:
        return outside
    try:
        info = os.stat(path)
    except OSError as err:
        if err.errno == 40:  # ELOOP
            return ArticleError(where, "symbolic link loop; skipped")
        return ArticleError(where, f"cannot read: {err.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return ArticleError(where, "not a regular file; skipped")
    if not os.access(path, os.R_OK):
        return ArticleError(where, "cannot read: permission denied")
    return SourceFile(os.path.abspath(path), where, display_path(rel).replace(os.sep, "/"),
                      info.st_size, info.st_mtime_ns, kind, (info.st_dev, info.st_ino),
                      within)


def _walk_dir(root: str, within: tuple[str, ...]) -> Iterator[SourceFile | ArticleError]:
    seen: set[tuple[int, int]] = set()
    errors: list[OSError] = []

    for folder, dirs, files in os.walk(root, followlinks=True, onerror=errors.append):
        while errors:
            err = errors.pop()
            yield ArticleError(display_path(err.filename or folder),
                               f"cannot read folder: {err.strerror}")
        try:
            info = os.stat(folder)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            yield ArticleError(display_path(folder), "folder seen twice (symbolic link loop)")
            continue
        seen.add((info.st_dev, info.st_ino))
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            outside = _link_outside(os.path.join(folder, name), within)
            if outside is None:
                kept.append(name)
            else:
                yield outside
        dirs[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            kind = _kind(name)
            if kind is None:
                continue
            path = os.path.join(folder, name)
            yield _stat_file(path, os.path.relpath(path, root), kind, within)
    while errors:
        err = errors.pop()
        yield ArticleError(display_path(err.filename or root), f"cannot read: {err.strerror}")
