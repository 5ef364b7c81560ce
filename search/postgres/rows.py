"""An Article as a row of `furet.articles` (columns in search.postgres.schema.ARTICLE_COLUMNS)."""

from __future__ import annotations

import os
from datetime import UTC
from typing import Any

from search.article import Article
from search.schema import keyword

__all__ = ["article_row"]


def article_row(article: Article, path: str) -> tuple[Any, ...]:
    """The values of one article, in ARTICLE_COLUMNS order (tsvectors are generated)."""
    published = article.published
    return (
        article.id,
        article.url or None,
        article.title,
        article.lead,
        article.body,
        published.isoformat() if published else None,
        published.astimezone(UTC) if published else None,
        published.year if published else None,
        published.year * 100 + published.month if published else None,
        article.modified.isoformat() if article.modified else None,
        article.section or None,
        list(article.authors),
        [keyword(a) for a in article.authors],  # what facets show and filters match
        " ; ".join(article.authors),
        list(article.tags),
        [keyword(t).lower() for t in article.tags],
        article.lang,
        article.source,
        os.fsencode(path),
        article.hash,
    )
