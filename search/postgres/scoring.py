"""A plain-words search ranked in the web process: each term's posting list read packed (one
index-only scan, no aggregate on the server), then summed, ranked and counted with numpy,
as the Whoosh store does over its own posting lists.

The sums are those of the SQL aggregate (search/postgres/backend.py `_postings_sums`): an
article's score is the sum of its posting weights times their terms' idf weights (with
variants, a word counts the best of its stem and variants); it has every word (tier 1) when
as many of its rows belong to words as the query has words; with feedback, the question's
own `feedback_after` best (ties by doc number) come first by their own score, the others by
both. Decoded posting lists are kept per process (`PostingCache`), keyed by term, for the
generation being searched: frequent words come back in many queries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.postgres.compile import Compiled, Posting
from search.postgres.feedback import BODY_CHARS, FEEDBACK

__all__ = ["PostingCache", "Scored", "best_docs", "match_scores", "read_postings", "top_docs"]

# Each term's posting list, packed: doc numbers and weights, 4 bytes each, big-endian, in
# the same order (one aggregate's input rows feed both).
_PACKED = """
SELECT q.term, x.docs, x.weights FROM unnest(%s::text[]) q(term) CROSS JOIN LATERAL (
  SELECT string_agg(int4send(p.doc), ''::bytea) AS docs,
         string_agg(float4send(p.weight), ''::bytea) AS weights
  FROM furet.postings p WHERE p.term = q.term) x
"""
_EMPTY = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class PostingCache:
    """Decoded posting lists of the generation being searched, the most recently used kept
    up to `limit` bytes (a process's share; 8 bytes a posting)."""

    def __init__(self, limit: int = 64 * 2**20) -> None:
        self.limit = limit
        self._generation = ""
        self._lists: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, generation: str, terms: Collection[str]) -> dict[str, tuple[Any, Any]]:
        """The lists of `terms` known for `generation`."""
        with self._lock:
            if generation != self._generation:
                self._generation, self._lists, self._size = generation, OrderedDict(), 0
            found = {}
            for term in terms:
                lists = self._lists.get(term)
                if lists is not None:
                    self._lists.move_to_end(term)
                    found[term] = lists
            return found

    def put(self, generation: str, term: str, lists: tuple[Any, Any]) -> None:
        size = lists[0].nbytes + lists[1].nbytes
        with self._lock:
            if generation != self._generation or size > self.limit or term in self._lists:
                return
            self._lists[term] = lists
            self._size += size
            while self._size > self.limit:
                _, (docs, weights) = self._lists.popitem(last=False)
                self._size -= docs.nbytes + weights.nbytes

    def clear(self) -> None:
        with self._lock:
            self._generation, self._lists, self._size = "", OrderedDict(), 0


def read_postings(conn: Any, terms: Collection[str], cache: PostingCache | None,
                  generation: str) -> dict[str, tuple[Any, Any]]:
    """Each term's (doc numbers, weights), from the cache or in one statement."""
    found = cache.get(generation, terms) if cache is not None else {}
    missing = [t for t in dict.fromkeys(terms) if t not in found]
    if missing:
        rows = conn.execute(_PACKED, (missing,), binary=True).fetchall()
        for term, docs, weights in rows:
            # Kept as 4-byte numbers, in this machine's byte order (8 bytes a posting).
            lists = (np.frombuffer(docs or b"", dtype=">i4").astype(np.int32),
                     np.frombuffer(weights or b"", dtype=">f4").astype(np.float32))
            found[term] = lists
            # Not when the snapshot turned out to be another generation's than expected
            # (search/postgres/snapshot.py): the search is redone.
            if cache is not None and not getattr(conn, "stale", False):
                cache.put(generation, term, lists)
    return found


@dataclass(frozen=True)
class Scored:
    """Every match of a plain-words query: doc numbers (ascending), tiers and scores."""

    docs: Any
    tier: Any
    score: Any


def match_scores(postings: Sequence[Posting], lists: dict[str, tuple[Any, Any]],
                 compiled: Compiled, hidden: Any = None, *, feedback: bool | None = None
                 ) -> Scored:
    """The matches of `postings` (search/postgres/compile.py `Compiled.postings`) and their
    scores, as the SQL aggregate computes them; `hidden` doc numbers left out."""
    feedback = compiled.feedback if feedback is None else feedback
    size = 1 + max((int(docs.max()) for docs in (lists.get(t, _EMPTY)[0]
                                                 for t, _, _ in postings) if len(docs)),
                   default=-1)
    own = np.zeros(size)
    more = np.zeros(size)
    found = np.zeros(size, dtype=np.int64)  # rows of words (>= 0)
    kept = np.zeros(size, dtype=bool)  # rows of words or feedback
    by_word: dict[int, list[tuple[Any, Any]]] = {}
    for term, weight, word in postings:
        docs, weights = lists.get(term, _EMPTY)
        if not len(docs):
            continue
        if word == FEEDBACK and not feedback:
            continue
        values = weights.astype(np.float64) * weight  # as PostgreSQL: real times float8
        if compiled.variants and word >= 0:  # the best of a word's stem and variants
            by_word.setdefault(word, []).append((docs, values))
            continue
        if word == FEEDBACK:
            more[docs] += values
            kept[docs] = True
            continue
        own[docs] += values
        if word >= 0:
            found[docs] += 1
            kept[docs] = True
    for pairs in by_word.values():
        best = np.full(size, -np.inf)
        for docs, values in pairs:
            best[docs] = np.maximum(best[docs], values)
        present = best > -np.inf
        own[present] += best[present]
        found[present] += 1
        kept |= present
    if hidden is not None and len(hidden):
        kept[hidden[hidden < size]] = False
    docs = np.flatnonzero(kept)
    if not feedback:
        tier = (found[docs] >= compiled.words).astype(np.int64)
        return Scored(docs, tier, own[docs])
    # The question's own best come first (tier 1), by their own score; ties by doc number.
    mine = docs[found[docs] > 0]
    first = mine[np.lexsort((mine, -own[mine]))[:compiled.feedback_after]]
    tier = np.zeros(size, dtype=np.int64)
    tier[first] = 1
    total = np.where(tier == 1, own, own + more)
    return Scored(docs, tier[docs], total[docs])


def top_docs(scored: Scored, needed: int) -> Scored:
    """The matches up to the `needed`-th best (tier, then score), and every one tied with
    it: the page is then ordered by id among ties, as the SQL orders it."""
    if len(scored.docs) <= needed:
        return scored
    first = int(np.count_nonzero(scored.tier))  # tiers are 0 or 1
    tier = 1 if first >= needed else 0
    scores = scored.score[scored.tier == tier]
    nth = needed if tier else needed - first  # the needed-th best is the nth of its tier
    value = np.partition(scores, len(scores) - nth)[len(scores) - nth]
    chosen = (scored.tier > tier) | ((scored.tier == tier) & (scored.score >= value))
    return Scored(scored.docs[chosen], scored.tier[chosen], scored.score[chosen])


def best_docs(conn: Any, scored: Scored, count: int) -> list[tuple[float, str, str, str]]:
    """The `count` best matches' (score, title, lead, start of body), by score (tiers
    aside), ties by id."""
    best = top_docs(Scored(scored.docs, np.zeros(len(scored.docs), dtype=np.int64),
                           scored.score), count)
    return conn.execute(
        "SELECT c.score, a.title, a.lead, left(a.body, %s) FROM unnest(%s::int[], "
        "%s::float8[]) c(doc, score) JOIN furet.articles a ON a.doc = c.doc "
        "ORDER BY c.score DESC, a.id LIMIT %s",
        (BODY_CHARS, best.docs.tolist(), best.score.tolist(), count)).fetchall()
