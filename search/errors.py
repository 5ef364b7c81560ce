"""Furet's errors: each says what went wrong, where, and what to do next."""

from __future__ import annotations

from typing import Any


class FuretError(Exception):
    """Base class of every error Furet raises on purpose (picklable across processes, with
    what each subclass adds: `field`, `setting`, `location`...)."""

    code = "furet_error"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(kind: type[FuretError], args: tuple[Any, ...], state: dict[str, Any]
             ) -> FuretError:
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class IndexNotFoundError(FuretError):
    """The index directory holds no usable index."""

    code = "index_unavailable"


class IndexUnreachableError(IndexNotFoundError):
    """The index's database server cannot be reached (down, restarting, a lost connection)."""


class IndexLockedError(FuretError):
    """Another process is writing to the index."""

    code = "index_busy"


class IndexWriteError(FuretError):
    """The index could not be written (a full disk, a read-only folder...); the last
    committed index is unchanged."""

    code = "index_unwritable"


class IndexCorruptError(FuretError):
    """The index exists but cannot be read."""

    code = "index_unavailable"


class ConfigurationError(FuretError):
    """A setting is wrong: an unknown backend, a bad database URL, refused credentials.

    `setting` names it (FURET_BACKEND, FURET_DATABASE_URL...); the commands exit 2 on it.
    """

    code = "index_unavailable"

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class QueryError(FuretError):
    """The reader's query cannot be understood or is refused."""

    code = "invalid_query"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SearchTimeoutError(FuretError):
    """A search ran past its deadline (FURET_SEARCH_TIMEOUT) and was stopped."""

    code = "search_timeout"

    def __init__(self, message: str, *, seconds: float | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds


class ArticleError(FuretError):
    """An article cannot be read or lacks what an article needs."""

    code = "invalid_article"

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class ArticleNotFoundError(FuretError):
    """No article has the id asked for."""

    code = "not_found"
