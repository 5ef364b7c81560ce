"""Articles as JSON: one object or an array (`.json`), or one object a line (`.jsonl`, `.ndjson`).

Record keys (unknown keys are ignored, wrong types are reported):
`id`, `url`, `title`, `lead`, `body` (plain text, paragraphs separated by blank lines) or
`html` (the article's HTML, a fragment or a whole page), `published`, `modified`, `authors`
(list of names, or one string "A, B"), `section`, `tags` (list, or "a, b"), `lang`.
Common other names are read too (`text`/`content` for body, `headline`, `description`/
`summary` for lead, `date`, `author`, `category`, `keywords`; see ALIASES).
A `.json` file may also hold `{"articles": [...]}`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import xxhash

from indexer.records import KNOWN_KEYS, Draft
from search.errors import ArticleError
from search.known_lines import BLAKE2B_LINES, LINE_DIGEST, KnownLines

__all__ = ["parse_json", "parse_json_lines", "line_digest", "blake2b_line_digest",
           "digest_of_kind", "read_lines", "MAX_LINE_BYTES", "ReadLimitError"]

MAX_LINE_BYTES = 16 * 1024 * 1024
# Lines parsed at a time: their digests are looked up in one search (search/known_lines.py).
BATCH_LINES = 1024
BATCH_BYTES = 8 * 1024 * 1024
# Bytes of a plain file read at a time, then cut into lines.
READ_BLOCK = 1024 * 1024
_ENDINGS = b"\r\n"
_blake2b = hashlib.blake2b
_xxh3 = xxhash.xxh3_128_digest
_BLANK_RUN = re.compile(rb"[ \t\r\f\v\n]*\n")
_SPACE = re.compile(r"[\s,]*")
_FULL_PAGE = re.compile(r"^\s*(?:<!doctype|<html|<head)", re.I)


# Names other exports use for the same fields; the documented name wins when both are there.
ALIASES = {
    "text": "body",
    "content": "body",
    "headline": "title",
    "description": "lead",
    "summary": "lead",
    "date": "published",
    "datePublished": "published",
    "dateModified": "modified",
    "author": "authors",
    "category": "section",
    "keywords": "tags",
}
_ALIAS_ORDER = {alias: n for n, alias in enumerate(ALIASES)}


def _draft(record: Any, location: str) -> Draft:
    if not isinstance(record, dict):
        raise ArticleError(location, f"expected a JSON object, got {type(record).__name__}")
    # The record's keys looked up (a few), not every known key and alias (two dozen).
    draft: Draft = {}
    aliases: list[str] = []
    for key, value in record.items():
        if key in KNOWN_KEYS:
            draft[key] = value
        elif key in ALIASES:
            aliases.append(key)
    if len(aliases) > 1:
        aliases.sort(key=_ALIAS_ORDER.__getitem__)  # ALIASES's order, which decides
    for alias in aliases:
        key = ALIASES[alias]
        if draft.get(key) is None:
            draft[key] = record[alias]
    html = draft.pop("html", None)
    if html is not None and not draft.get("body"):
        if not isinstance(html, str):
            raise ArticleError(location, f"html: expected a string, got {type(html).__name__}")
        draft.update(_from_html(html, location))
    return draft


def _from_html(html: str, location: str) -> Draft:
    """Body (and, for a whole page, missing metadata) from a record's `html`."""
    if _FULL_PAGE.match(html):
        from indexer.html import parse_page

        page = parse_page(html, location=location)
        return {key: value for key, value in page.items() if value}
    from indexer.fragments import fragment_text

    return {"body": fragment_text(html)}


def parse_json(text: str, *, location: str) -> Iterator[Draft | ArticleError]:
    """Drafts from a `.json` document: an object, an array, or {"articles": [...]}."""
    stripped = text.lstrip()
    if not stripped:
        raise ArticleError(location, "empty file")
    if stripped[0] not in "[{":
        raise ArticleError(location, "not JSON (expected an object or an array)")
    decoder = json.JSONDecoder()
    start = len(text) - len(stripped)
    if stripped[0] == "{":
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as err:
            raise ArticleError(f"{location}:{err.lineno}", f"invalid JSON: {err.msg}") from None
        if text[end:].strip():
            line = text.count("\n", 0, end) + 1
            raise ArticleError(f"{location}:{line}", "invalid JSON: extra data after the object")
        if isinstance(value.get("articles"), list) and "title" not in value:
            yield from _records(value["articles"], location, None)
            return
        yield _safe_draft(value, f"{location}:{text.count(chr(10), 0, start) + 1}")
        return
    yield from _array(text, start, location)


def _array(text: str, start: int, location: str) -> Iterator[Draft | ArticleError]:
    """Each element of a top-level array with the line it starts on, one bad one at a time."""
    decoder = json.JSONDecoder()
    pos = _SPACE.match(text, start + 1).end()
    line, counted = 1, 0  # line of `pos`, counted up to `counted` (never twice: O(n))
    while pos < len(text) and text[pos] != "]":
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            # Nothing after a syntax error can be trusted: report it and stop this file.
            yield ArticleError(f"{location}:{err.lineno}", f"invalid JSON: {err.msg}")
            return
        yield _safe_draft(value, f"{location}:{line}")
        pos = _SPACE.match(text, pos).end()
    if pos >= len(text):
        yield ArticleError(f"{location}:{text.count(chr(10)) + 1}", "invalid JSON: missing ]")


def _records(
    values: Iterable[Any], location: str, line: int | None
) -> Iterator[Draft | ArticleError]:
    for n, value in enumerate(values, 1):
        yield _safe_draft(value, f"{location}:{line}" if line else f"{location}#{n}")


def _safe_draft(value: Any, location: str) -> Draft | ArticleError:
    try:
        draft = _draft(value, location)
    except ArticleError as err:
        return err
    draft["_location"] = location
    return draft


class ReadLimitError(Exception):
    """A stream held more bytes than `read_lines` was allowed to read."""

    def __init__(self, line: int) -> None:
        super().__init__(f"stopped after line {line:,}")
        self.line = line


class Peekable(Protocol):
    """A buffered binary stream (a file opened "rb", a GzipFile)."""

    def peek(self, size: int = ..., /) -> bytes: ...
    def read(self, size: int = ..., /) -> bytes: ...
    def readline(self, size: int = ..., /) -> bytes: ...


def read_lines(stream: Peekable, *, limit: int | None = None
               ) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) of a binary stream, blank lines skipped (each counted; the last
    one is given, empty, to count them); None stands for a line too long to read. More
    than `limit` bytes raise ReadLimitError.

    Without a limit (a plain file) the stream is read by blocks of READ_BLOCK bytes and cut
    into lines there (`_lines_by_block`: a `readline` a line was a tenth of an update of a
    million-line file); with one (a compressed file), a line at a time, so that the limit
    stops at the line it always stopped at (`_lines_in_limit`)."""
    if limit is None:
        return _lines_by_block(stream, READ_BLOCK, MAX_LINE_BYTES)
    return _lines_in_limit(stream, limit)


def _lines_by_block(stream: Peekable, block_size: int, most: int
                    ) -> Iterator[tuple[int, bytes | None]]:
    """`read_lines` without a limit: what `_lines_in_limit` gives, but for lines of white
    space alone, which are never given (it gives some, by the buffer-full: the lines given
    are not records either way), and at most `block_size` bytes read ahead."""
    number = given = 0
    head = b""  # the start of the next line, read with the block before (< `most` bytes)
    skipping = False  # in a line too long, reported: its rest is read and dropped
    while block := stream.read(block_size):
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                continue
            skipping = False
            block = block[end + 1:]
        if head:
            block, head = head + block, b""
        cut = block.rfind(b"\n") + 1
        if cut:
            for line in io.BytesIO(block[:cut]):
                number += 1
                if len(line) > most:
                    given = number
                    yield number, None
                elif not line.isspace():
                    given = number
                    yield number, line
        if len(block) - cut >= most:
            number = given = number + 1
            skipping = True
            yield number, None
        else:
            head = block[cut:]
    if head:
        yield number + 1, head
    elif number > given:
        yield number, b""


def _lines_in_limit(stream: Peekable, limit: int | None
                    ) -> Iterator[tuple[int, bytes | None]]:
    """`read_lines` a line at a time, blank lines skipped by the buffer-full (a file of
    newlines costs no loop a line), `limit` checked after each line or run of blank lines."""
    number = given = consumed = 0
    while limit is None or consumed <= limit:
        blank = _BLANK_RUN.match(stream.peek(1 << 16))
        if blank:
            run = stream.read(blank.end())
            number += run.count(b"\n")
            consumed += len(run)
            continue
        line = stream.readline(MAX_LINE_BYTES)
        if not line:
            if number > given:
                yield number, b""
            return
        number = given = number + 1
        consumed += len(line)
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                consumed += len(rest)
            consumed += len(rest)
            yield number, None
        else:
            yield number, line
    raise ReadLimitError(number)


def line_digest(raw: bytes) -> bytes:
    """What identifies a line's content: unchanged lines need not be decoded again. The
    line without its ending, XXH3's 128 bits (the manifest's LINE_DIGEST; a copy of the
    line hashed took less time than a view of it)."""
    if raw[-1:] == b"\n" and raw[-2:-1] not in b"\r\n":  # one LF after text: at once
        return _xxh3(raw[:-1])
    return _xxh3(raw[:_text_end(raw)])


def blake2b_line_digest(raw: bytes) -> bytes:
    """`line_digest` as recorded before 2 December 2026 (BLAKE2b, 16 bytes), for the
    manifests that hold it (hashed in place: rstrip copied each line)."""
    if raw[-1:] == b"\n" and raw[-2:-1] not in b"\r\n":  # one LF after text: at once
        return _blake2b(memoryview(raw)[:-1], digest_size=16).digest()
    return _blake2b(memoryview(raw)[:_text_end(raw)], digest_size=16).digest()


def _text_end(raw: bytes) -> int:
    end = len(raw)
    while end and raw[end - 1] in _ENDINGS:
        end -= 1
    return end


_XXH3_LINES = line_digest  # (the one `_digests` makes inline)
_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    LINE_DIGEST: line_digest, BLAKE2B_LINES: blake2b_line_digest}


def digest_of_kind(kind: str) -> Callable[[bytes], bytes]:
    """The line digest a store recorded as `kind` (search/known_lines.py); an unknown kind
    (a later version's) gives `line_digest`: its lines are then all decoded again."""
    return _DIGESTS.get(kind, line_digest)


def parse_json_lines(
    lines: Iterable[tuple[int, bytes | None]], *, location: str,
    shard: tuple[int, int] | None = None, known: Mapping[bytes, str] | KnownLines | None = None,
    hasher: Callable[[bytes], bytes] = line_digest,
) -> Iterator[Draft | ArticleError]:
    """Drafts from JSON Lines (numbered by `read_lines`), one object a line.

    Each draft carries its line number as "_ordinal" and the line's digest as "_digest".
    With `shard=(k, n)` only the lines whose number is k modulo n are decoded: n processes
    can share one large file. A line whose digest is in `known` (digest -> id, from the
    last run) is not decoded: its draft is {"_known": id} (the article has not changed).
    When `known` is a KnownLines (asked a batch of lines at a time), the known lines that
    follow one another in a batch make one draft, {"_known_rows": their rows}, numbered
    as the last of them. A file without a record is reported (by the first shard only).
    `hasher` gives the lines' digests (`line_digest`, or the kind `known` was recorded
    with: `digest_of_kind`).
    """
    number = records = last = 0
    table = known if isinstance(known, KnownLines) else None
    for batch in _batches(lines):
        if not records:  # (only whether there is one counts)
            records = any(raw is None or (raw and not raw.isspace()) for _, raw in batch)
        if table is not None and shard is None:
            # The lines not known are found with numpy; the known ones between them are
            # given as runs without a look at each (the loop below does the same a line at
            # a time: a run ends at any line not known).
            digests = _digests(batch, hasher)
            rows = table.find(digests)
            start = 0
            for k in [k for k, row in enumerate(rows) if row < 0]:
                if k > start:
                    yield {"_known_rows": rows[start:k], "_ordinal": batch[k - 1][0]}
                start = k + 1
                draft = _decoded(*batch[k], digests[k], location)
                if draft is not None:
                    yield draft
            if start < len(batch):
                yield {"_known_rows": rows[start:], "_ordinal": batch[-1][0]}
            number = batch[-1][0]
            continue
        digests = _digests(batch, hasher) if shard is None else [
            hasher(raw) if raw is not None and (n - 1) % shard[1] == shard[0] else None
            for n, raw in batch]
        rows = table.find(digests) if table is not None else None
        run: list[int] = []  # the rows of the known lines read since the last draft
        for k, (number, raw) in enumerate(batch):
            if shard is not None and (number - 1) % shard[1] != shard[0]:
                continue
            digest = digests[k]
            if rows is not None:
                if rows[k] >= 0:
                    run.append(rows[k])
                    last = number
                    continue
                if run:
                    yield {"_known_rows": run, "_ordinal": last}
                    run = []
            elif known is not None and digest in known:
                yield {"_known": known[digest], "_ordinal": number,  # type: ignore[index]
                       "_digest": digest}
                continue
            draft = _decoded(number, raw, digest, location)
            if draft is not None:
                yield draft
        if run:
            yield {"_known_rows": run, "_ordinal": last}
    if not records and (shard is None or shard[0] == 0):
        yield ArticleError(location, f"no record in {number:,} blank lines" if number
                           else "empty file")


def _digests(batch: list[tuple[int, bytes | None]], hasher: Callable[[bytes], bytes]
             ) -> list[bytes | None]:
    """The digest of each line of a batch (None for a line too long). `line_digest`'s usual
    case, a line ending in one LF after text, is hashed here without a call a line (half
    the time of a million lines' digests went to the call and its tests)."""
    if hasher is not _XXH3_LINES:
        return [hasher(raw) if raw is not None else None for _, raw in batch]
    return [_xxh3(raw[:-1]) if raw is not None and len(raw) > 1 and raw[-1] == 10
            and raw[-2] != 10 and raw[-2] != 13 else None if raw is None else line_digest(raw)
            for _, raw in batch]


def _decoded(number: int, raw: bytes | None, digest: bytes | None, location: str
             ) -> Draft | ArticleError | None:
    """The draft of one line (None: a blank line), numbered, with its digest."""
    where = f"{location}:{number}"
    if raw is None:
        return ArticleError(where, f"line longer than {MAX_LINE_BYTES // 2**20} MB; skipped")
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as err:
        return ArticleError(where, f"not UTF-8 (byte {err.start + 1} of the line)")
    if not line or line.isspace():  # (strip() copied every line)
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        return ArticleError(where, f"invalid JSON: {err.msg} (column {err.colno})")
    except RecursionError:
        return ArticleError(where, "invalid JSON: nested too deeply")
    draft = _safe_draft(value, where)
    if not isinstance(draft, ArticleError):
        draft["_ordinal"] = number
        draft["_digest"] = digest
    return draft


def _batches(lines: Iterable[tuple[int, bytes | None]]
             ) -> Iterator[list[tuple[int, bytes | None]]]:
    """`lines` a batch at a time (BATCH_LINES lines, or BATCH_BYTES bytes); an error
    while reading comes after the lines read before it, as it would one at a time."""
    each = iter(lines)
    while True:
        batch: list[tuple[int, bytes | None]] = []
        size = 0
        try:
            for item in each:
                batch.append(item)
                size += len(item[1] or b"")
                if len(batch) >= BATCH_LINES or size >= BATCH_BYTES:
                    break
        except BaseException:
            if batch:
                yield batch
            raise
        if not batch:
            return
        yield batch
