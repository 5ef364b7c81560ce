"""For each search that found nothing, the fix Furet proposes to the editors.

In order: the query finds articles now (the index or the synonyms changed since: nothing
to do); a spelling correction that exists in the index, with its hit count (the one readers
are offered, search/spelling.py); a near form that matches articles, found by French
spelling variants (« daesh » → « daech », « telefone » → « téléphone ») among the index's
words; or nothing. Accepting a proposal adds a synonym rule (web/synonymstore.py).

Proposals are searched on the current index and kept per index generation and synonyms
version, so a page of twenty failed searches costs their searches once.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from search import Backend, SearchRequest
from search.errors import QueryError
from search.query import parse_query, plain_word_group
from search.spelling import edits1
from search.synonyms import Synonyms

__all__ = ["Proposal", "ProposalCache", "propose"]

# French spellings of one sound, each way: what readers type for what the archive writes.
_REWRITES = [("sh", "ch"), ("k", "c"), ("k", "qu"), ("ph", "f"), ("y", "i"), ("ou", "u"),
             ("w", "v"), ("ck", "k"), ("z", "s"), ("dj", "j"), ("ee", "i"), ("oo", "ou"),
             ("ai", "e"), ("ei", "e"), ("au", "o"), ("eau", "o"), ("gu", "g"), ("th", "t")]
MAX_CANDIDATES = 12  # near forms searched per word


@dataclass(frozen=True)
class Proposal:
    """What to do about a failed search: `kind` is found, correction or near."""

    kind: str
    text: str  # the query to search instead (found: the query itself)
    hits: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _count(index: Backend, query: str, synonyms: Synonyms | None = None,
           hidden: frozenset[str] = frozenset()) -> tuple[int, Any]:
    request = SearchRequest(query, per_page=1, facets=False, snippets=False,
                            synonyms=synonyms, hidden=hidden)
    results = index.search(request)
    return results.total, results


def variants(word: str) -> set[str]:
    """Spellings of `word` that sound alike, and those one edit away."""
    found = set(edits1(word))
    pairs = _REWRITES + [(b, a) for a, b in _REWRITES]
    for old, new in pairs:
        for match in re.finditer(re.escape(old), word):
            found.add(word[:match.start()] + new + word[match.end():])
    found.add(re.sub(r"(.)\1", r"\1", word))  # doubled letters
    for end in ("e", "s", "es"):
        found.add(word + end)
        if word.endswith(end):
            found.add(word[:-len(end)])
    found.discard(word)
    return {f for f in found if len(f) >= 2}


def propose(index: Backend, query: str, synonyms: Synonyms | None = None,
            hidden: frozenset[str] = frozenset()) -> Proposal | None:
    """The fix for a query that found nothing, or None (hidden articles count for none)."""
    try:
        total, results = _count(index, query, synonyms, hidden)
    except QueryError:
        return None
    if total and not results.corrected:
        return Proposal("found", query, total)
    if results.suggestion:
        hits = total if results.corrected else _count(index, results.suggestion,
                                                      hidden=hidden)[0]
        if hits:
            return Proposal("correction", results.suggestion, hits)
    return _near(index, query, hidden)


def _near(index: Backend, query: str, hidden: frozenset[str]) -> Proposal | None:
    """The query with one of its words replaced by the near form that finds most."""
    parsed = parse_query(query)
    words = [g[0].text for g in parsed.groups if plain_word_group(g)]
    if not words or len(words) > 4:
        return None
    options: list[tuple[str, str]] = []  # (word as typed, form as the archive writes it)
    with index.view() as view:
        vocabulary = view.vocabulary()
        for word in words:
            terms = parse_query(word).groups[0][0].terms()
            if len(terms) != 1 or vocabulary.known(terms[0]):
                continue
            known = sorted(v for v in variants(terms[0]) if vocabulary.known(v))
            options += [(word, vocabulary.display_form([v]) or v)
                        for v in known[:MAX_CANDIDATES]]
    best: Proposal | None = None
    for word, form in options:
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", form.replace("\\", r"\\"), query,
                      count=1)
        hits = _count(index, text, hidden=hidden)[0]
        if hits and (best is None or hits > best.hits):
            best = Proposal("near", text, hits)
    return best


class ProposalCache:
    """Proposals kept per index generation and synonyms version (an LRU)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, frozenset[str], str], Proposal | None] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: Backend, query: str, synonyms: Synonyms | None,
            hidden: frozenset[str] = frozenset()) -> Proposal | None:
        key = (index.generation, synonyms.version if synonyms else "", hidden, query)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = propose(index, query, synonyms, hidden)
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found
