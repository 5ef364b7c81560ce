"""What the snippets' property tests draw: texts made of French text's pieces (joined
as they come, or with spaces between), and queries of words and quoted phrases."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from search.query import parse_query
from search.snippets import Terms, highlight_terms


def texts_of(pieces: Sequence[str], size: int) -> st.SearchStrategy[str]:
    """Up to `size` pieces (or short random strings), joined as they come or spaced."""
    piece = st.one_of(st.sampled_from(list(pieces)), st.text(max_size=5))
    return st.one_of(st.lists(piece, max_size=size).map("".join),
                     st.lists(piece, max_size=size).map(" ".join))


def queries_of(words: Sequence[str], *more: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One to three of `words`, quoted phrases of two or three of them, or `more`."""
    return st.lists(st.one_of(
        st.sampled_from(list(words)),
        st.lists(st.sampled_from(list(words)), min_size=2, max_size=3).map(
            lambda ws: '"' + " ".join(ws) + '"'),
        *more), min_size=1, max_size=3).map(" ".join)


def terms_of(query: str) -> Terms:
    """What a page of results for `query` highlights."""
    return highlight_terms(parse_query(query))
