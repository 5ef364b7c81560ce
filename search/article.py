"""The article: what every input format is turned into before it reaches the index."""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, dataclass, field
from datetime import datetime
from json.encoder import encode_basestring as _string
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

    @classmethod
    def of_checked(cls, **values: Any) -> Article:
        """`Article(**values)`, for values already of their fields' types (make_article's):
        the same article, its fields set at once (a frozen dataclass's `__init__` sets
        each through `object.__setattr__`, about 7 µs an article)."""
        fields = {**_DEFAULTS, **values}  # (the fields' order, as __init__ sets them)
        if len(fields) != len(_DEFAULTS) or _REQUIRED in fields.values():
            return cls(**values)  # its TypeError: a field missing, or not a field
        article = object.__new__(cls)
        article.__dict__.update(fields)
        if not fields["hash"]:
            article.__dict__["hash"] = content_hash(article)
        return article

    def to_json(self) -> dict[str, Any]:
        """Return the article as JSON-ready values (dates as ISO 8601 strings)."""
        return {name: _json_value(getattr(self, name)) for name in self.__dataclass_fields__}


_REQUIRED = object()  # no default
_DEFAULTS = {name: _REQUIRED if spec.default is MISSING else spec.default
             for name, spec in Article.__dataclass_fields__.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# The fields the content hash covers, in the order of its JSON's sorted keys.
_HASHED = ("authors", "body", "id", "lang", "lead", "modified", "published", "section", "tags",
           "title", "url")
if _HASHED != tuple(sorted(n for n in Article.__dataclass_fields__ if n not in ("source", "hash"))):
    raise AssertionError("content_hash's fields are not the article's")  # (import time)


def content_hash(article: Article) -> str:
    """Hash of what the article says (not where it was read from): spots changed articles."""
    a = article
    if not (isinstance(a.authors, tuple | list) and isinstance(a.tags, tuple | list)):
        return _hash_of_json(article)  # names given some other way: the general way
    try:
        # The JSON `json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",",
        # ":"))` makes, put together from the C string encoder: the same bytes without the
        # encoder's walk over a dictionary made for it (a test compares the two).
        # (Empty values, most articles' lead, names and dates, written without a call.)
        blob = "".join(('{"authors":[', ",".join(map(_string, a.authors)) if a.authors else "",
                        '],"body":', _string(a.body), ',"id":', _string(a.id), ',"lang":',
                        _string(a.lang), ',"lead":', '""' if a.lead == "" else _string(a.lead),
                        ',"modified":', "null" if a.modified is None else _date(a.modified),
                        ',"published":', "null" if a.published is None else _date(a.published),
                        ',"section":', _string(a.section), ',"tags":[',
                        ",".join(map(_string, a.tags)) if a.tags else "", '],"title":',
                        _string(a.title), ',"url":', '""' if a.url == "" else _string(a.url),
                        "}"))
    except (TypeError, AttributeError):  # a value of another type: the general way
        return _hash_of_json(article)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def _date(value: datetime | None) -> str:
    if value is None:
        return "null"
    if not isinstance(value, datetime):
        raise TypeError(type(value).__name__)
    return _string(value.isoformat())


def _hash_of_json(article: Article) -> str:
    """`content_hash` through `json.dumps`, for any value types."""
    data = {
        name: _json_value(getattr(article, name))
        for name in article.__dataclass_fields__
        if name not in ("source", "hash")
    }
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
