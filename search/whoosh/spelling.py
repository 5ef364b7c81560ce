"""The words of a Whoosh index, for did-you-mean and completions (rules: search/spelling.py).

Words are the `exact` field's vocabulary (folded, unstemmed); hyphenated words are the
`compound` field's. A display form is found by looking at one article that holds the words
and reading them back from its original text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np
from whoosh import query as wq

from search.analysis import stem
from search.deadline import check
from search.snippets import Terms, find_matches
from search.spelling import (
    Vocabulary,
    best_correction,
    edits1,
    near_in_length,
    shared_prefix,
)
from search.whoosh.evaluate import Evaluator
from search.whoosh.private import StoredFields, leaves_of
from search.whoosh.private.lexicon import field_terms
from search.whoosh.strings import position

__all__ = ["WhooshVocabulary", "hyphenated"]

MAX_COMPLETED = 5000  # index words looked at to complete a prefix
MAX_PREFIXED = 500  # index words starting like an unknown word looked at to correct it


def _text(term: Any) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def hyphenated(reader: Any, leaves: Iterable[tuple[Any, int]] | None = None) -> list[str]:
    """Every hyphenated word, sorted (read once, in one pass over each segment's term
    file: a prefix search in every segment's Whoosh term file cost about 14 ms a query
    at 34 segments, and Whoosh's own walk of the words 0.3 to 0.9 s at 90,000 articles).
    `leaves`: the reader's (segment reader, first document) pairs when given (e.g.
    releasing each segment's pages once read), else its own."""
    if leaves is None:
        leaves = leaves_of(reader)
        if len(leaves) == 1:
            return field_terms(leaves[0][0], "compound")
    return sorted(dict.fromkeys(chain.from_iterable(
        field_terms(leaf, "compound") for leaf, _ in leaves)))


class WhooshVocabulary(Vocabulary):
    """One generation's words, read through its searcher and evaluator."""

    def __init__(self, searcher: Any, evaluator: Evaluator,
                 compounds: Sequence[str] | None = None) -> None:
        """`compounds`: the hyphenated words when already read (a generation's prepared
        file, search/whoosh/prepared.py); else they are read here."""
        self.searcher = searcher
        self.reader = searcher.reader()
        self.evaluator = evaluator
        self._compounds = hyphenated(self.reader) if compounds is None else compounds
        # The stored fields read as a results page reads them: a title without the fields
        # a result does not show, a text without them either (search/whoosh/private/codec.py).
        self.stored = StoredFields(self.reader)

    # Terms are looked up in the evaluator's directory (one lookup for all the segments)
    # when it has the field; Whoosh's reader asks every segment in turn.

    def _frequency(self, fieldname: str, text: str) -> int:
        listed = self.evaluator.directory.field(fieldname)
        return listed.frequency(text) if listed is not None else \
            self.reader.doc_frequency(fieldname, text)

    def _starting(self, fieldname: str, prefix: str) -> Iterator[str]:
        listed = self.evaluator.directory.field(fieldname)
        if listed is not None:
            return listed.starting(prefix)
        return (_text(t) for t in self.reader.expand_prefix(fieldname, prefix))

    def known(self, word: str) -> bool:
        stemmed = stem(word)
        return stemmed is None or self._frequency("text", stemmed) > 0

    def nearest(self, word: str) -> str | None:
        # One edit, and words starting as it does: Whoosh's two-edit search (terms_within)
        # walks the whole vocabulary in Python, about 2 s on 90,000 articles, far too slow
        # for a search box.
        frequencies = {}
        for candidate in edits1(word):
            check()
            df = self._frequency("exact", candidate)
            if df:
                frequencies[candidate] = df
        for n, candidate in enumerate(self._starting("exact", shared_prefix(word))):
            if n >= MAX_PREFIXED:
                break
            if near_in_length(word, candidate):
                frequencies[candidate] = self._frequency("exact", candidate)
        return best_correction(word, frequencies)

    def has_compound(self, word: str) -> bool:
        words = self._compounds
        at = position(words, word)
        return at < len(words) and words[at] == word

    def compounds(self, prefix: str, limit: int) -> Iterator[str]:
        words = self._compounds
        start = position(words, prefix)
        for n in range(start, min(len(words), start + limit)):
            if not words[n].startswith(prefix):
                return
            yield words[n]

    def compound_frequency(self, word: str) -> int:
        return self.reader.doc_frequency("compound", word)

    def written_as_typed(self, words: list[str]) -> bool:
        return len(self.evaluator.evaluate(wq.Phrase("exact", words)).docs) > 0

    def display_form(self, words: list[str]) -> str:
        if len(words) > 1:
            shown = self._read_back(self.evaluator.evaluate(wq.Phrase("exact", words)).docs,
                                    Terms(phrases=(tuple(words),)))
            if shown:
                return shown
        return " ".join(
            self._read_back(self.evaluator.first_docs("exact", w, 3), Terms(exact=frozenset([w])))
            or w for w in words)

    def _read_back(self, docs: Any, terms: Terms) -> str | None:
        """The text matching `terms` in one of the first articles of `docs`, lowercased."""
        for docnum in docs[:3].tolist():
            fields = self.stored.with_texts(docnum)
            for text in (fields.get("title", ""), fields.get("lead", ""), fields.get("body", "")):
                spans = find_matches(text, terms)
                if spans:
                    start, end = spans[0]
                    return text[start:end].lower()
        return None

    def frequent_words(self, prefix: str, limit: int) -> list[str]:
        found = []
        for n, word in enumerate(self._starting("exact", prefix)):
            if n >= MAX_COMPLETED:
                break
            check()
            if stem(word) is not None:  # completing to a stop word helps no one
                found.append((self._frequency("exact", word), word))
        found.sort(key=lambda item: (-item[0], item[1]))
        return [self.display_form([word]) for _, word in found[:limit]]

    def titles(self, head: list[str], last: str, limit: int) -> list[tuple[str, str]]:
        expanded = list(self._starting("title_exact", last))
        docs = self.evaluator.term_docs("title_exact", expanded)
        for word in head:
            check()
            if not len(docs):
                break
            docs = np.intersect1d(docs, self.evaluator.term_docs("title_exact", [word]),
                                  assume_unique=True)
        found = self.stored.heads(docs[:limit].tolist())
        return [(fields["id"], fields.get("title") or "") for fields in found]
