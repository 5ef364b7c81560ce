"""The Whoosh schema of a Furet index, and the weighted text field it is built on.

Ranking is BM25F: the title, the lead and the body of an article are indexed into one
`text` field (stemmed) and one `exact` field (folded, unstemmed, with positions for
phrases), each token weighted by the part it comes from. Summing weighted frequencies
before BM25's saturation is what BM25F does, and a query walks one posting list per term
and field instead of three.

Whoosh pickles this schema into every index: `WeightedText` and `Parts` keep their names
and module. Changing fields means a new SCHEMA_VERSION and a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.analysis import Analyzer, Token
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.analysis import exact_analyzer, french_analyzer

SCHEMA_VERSION = 1

# Weight of each part of an article in the `text` and `exact` fields (BM25F field weights).
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 1.5
BODY_WEIGHT = 1.0
# Positions left empty between parts, so a phrase never spans the title and the lead.
PART_GAP = 100


class Parts:
    """Text in weighted parts, the value of a `WeightedText` field: ((text, weight), ...)."""

    __slots__ = ("items",)

    def __init__(self, items: Sequence[tuple[str, float]]) -> None:
        self.items = tuple((text, float(weight)) for text, weight in items if text)

    def __getstate__(self) -> tuple[tuple[str, float], ...]:
        return self.items

    def __setstate__(self, state: tuple[tuple[str, float], ...]) -> None:
        self.items = state

    def __repr__(self) -> str:
        return f"Parts({self.items!r})"


class _PartsAnalyzer:
    """Runs an analyzer over each part of a `Parts`, weighting and spacing its tokens."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def __call__(self, value: Parts, **kwargs: Any) -> Iterator[Token]:
        start_pos = 0
        for text, weight in value.items:
            last = start_pos - 1
            for token in self.analyzer(text, start_pos=start_pos, **kwargs):
                token.boost = weight
                last = token.pos if kwargs.get("positions") else last
                yield token
            start_pos = last + 1 + PART_GAP


class WeightedText(TEXT):
    """A TEXT field whose value may be `Parts`: each token weighs what its part weighs."""

    def index(self, value: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Parts):
            return super().index(value, **kwargs)
        analyzer = _PartsAnalyzer(self.analyzer)
        items = self.format.word_values(value, analyzer, mode="index", **kwargs)
        return ((text.encode("utf-8"), freq, weight, vbytes)
                for text, freq, weight, vbytes in items)

    def spellable_words(self, value: Any) -> Any:
        if isinstance(value, Parts):
            value = " ".join(text for text, _ in value.items)
        return super().spellable_words(value)


def build_schema() -> Schema:
    """Return a new schema for a Furet index."""
    french, exact = french_analyzer(), exact_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        url=ID(stored=True),
        # Searchable text: title, lead and body as weighted parts (see module docstring).
        text=WeightedText(analyzer=french, phrase=False),
        exact=WeightedText(analyzer=exact, phrase=True),
        # Fields a reader can name: titre:, auteur:, rubrique:.
        title=TEXT(analyzer=french, phrase=False, stored=True),
        title_exact=TEXT(analyzer=exact, phrase=True),
        author_terms=TEXT(analyzer=exact, phrase=True),
        section_terms=TEXT(analyzer=exact, phrase=True),
        # Exact values for filters and facets.
        section=ID(stored=True, sortable=True),
        author=KEYWORD(commas=True, scorable=False),
        tag=KEYWORD(commas=True, lowercase=True, scorable=False),
        date=DATETIME(sortable=True),
        year=NUMERIC(int, bits=32, sortable=True),
        month=NUMERIC(int, bits=32, sortable=True),
        lang=ID(stored=True),
        # Shown, never searched.
        lead=STORED,
        body=STORED,
        published=STORED,
        modified=STORED,
        authors=STORED,
        tags=STORED,
        source=STORED,
        path=STORED,
        hash=STORED,
    )


def keyword(value: str) -> str:
    """An author, section or tag as a KEYWORD term: commas would split it, so they go."""
    return " ".join(value.replace(",", " ").split())
