"""Finding article files under the sources given on the command line, and reading them.

A source is a file or a folder (walked recursively; hidden entries are skipped, symlinked
folders are followed once, loops are reported). The format is chosen by extension and
checked by content; `.gz` may be added to any extension.

| extension              | reader               | articles per file |
|------------------------|----------------------|-------------------|
| .html .htm             | indexer.html         | one               |
| .txt                   | indexer.text         | one               |
| .json                  | indexer.jsonfiles    | one or many       |
| .jsonl .ndjson         | indexer.jsonfiles    | one a line        |
| .rss .atom .xml        | indexer.feeds        | one an item       |
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from indexer.encoding import decode_text, looks_binary
from indexer.records import Draft, make_article
from search.article import Article
from search.errors import ArticleError

__all__ = [
    "EXTENSIONS",
    "MAX_FILE_BYTES",
    "SourceFile",
    "display_path",
    "file_digest",
    "KnownRecord",
    "read_articles",
    "read_records",
    "read_records_digested",
    "walk_sources",
]

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
# One article (or one feed, one JSON document) larger than this is not a news page.
MAX_FILE_BYTES = 64 * 1024 * 1024


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as it can be printed: undecodable bytes as \\xNN, newlines as \\n."""
    text = os.fsdecode(path)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


@dataclass(frozen=True)
class SourceFile:
    """A file to read, with what the manifest needs to know whether it changed."""

    path: str  # absolute, possibly with undecodable bytes (surrogate-escaped)
    shown: str  # as found under the source given, printable: for messages
    rel: str  # relative to the source it was found in, printable, "/"-separated
    size: int
    mtime_ns: int
    kind: str  # html, text, json, jsonl, feed

    @property
    def location(self) -> str:
        return self.shown


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return EXTENSIONS.get(os.path.splitext(lower)[1])


def _stat_file(path: str, rel: str, kind: str) -> SourceFile | ArticleError:
    where = display_path(path)
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
                      info.st_size, info.st_mtime_ns, kind)


def walk_sources(sources: Sequence[str | os.PathLike[str]]) -> Iterator[SourceFile | ArticleError]:
    """Every article file under `sources`, in a stable order, and what could not be read."""
    for source in sources:
        source = os.fspath(source)
        if os.path.isdir(source):
            yield from _walk_dir(source)
            continue
        kind = _kind(os.path.basename(source))
        if kind is None:
            yield ArticleError(display_path(source), "unknown format (expected "
                               + ", ".join(sorted(EXTENSIONS)) + ", optionally .gz)")
            continue
        yield _stat_file(source, os.path.basename(source), kind)


def _walk_dir(root: str) -> Iterator[SourceFile | ArticleError]:
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
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            kind = _kind(name)
            if kind is None:
                continue
            path = os.path.join(folder, name)
            yield _stat_file(path, os.path.relpath(path, root), kind)
    while errors:
        err = errors.pop()
        yield ArticleError(display_path(err.filename or root), f"cannot read: {err.strerror}")


def file_digest(path: str) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def _read_bytes(source: SourceFile) -> bytes:
    """The whole file, decompressed, refusing what is too large to be an article file."""
    if source.size > MAX_FILE_BYTES:
        raise ArticleError(source.location, f"file is {source.size / 2**20:.0f} MB, more than the "
                           f"{MAX_FILE_BYTES // 2**20} MB limit for one {source.kind} file")
    with open(source.path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if source.path.lower().endswith(".gz"):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as err:
            raise ArticleError(source.location, f"not a readable gzip file ({err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(source.location, f"more than {MAX_FILE_BYTES // 2**20} MB once "
                           "decompressed; skipped")
    if not data.strip():
        raise ArticleError(source.location, "empty file")
    if looks_binary(data):
        raise ArticleError(source.location, f"binary content, not a {source.kind} file")
    return data


def _drafts(source: SourceFile, shard: tuple[int, int] | None,
            known: Mapping[bytes, str] | None = None) -> Iterator[Draft | ArticleError]:
    where = source.location
    if source.kind == "jsonl":
        from indexer.jsonfiles import parse_json_lines, read_lines

        opener = gzip.open if source.path.lower().endswith(".gz") else open
        with opener(source.path, "rb") as stream:
            try:
                yield from parse_json_lines(read_lines(stream), location=where, shard=shard,
                                            known=known)
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


@dataclass(frozen=True)
class KnownRecord:
    """A JSON Lines record whose line has not changed since the last run: not decoded."""

    id: str


def read_records_digested(
    source: SourceFile, shard: tuple[int, int] | None = None,
    known: Mapping[bytes, str] | None = None,
) -> Iterator[tuple[int, Article | ArticleError | KnownRecord, bytes | None]]:
    """(record number, article or error or KnownRecord, line digest) for one file.

    The record number (the line of a JSON Lines file, else the position in the file) gives
    the order of records and the default ids ("path#3"). With `shard=(k, n)`, only the
    records whose number is k+1 modulo n: how n processes share the work of one file. The
    digest of each JSON Lines line is given (else None), and lines whose digest is in
    `known` (digest -> id) come back as KnownRecord without being decoded.
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
        assert not isinstance(item, KnownRecord)
        yield ordinal, item


def read_articles(source: SourceFile) -> Iterator[Article | ArticleError]:
    """The articles of one file, and an ArticleError for each one that cannot be read."""
    for _, item in read_records(source):
        yield item
