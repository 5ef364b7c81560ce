"""Helping the reader: did-you-mean corrections and completions as they type.

Both work on the `exact` field's vocabulary (folded, unstemmed words) and give words back
in their *display form*, the accented spelling found in the articles: `hiafa` → `haïfa`,
`etat unis` → `états-unis`. A display form is found by looking at one article that holds
the words and reading them back from its original text.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from whoosh import query as wq

from search.analysis import FrenchFilter
from search.query import Clause, ParsedQuery
from search.snippets import Terms, find_matches

__all__ = ["correct", "complete", "display_form"]

_LETTERS = string.ascii_lowercase + string.digits
_STEMMER = FrenchFilter(stem=True, stop=True)
MIN_CORRECTABLE = 3  # shorter words are left as typed
MAX_CORRECTABLE = 30  # longer "words" are no typos: not worth 50 ms per extra letter
MAX_WORDS = 8  # a longer query is not checked word by word


def _edits1(word: str) -> set[str]:
    """Every string one edit away from `word` (Norvig): delete, transpose, replace, insert."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


def _best(reader: Any, candidates: Iterable[str]) -> str | None:
    best, best_df = None, 0
    for candidate in candidates:
        df = reader.doc_frequency("exact", candidate)
        if df > best_df or (df == best_df and df and candidate < (best or "")):
            best, best_df = candidate, df
    return best


def _correct_word(reader: Any, word: str) -> str | None:
    """The most frequent known word one edit away from an unknown `word`."""
    if not MIN_CORRECTABLE <= len(word) <= MAX_CORRECTABLE or not word.isalnum():
        return None
    # One edit only: Whoosh's two-edit search (terms_within) walks the whole vocabulary in
    # Python, about 2 s on 90,000 articles, far too slow for a search box.
    return _best(reader, _edits1(word))


def _known(reader: Any, word: str) -> bool:
    stem = _STEMMER.term(word)
    return stem is None or reader.doc_frequency("text", stem) > 0


def _compound_for(reader: Any, first: str, second: str) -> str | None:
    """The hyphenated word the articles write for two typed words (etat unis → etats-unis).

    Looks among the indexed compounds starting like `first` for one whose parts have the
    stems of both words; the most frequent wins. None when the words are already written
    that way, or nothing fits.
    """
    if reader.doc_frequency("compound", f"{first}-{second}"):
        return None
    stems = (_STEMMER.term(first), _STEMMER.term(second))
    if None in stems:
        return None
    best, best_df = None, 0
    for n, term in enumerate(reader.expand_prefix("compound", stems[0])):
        if n >= 500:
            break
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        parts = text.split("-")
        if len(parts) == 2 and tuple(map(_STEMMER.term, parts)) == stems:
            df = reader.doc_frequency("compound", text)
            if df > best_df:
                best, best_df = text, df
    return best


def _fix_pairs(searcher: Any, words: list[str]) -> bool:
    """Replace pairs of words the articles write as one hyphenated word (and never as
    typed: "magistrats rapporteurs" is no mistake for "magistrat-rapporteur"); True if
    any."""
    changed = False
    reader = searcher.reader()
    for i in range(len(words) - 1):
        found = _compound_for(reader, words[i], words[i + 1])
        if found and _first_docs(searcher, wq.Phrase("exact", words[i:i + 2]), 1):
            continue
        if found:
            words[i], words[i + 1] = found.split("-")
            changed = True
    return changed


def correct(searcher: Any, parsed: ParsedQuery) -> str | None:
    """A corrected query, in display form, or None when the query looks right.

    Unknown words are replaced by the most frequent word one edit away, and pairs
    of words the articles write as one hyphenated word by that word (etat unis →
    états-unis).
    """
    reader = searcher.reader()
    words: list[str] = []
    changed = False
    if sum(len(group) for group in parsed.groups) > MAX_WORDS:
        return None
    for group in parsed.groups:
        for clause in group:
            if clause.kind != "word" or clause.field:
                continue
            for term in clause.terms():
                if _known(reader, term):
                    words.append(term)
                    continue
                fixed = _correct_word(reader, term)
                if fixed is None:
                    words.append(term)
                else:
                    words.append(fixed)
                    changed = True
    if not changed and 2 <= len(words) <= 4:
        changed = _fix_pairs(searcher, words)
    if not changed:
        return None
    return display_form(searcher, words)


def display_form(searcher: Any, words: list[str]) -> str:
    """`words` (folded) as the articles write them, lowercased: "etats unis" → "états-unis"."""
    if len(words) > 1:
        shown = _read_back(searcher, wq.Phrase("exact", words), Terms(phrases=(tuple(words),)))
        if shown:
            return shown
    return " ".join(
        _read_back(searcher, wq.Term("exact", w), Terms(exact=frozenset([w]))) or w
        for w in words
    )


def _read_back(searcher: Any, query: wq.Query, terms: Terms) -> str | None:
    """The text matching `terms` in one article matching `query`, lowercased."""
    for docnum in _first_docs(searcher, query, 3):
        fields = searcher.stored_fields(docnum)
        for text in (fields.get("title", ""), fields.get("lead", ""), fields.get("body", "")):
            spans = find_matches(text, terms)
            if spans:
                start, end = spans[0]
                return text[start:end].lower()
    return None


def _first_docs(searcher: Any, query: wq.Query, count: int) -> list[int]:
    found = []
    for docnum in query.docs(searcher):
        found.append(docnum)
        if len(found) == count:
            break
    return found


def complete(searcher: Any, text: str, *, limit: int = 10) -> list[str]:
    """Completions of what a reader is typing: frequent words, then matching titles."""
    clause = Clause("word", text)
    terms = clause.terms()
    if not terms or len(terms[-1]) < 2 or text.endswith(" "):
        return []
    reader = searcher.reader()
    head, last = terms[:-1], terms[-1]
    found = []
    for n, term in enumerate(reader.expand_prefix("exact", last)):
        if n >= 5000:
            break
        word = term.decode("utf-8") if isinstance(term, bytes) else term
        if _STEMMER.term(word) is not None:  # completing to a stop word helps no one
            found.append((reader.doc_frequency("exact", word), word))
    found.sort(key=lambda item: (-item[0], item[1]))
    prefix = display_form(searcher, head) + " " if head else ""
    out = [prefix + display_form(searcher, [word]) for _, word in found[: limit]]
    if len(out) < limit:
        title_query = wq.And([*(wq.Term("title_exact", w) for w in head),
                              wq.Prefix("title_exact", last)])
        for docnum in _first_docs(searcher, title_query, limit):
            title = searcher.stored_fields(docnum).get("title")
            if title and title not in out:
                out.append(title)
            if len(out) >= limit:
                break
    return out[:limit]
