"""An Article as the fields of a Whoosh document (see search/schema.py)."""

from __future__ import annotations

from datetime import UTC
from itertools import chain
from typing import Any

from search.article import Article
from search.feedback import pack_stems
from search.schema import BODY_WEIGHT, LEAD_WEIGHT, TITLE_WEIGHT, Parts, compounds, keyword

__all__ = ["PendingStems", "to_document"]


class PendingStems:
    """The `stems` of a document, packed by Furet's segment writer from the term numbers
    of its `text` field (`parts`) once pooled: the same text as `pack_stems` of its words."""

    __slots__ = ("parts",)

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def packed(self) -> bytes:
        """The packed stems, worked out from the words (for any other writer)."""
        return pack_stems(chain.from_iterable(w for w, _ in self.parts.words())).encode()


def to_document(article: Article, path: str, *, pooled: bool = False) -> dict[str, Any]:
    """Fields for `writer.update_document`, every value already of the type Whoosh wants
    (`pooled`: the stems left to Furet's segment writer, as a PendingStems)."""
    parts = Parts(
        [(article.title, TITLE_WEIGHT), (article.lead, LEAD_WEIGHT), (article.body, BODY_WEIGHT)]
    )
    stems = PendingStems(parts)
    doc: dict[str, Any] = {
        "id": article.id,
        "text": parts,
        "exact": parts,
        "title": article.title,
        "title_exact": article.title,
        "lead": article.lead,
        "body": article.body,
        "authors": list(article.authors),
        "tags": list(article.tags),
        "lang": article.lang,
        "source": article.source,
        "path": path,
        "hash": article.hash,
        # The words the text fields are indexed from, read once (Parts keeps them).
        "stems": stems if pooled else stems.packed(),
    }
    if article.url:
        doc["url"] = article.url
    hyphenated = compounds(article.title, article.lead, article.body)
    if hyphenated:
        doc["compound"] = hyphenated
    if article.section:
        doc["section"] = article.section
        doc["section_terms"] = article.section
    if article.authors:
        doc["author"] = ",".join(keyword(a) for a in article.authors)
        doc["author_terms"] = " ; ".join(article.authors)
    if article.tags:
        doc["tag"] = ",".join(keyword(t) for t in article.tags)
    if article.published:
        utc = article.published.astimezone(UTC)
        doc["date"] = utc.replace(tzinfo=None)
        doc["year"] = article.published.year
        doc["month"] = article.published.year * 100 + article.published.month
        doc["published"] = article.published.isoformat()
    if article.modified:
        doc["modified"] = article.modified.isoformat()
    return doc
