"""The article: what every input format is turned into before it reaches the index."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article, validated: every field has the type it says."""

    id: str
    title: str
    body: str
    url: str = ""
    lead: str = ""
    published: datetime | None = None  # timezone-aware
    modified: datetime | None = None  # timezone-aware
    authors: tuple[str, ...] = ()
    section: str = ""
    tags: tuple[str, ...] = ()
    lang: str = "fr"
    source: str = ""  # file, or file:line, the article was read from
    hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self))

    def to_json(self) -> dict[str, Any]:
        """Return the article as JSON-ready values (dates as ISO 8601 strings)."""
        return {name: _json_value(getattr(self, name)) for name in self.__dataclass_fields__}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def content_hash(article: Article) -> str:
    """Hash of what the article says (not where it was read from): spots changed articles."""
    data = {
        name: _json_value(getattr(article, name))
        for name in article.__dataclass_fields__
        if name not in ("source", "hash")
    }
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
