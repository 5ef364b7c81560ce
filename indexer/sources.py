"""Reading the article files found under the sources (indexer/walking.py) into articles.

The format is chosen by extension and checked by content; `.gz` may be added to any
extension, and a compressed file may expand to GZIP_RATIO times its size (plus GZIP_SLACK),
no more. Whole files are read up to MAX_FILE_BYTES; JSON Lines a line at a time.

| extension              | reader               | articles per file |
|------------------------|----------------------|-------------------|
| .html .htm             | indexer.html         | one               |
| .txt                   | indexer.text         | one               |
| .json                  | indexer.jsonfiles    | one or many       |
| .jsonl .ndjson         | indexer.jsonfiles    | one a line        |
| .rss .atom .xml        | indexer.feeds        | one an item       |
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import stat
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import BinaryIO, NamedTuple

from indexer.encoding import decode_text, looks_binary
from indexer.records import Draft, make_article
from indexer.terminal import display_path
from indexer.walking import EXTENSIONS, SourceFile, open_source, walk_sources
from search.article import Article
from search.errors import ArticleError
from search.known_lines import KnownLines

__all__ = [
    "BackgroundDigest",
    "EXTENSIONS",
    "GZIP_RATIO",
    "GZIP_SLACK",
    "MAX_FILE_BYTES",
    "SourceFile",
    "display_path",
    "file_digest",
    "KnownRecord",
    "KnownRows",
    "read_articles",
    "read_records",
    "read_records_digested",
    "walk_sources",
]

# One article (or one feed, one JSON document) larger than this is not a news page.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Real exports compress 4 to 12 times; a file that expands more is a decompression bomb (64 MB
# of newlines fit in 65 KB). Small files may expand by GZIP_SLACK whatever their ratio.
GZIP_RATIO = 50
GZIP_SLACK = 1024 * 1024


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes, read in blocks (a FIFO is refused, not waited for)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


class BackgroundDigest:
    """`file_digest(path)` computed on another thread while this one reads the file's
    lines (hashlib lets other threads run while it hashes each block): `result()` waits
    for it, and raises what it raised."""

    def __init__(self, path: str) -> None:
        self._digest = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True,
                                        name="furet-file-digest")
        self._thread.start()

    def _run(self, path: str) -> None:
        try:
            self._digest = file_digest(path)
        except BaseException as err:  # noqa: BLE001 - raised again by result()
            self._error = err

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest


def _compressed(source: SourceFile) -> bool:
    return source.path.lower().endswith(".gz")


def _expansion_limit(source: SourceFile) -> int:
    """The most a compressed file may expand to (see GZIP_RATIO)."""
    return GZIP_SLACK + GZIP_RATIO * source.size


def _bomb(source: SourceFile) -> str:
    limit = _expansion_limit(source)
    return (f"more than {limit / 2**20:.1f} MB once decompressed, {GZIP_RATIO} times its "
            f"{source.size:,} bytes (a decompression bomb?)")


@contextmanager
def _opened(source: SourceFile) -> Iterator[BinaryIO]:
    """The file's content as a buffered stream, decompressed if it ends with .gz."""
    with open_source(source) as raw:
        if not _compressed(source):
            yield raw
            return
        with gzip.GzipFile(fileobj=raw) as gz:
            yield gz  # type: ignore[misc]


def _read_bytes(source: SourceFile) -> bytes:
    """The whole file, decompressed, refusing what is too large to be an article file."""
    if source.size > MAX_FILE_BYTES:
        raise ArticleError(source.location, f"file is {source.size / 2**20:.0f} MB, more than the "
                           f"{MAX_FILE_BYTES // 2**20} MB limit for one {source.kind} file")
    limit = min(MAX_FILE_BYTES, _expansion_limit(source)) if _compressed(source) \
        else MAX_FILE_BYTES
    try:
        with _opened(source) as stream:
            data = stream.read(limit + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ArticleError(source.location, f"not a readable gzip file ({err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(source.location, f"more than {MAX_FILE_BYTES // 2**20} MB once "
                           "decompressed; skipped")
    if len(data) > limit:
        raise ArticleError(source.location, _bomb(source) + "; skipped")
    if not data.strip():
        raise ArticleError(source.location, "empty file")
    if looks_binary(data):
        raise ArticleError(source.location, f"binary content, not a {source.kind} file")
    return data


def _drafts(source: SourceFile, shard: tuple[int, int] | None,
            known: Mapping[bytes, str] | KnownLines | None = None
            ) -> Iterator[Draft | ArticleError]:
    where = source.location
    if source.kind == "jsonl":
        from indexer.jsonfiles import (
            ReadLimitError,
            digest_of_kind,
            line_digest,
            parse_json_lines,
            read_lines,
        )

        # The lines are hashed as the store recorded the known ones (an older manifest's
        # BLAKE2b), new lines too: the store keeps one kind.
        kind = getattr(known, "digest_kind", None)
        hasher = line_digest if kind is None else digest_of_kind(kind)
        limit = _expansion_limit(source) if _compressed(source) else None
        with _opened(source) as stream:
            try:
                yield from parse_json_lines(read_lines(stream, limit=limit), location=where,
                                            shard=shard, known=known, hasher=hasher)
            except ReadLimitError as err:
                yield ArticleError(where, f"{_bomb(source)}; {err}, the rest is not read")
            except (OSError, EOFError, zlib.error) as err:
                yield ArticleError(where, f"cannot read further: {err}")
        return
    data = _read_bytes(source)
    if source.kind == "html":
        from indexer.html import parse_page

        yield parse_page(data, location=where)
    elif source.kind == "text":
        from indexer.text import parse_text

        yield parse_text(data, location=where)
    elif source.kind == "json":
        from indexer.jsonfiles import parse_json

        yield from parse_json(decode_text(data), location=where)
    else:
        from indexer.feeds import parse_feed

        yield from parse_feed(data, location=where)


class KnownRecord(NamedTuple):
    """A JSON Lines record whose line has not changed since the last run: not decoded
    (`row`: its line's row in the KnownLines it was found in, else -1). A tuple: a
    frozen dataclass took about a microsecond to make, a million times an update."""

    id: str
    row: int = -1


class KnownRows(NamedTuple):
    """JSON Lines records that follow one another and whose lines have not changed since
    the last run, found in a KnownLines (`rows`: their lines' rows there, in the file's
    order): not decoded, and given at once (one tuple a line, through every generator
    between the file and the update, cost about 5 us a line)."""

    rows: list[int]


def read_records_digested(
    source: SourceFile, shard: tuple[int, int] | None = None,
    known: Mapping[bytes, str] | KnownLines | None = None,
) -> Iterator[tuple[int, Article | ArticleError | KnownRecord | KnownRows, bytes | None]]:
    """(record number, article or error or KnownRecord or KnownRows, line digest) for one
    file.

    The record number (the line of a JSON Lines file, else the position in the file) gives
    the order of records and the default ids ("path#3"). With `shard=(k, n)`, only the
    records whose number is k+1 modulo n: how n processes share the work of one file. The
    digest of each JSON Lines line is given (else None), and lines whose digest is in
    `known` (digest -> id) come back as KnownRecord without being decoded; when `known` is
    a KnownLines, runs of such lines come back as KnownRows (numbered as their last line,
    without a digest).
    """
    ordinal = 0
    try:
        for draft in _drafts(source, shard, known):
            ordinal = draft.pop("_ordinal", ordinal + 1) if isinstance(draft, dict) \
                else ordinal + 1
            if shard is not None and source.kind != "jsonl" \
                    and (ordinal - 1) % shard[1] != shard[0]:
                continue
            if isinstance(draft, ArticleError):
                yield ordinal, draft, None
                continue
            digest = draft.pop("_digest", None)
            if "_known_rows" in draft:
                yield ordinal, KnownRows(draft["_known_rows"]), None
                continue
            if "_known" in draft:
                yield ordinal, KnownRecord(draft["_known"]), digest
                continue
            location = draft.pop("_location", None) or source.location
            default_id = source.rel if ordinal == 1 else f"{source.rel}#{ordinal}"
            try:
                yield ordinal, make_article(draft, location=location,
                                            default_id=default_id), digest
            except ArticleError as err:
                yield ordinal, err, None
    except ArticleError as err:
        yield ordinal + 1, err, None
    except RecursionError:
        yield ordinal + 1, ArticleError(source.location, "nested too deeply to read; skipped"), \
            None
    except (OSError, MemoryError) as err:
        yield ordinal + 1, ArticleError(source.location, f"cannot read: {err}"), None


def read_records(
    source: SourceFile, shard: tuple[int, int] | None = None
) -> Iterator[tuple[int, Article | ArticleError]]:
    """(record number, article or error) for each record of one file (see above)."""
    for ordinal, item, _ in read_records_digested(source, shard):
        assert not isinstance(item, KnownRecord | KnownRows)
        yield ordinal, item


def read_articles(source: SourceFile) -> Iterator[Article | ArticleError]:
    """The articles of one file, and an ArticleError for each one that cannot be read."""
    for _, item in read_records(source):
        yield item
