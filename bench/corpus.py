"""Benchmark corpora: the first N records of a JSONL(.gz) export, or a larger copy of it.

Records need `id`, `title` and `text` (or `body`), like ../shared/corpora/legi-fr. The
benchmark writes what it indexes to a JSONL file so that Furet and SQLite FTS5 read the
same articles, and `scaled()` repeats the corpus with new ids for growth curves.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any


def read_records(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The first `limit` records of a JSONL file (gzipped or not)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = (line for line in f if line.strip())
        return [json.loads(line) for line in islice(lines, limit)]


def scaled(records: list[dict[str, Any]], size: int) -> Iterator[dict[str, Any]]:
    """`size` records: the corpus repeated, each copy with its own ids ("…~2")."""
    for n in range(size):
        record = records[n % len(records)]
        copy = n // len(records)
        if copy:
            record = {**record, "id": f"{record['id']}~{copy}"}
        yield record


def joined(records: list[dict[str, Any]], words: int) -> list[dict[str, Any]]:
    """Longer articles: consecutive records' texts joined (paragraphs) until each holds
    about `words` words; the first record of each group gives id, title and the rest."""
    out: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    count = 0
    for record in records:
        n = len(text_of(record).split())
        if group and count + n > words * 1.2:  # a long article starts a group of its own
            out.append(_join(group))
            group, count = [], 0
        group.append(record)
        count += n
        if count >= words:
            out.append(_join(group))
            group, count = [], 0
    if group:
        out.append(_join(group))
    return out


def _join(group: list[dict[str, Any]]) -> dict[str, Any]:
    first = {k: v for k, v in group[0].items() if k != "body"}
    first["text"] = "\n\n".join(text_of(r) for r in group)
    return first


def write_jsonl(records: Iterator[dict[str, Any]] | list[dict[str, Any]], path: Path) -> int:
    """Write records as JSON Lines; return how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def text_of(record: dict[str, Any]) -> str:
    return record.get("text") or record.get("body") or ""
