"""Writing an index, whatever the store: the `Writer` contract the indexer drives.

A `Writer` is one write session: it holds the store's single write lock from the moment it
is opened until it is closed (IndexLockedError when another process holds it). The indexer
decides what to write (indexer/planner.py); the writer only applies it:

- a build: `begin_build()`, then `put()` every article, then `commit()` swaps the new index
  in atomically (readers see the old one or the new one, never a half-built one);
- an update or a deletion: `begin_update()`, then `put()` (add or replace by id) and
  `remove()`, then `commit()`, which makes every change visible at once.

`commit()` takes a `Ledger`: what the run read (files, the article ids of each file, the
digests of JSON Lines lines), kept by the store so that the next update reads only what
changed. `abort()` forgets everything since `begin_*()`: the last committed index stays.

A store that can build with several processes gives a `PartMaker` (`parallel()`): each
worker process opens a `Part`, adds its share of the articles and returns what it made;
the writer then `adopt()`s the parts.
"""

from __future__ import annotations

import functools
import tempfile
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from search.article import Article
from search.known_lines import KnownLines

__all__ = ["FileRow", "FileState", "Ledger", "Part", "PartMaker", "Writer", "translating"]

_Method = TypeVar("_Method", bound=Callable[..., Any])

FileRow = tuple[str, int, int, str, int]  # path, size, mtime_ns, digest, rejected articles


@dataclass(frozen=True)
class FileState:
    """What a store remembers of one article file."""

    size: int
    mtime_ns: int
    digest: str
    rejected: int


@dataclass
class Ledger:
    """The bookkeeping of one run, committed with its articles.

    `articles` and `lines` are lists, or for a large build rows kept on disk (any sized
    iterable: writers only iterate them and ask their length)."""

    files: list[FileRow] = field(default_factory=list)  # files read (or found unchanged)
    forget_files: list[str] = field(default_factory=list)  # files gone
    articles: list[tuple[str, str, str]] = field(default_factory=list)  # (id, path, hash)
    forget_articles: list[str] = field(default_factory=list)  # ids removed
    lines: list[tuple[str, bytes, str]] = field(default_factory=list)  # (path, digest, id)
    forget_lines_of: list[str] = field(default_factory=list)  # files whose lines were reread
    # (path, line digest) of lines gone from a file read with known_line_table()
    forget_lines: list[tuple[str, bytes]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.files, self.forget_files, self.articles, self.forget_articles,
                    self.lines, self.forget_lines_of, self.forget_lines))


class Part(ABC):
    """A share of a build, written in a worker process."""

    @abstractmethod
    def add(self, article: Article, path: str) -> int:
        """Add one article; return its number within this part."""

    @abstractmethod
    def finish(self) -> Any:
        """Finish the part: what the writer adopts (picklable), or None if it is empty."""

    @abstractmethod
    def abandon(self) -> None:
        """Give up after an error (the writer's abort() removes what was written)."""


class PartMaker(ABC):
    """Picklable: opens a Part of the build in a worker process."""

    @abstractmethod
    def open(self) -> Part:
        """A new part, in this process."""

    @abstractmethod
    def scratch(self) -> str:
        """A folder (not yet made) for the build's bookkeeping files, on the index's disk;
        the store removes it if the run dies, the indexer when the run ends."""


def translating(errors: Callable[[Any], AbstractContextManager[Any]]
                ) -> Callable[[_Method], _Method]:
    """A decorator for a store's Writer methods: each runs inside `errors(self)`, which
    turns the store's own errors into FuretErrors."""
    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            with errors(self):
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class Writer(ABC):
    """A write session on one store (see the module docstring)."""

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    @abstractmethod
    def where(self) -> str:
        """The index, as messages name it."""

    # -- what is indexed

    @abstractmethod
    def is_built(self) -> bool:
        """Whether the store holds an index (a first run builds one)."""

    @abstractmethod
    def known_files(self) -> dict[str, FileState]:
        """{path: state} of every file the index was made from (after begin_update)."""

    @abstractmethod
    def known_articles(self) -> dict[str, tuple[str, str]]:
        """{id: (path, content hash)} of every indexed article (after begin_update)."""

    def known_lines(self, path: str) -> dict[bytes, str] | None:
        """{line digest: id} of a JSON Lines file's articles; None when the store does not
        keep them (then every line of a changed file is decoded again)."""
        return None

    # What an update asks article by article. By default known_articles() answers, read
    # once; a store keeping its bookkeeping on disk answers each question there instead,
    # so that an update does not hold every article's id at once.

    def _known(self) -> dict[str, tuple[str, str]]:
        known: dict[str, tuple[str, str]] | None = getattr(self, "_known_once", None)
        if known is None:
            known = self._known_once = self.known_articles()
        return known

    def article_counts(self) -> dict[str, int]:
        """{path: how many indexed articles were read from it} (after begin_update)."""
        return dict(Counter(path for path, _ in self._known().values()))

    def owner(self, article_id: str) -> tuple[str, str] | None:
        """(path, content hash) of an indexed article, None if it is not indexed."""
        return self._known().get(article_id)

    def article_ids(self, path: str) -> Iterable[str]:
        """Ids of the indexed articles read from `path`, in order."""
        return sorted(i for i, (where, _) in self._known().items() if where == path)

    def unchanged_lines(self, path: str) -> Mapping[bytes, str] | None:
        """known_lines(path) less the lines of articles now indexed from another file."""
        lines = self.known_lines(path)
        if lines is None:
            return None
        known = self._known()
        return {digest: i for digest, i in lines.items() if known.get(i, ("",))[0] == path}

    def known_line_table(self, path: str) -> KnownLines | None:
        """unchanged_lines(path) as arrays (search/known_lines.py), when the store can give
        them so. The update then records only what changed: the lines found again stay
        recorded as they are, the others are given in Ledger.forget_lines (and the file is
        not in forget_lines_of). None: unchanged_lines() is asked instead."""
        return None

    def scratch(self) -> str:
        """A folder for what an update puts aside on disk (its ids past a limit)."""
        return tempfile.gettempdir()

    def ids_in_memory(self) -> int:
        """How many article ids an update holds in memory before putting the rest in
        scratch()."""
        return 200_000

    @abstractmethod
    def find(self, key: str) -> list[str]:
        """Ids of the articles with this id or, failing that, this URL."""

    # -- changes

    @abstractmethod
    def begin_build(self) -> None:
        """Start a new index beside the live one."""

    @abstractmethod
    def begin_update(self) -> None:
        """Start changing the live index (IndexNotFoundError when there is none)."""

    @abstractmethod
    def put(self, article: Article, path: str) -> None:
        """Add an article, or replace the one with its id."""

    @abstractmethod
    def remove(self, article_id: str) -> None:
        """Delete an article."""

    def parallel(self, jobs: int = 2) -> PartMaker | None:
        """A way to write a build's articles in `jobs` worker processes, or None."""
        return None

    def adopt(self, parts: list[Any], drop: list[tuple[int, int]]) -> None:
        """Take in finished parts, without the articles `drop` lists as (part, number)."""
        raise NotImplementedError(f"{type(self).__name__} writes no parts")

    def record_ahead(self, ledger: Ledger) -> None:
        """A build's `ledger.articles` and `ledger.lines` are final (its parts may not be
        finished yet): a store may record them now, while the parts are written, rather
        than at the commit. `commit()` is then given this same ledger. By default
        nothing: the commit records everything."""
        return None

    @abstractmethod
    def commit(self, ledger: Ledger) -> str:
        """Make every change visible at once; return the new generation."""

    @abstractmethod
    def abort(self) -> None:
        """Forget every change since begin_build()/begin_update()."""

    @abstractmethod
    def close(self) -> None:
        """End the session and free the write lock (aborting what was not committed)."""
