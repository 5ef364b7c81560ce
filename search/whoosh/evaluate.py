"""Queries evaluated with numpy over the flat postings: Furet's one way of matching and
scoring in a Whoosh index.

Whoosh scores a query one posting at a time in Python; on a 90,000-article archive a
common word costs tens of milliseconds. The queries Furet compiles (search/whoosh/compile.py)
are Whoosh query objects of a few kinds (Term, And, Or, DisjunctionMax, AndMaybe, AndNot,
Phrase, Every), so here each node is evaluated whole: its matching documents as a sorted
array and their scores as an aligned array, combined with numpy's set operations. Scores
are BM25F (the weighted frequencies of search/schema.py, the search's `Ranking` k1 and b,
Whoosh's idf and average lengths); a phrase is matched with the positions of the flat
postings and scored as the sum of its words. Every match is known, so totals are exact. The
search's deadline (search/deadline.py) is checked at every node and every word of a phrase.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import log
from typing import Any

import numpy as np
from whoosh import query as wq

from search.deadline import check
from search.ranking import DEFAULT_RANKING, Ranking
from search.whoosh.best import best_first
from search.whoosh.directory import TermDirectory
from search.whoosh.kept_terms import ENTRY_BYTES, KeptTerms
from search.whoosh.membership import SMALL, merged_unique, unique_sorted
from search.whoosh.postings import SegmentPostings, segment_postings
from search.whoosh.private import leaves_of
from search.whoosh.private.lengths import length_array

__all__ = ["Evaluator", "Node"]

_EMPTY_DOCS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)
_NO_COUNT = np.zeros(1, dtype=np.int64)  # (`Evaluator._chosen_keys`: a 0 before the counts)
# Children matching fewer documents than the index's size over this are combined by merging
# their sorted documents (`_gathered`) rather than in arrays the size of the index: the
# merge is linear, and beats the arrays up to about an eighth of the index (at a million
# articles 1.3 against 3.4 ms for 57,000 and 13,700 documents, 2.0 against 2.7 for 120,000
# and 300; level at about 125,000 together; the same at 90,078).
SPARSE_SHARE = 8
# Children one of which holds this many times more documents than the others together (a
# word and its rare variants) are combined by inserting the others' among its own
# (`_inserted`) rather than in arrays the size of the index or by a merge: at a million
# articles, 144,285 and 33 documents 3.5 -> 1 ms (level at about 1 in 25).
LOPSIDED_SHARE = 16
# A node with this many times fewer documents than it is aligned with finds its own among
# them (a binary search each) rather than through an array the size of the index: at a
# million articles, 1.2 -> 0.06 ms for 11 documents among 147,000 (level at about 1 in 7).
FEW_SHARE = 16
# Sorted document sets holding together more than the index's size over this are
# intersected and aligned through arrays the size of the index (a scatter and a gather,
# linear) rather than by sorting or binary searches (n log n, and cache misses): at a
# million articles, 9 -> 2 ms for two words of 300,000 and 200,000 documents.
DENSE_SHARE = 64
# Feedback's words holding together at least this many postings are scored and summed
# segment by segment (`Evaluator._summed_by_segment`), fewer in one set of arrays (a few
# numpy calls a segment cost more than they spare on a small index's few postings).
SEGMENT_POSTINGS = 65536
# Segments' documents numbered as the index's part by part, into one array, when the parts
# hold this many postings on average (a numpy call a part), else concatenated and shifted
# by the offsets repeated (three numpy calls whatever the parts): 36 segments of 8,000
# postings 0.47 -> 0.27 and 0.55 -> 0.37 ms in two runs (level at 2,000 to 4,000 a part).
NUMBERED_APART = 4096
# A term of at least this many postings is scored through a table of its scores by weight
# and length (`Evaluator._tabled`: 65,536 entries at most, made in about 0.1 ms), fewer
# posting by posting.
TABLED_POSTINGS = 32768
# A phrase's word of at most this many postings (in the segments holding candidates) has
# its positions found in its segments' slices joined (a dozen numpy calls), not segment by
# segment (a dozen a segment): 136 -> 90 us a word of the rarer set's phrases, and still
# less at 15,000 postings; a frequent word is not copied.
SMALL_POSTINGS = 16384
# A phrase's word of at most this many positions, joined and kept, gives its every key to
# the phrase's adjacency (three numpy calls and a sort) rather than its candidates' (a
# dozen calls choosing their postings): a key of a document that is not a candidate
# finds no neighbour, or only in a deleted document, which the adjacency leaves out.
ALL_KEYS = 2048
# A phrase's words, none read before, are read together in one set of arrays
# (`Evaluator._read_together`) when none holds more than this many postings (a frequent
# word of a rare phrase, 6,000 to 8,000 postings in the rarer set, is read with them: its
# keys made whole and sorted in a linear pass cost less than choosing its candidates').
TOGETHER_POSTINGS = SMALL_POSTINGS
# A phrase matched in at most this many documents is scored in Python floats
# (`Evaluator._few_scores`: the same bits)
FEW_SCORED = 8
# A pair's word of more than this many times the other's keys: the other's looked up in it
# by a binary search (`Evaluator._pair_matched`), not merged with it
LOPSIDED_KEYS = 12


class Node:
    """Matching documents (sorted, unique) and their scores, aligned; `dense`, when the
    node was summed in an array the size of the index, that array (its scores at `docs`,
    0 elsewhere: read, never written, by whoever is given it), else None."""

    __slots__ = ("dense", "docs", "scores")
    # Whether `dense` is above 0 exactly at `docs` (`_Listed`: its documents then listed
    # only when read)
    above = False

    def __init__(self, docs: Any, scores: Any, dense: Any = None) -> None:
        self.docs = docs
        self.scores = scores
        self.dense = dense

    @classmethod
    def empty(cls) -> Node:
        return cls(_EMPTY_DOCS, _EMPTY_SCORES)

    def restrict(self, docs: Any, size: int = 0) -> Any:
        """This node's scores for `docs` (0 where it does not match; the node's own array
        when `docs` are its documents: read it, never write it); `size`, the index's
        (documents are below it), lets large sets be aligned through a dense array."""
        if not len(self.docs) or not len(docs):
            return np.zeros(len(docs))
        # (np.array_equal's checks of shapes and types: 1 us more for 200 documents; their
        # bytes compared: no array of the compare nor `all()`'s Python code, and arrays of
        # another type never alike, taking the general way)
        if len(self.docs) == len(docs) and self.docs.tobytes() == docs.tobytes():
            return self.scores  # the same documents (a word and its exact form, often)
        if len(self.docs) * FEW_SHARE <= len(docs):
            # few of its own: each found among `docs` (a rare exact form of a frequent stem)
            at = docs.searchsorted(self.docs)
            at[at == len(docs)] = 0
            found = docs[at] == self.docs
            scores = np.zeros(len(docs))
            scores[at[found]] = self.scores[found]
            return scores
        if size and (len(docs) + len(self.docs)) * DENSE_SHARE >= size:
            dense = np.zeros(size)
            dense[self.docs] = self.scores
            return dense[docs]
        at = self.docs.searchsorted(docs)
        at[at == len(self.docs)] = 0
        found = self.docs[at] == docs
        return np.where(found, self.scores[at], 0.0)


class _Listed(Node):
    """A Node summed in an array the size of the index (`dense`) whose every score is
    above 0: its documents are where `dense` is above 0, listed (and their scores
    gathered) when first read, so that a caller reading the array alone (feedback's sums,
    `Node.above`) never lists them (at a million articles a pass, a listing and a gather
    of half a million values: about 2 ms)."""

    __slots__ = ()
    above = True

    def __init__(self, dense: Any) -> None:  # docs and scores: unset until read
        self.dense = dense

    def __getattr__(self, name: str) -> Any:  # an unset slot (docs, scores): list them
        if name not in ("docs", "scores") or self.dense is None:
            raise AttributeError(name)  # (its array taken: summed_feedback)
        docs = np.flatnonzero(self.dense > 0)
        self.docs, self.scores = docs, self.dense[docs]
        return self.docs if name == "docs" else self.scores


def _boosted(scores: Any, boost: float) -> Any:
    """`scores * boost` of an array made for the node (not another node's): the same
    array when the boost is 1 (x * 1.0 is x), without a pass over it."""
    return scores if boost == 1.0 else scores * boost


def _common(nodes: list[Node], size: int = 0) -> Any:
    """The documents every node matches (the smallest sets intersected first); `size`, the
    index's, lets large sets be intersected through a mask the size of the index."""
    if not nodes or any(not len(n.docs) for n in nodes):
        return _EMPTY_DOCS
    docs = nodes[0].docs
    for node in sorted(nodes[1:], key=lambda n: len(n.docs)):
        docs = _intersected(docs, node.docs, size)
        if not len(docs):
            break
    return docs


def _intersected(a: Any, b: Any, size: int) -> Any:
    """np.intersect1d(a, b, assume_unique=True) of sorted unique documents below `size`."""
    if size and (len(a) + len(b)) * DENSE_SHARE >= size:
        mask = np.zeros(size, dtype=bool)
        mask[a] = True
        return b[mask[b]]
    if len(a) > len(b):
        a, b = b, a
    if len(a) <= SMALL:
        # the fewer looked up in the others (np.intersect1d concatenates and sorts both:
        # 4 numpy calls instead of a dozen, for two rare words' few hundred documents)
        if not len(a):
            return a
        at = b.searchsorted(a)
        at[at == len(b)] = 0
        return a[b[at] == a]
    return np.intersect1d(a, b, assume_unique=True)


def _gathered(children: list[Node]) -> tuple[Any, Any, Any]:
    """The documents any child matches (sorted), and every child's (document, score) in
    the order of the documents, a document's in the children's order: where each one's
    document sits among the first array, and its score. `np.bincount(at, weights=scores)`
    then adds each document's scores in the children's order, as an array the size of the
    index does."""
    docs = np.concatenate([c.docs for c in children])
    # One stable argsort: each child's documents are a sorted run, which timsort merges
    # (linear; np.sort's quicksort and a binary search for each, as before, took twice as
    # long: 2.0 -> 1.1 ms for 30,000 and 20,000 documents, 0.18 -> 0.09 for 3,000 and
    # 2,000). Stable: a document's entries stay in the children's order.
    order = np.argsort(docs, kind="stable")
    ordered = docs[order]
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    at = np.cumsum(first, dtype=np.int64)
    at -= 1
    return ordered[first], at, np.concatenate([c.scores for c in children])[order]


def _inserted(children: list[Node]) -> tuple[Any, Any, Any]:
    """`_gathered` of children one of which holds most of their documents (a word and its
    rare variants): the others' documents it lacks inserted among its own, and where every
    child's documents sit found from that (the largest's shifted by the insertions before
    each, the few others' by binary search). `at` and `scores` are the children's in turn
    (a document's entries in the children's order, as `np.bincount` and `maximum.at`
    need): at a million articles 144,285 and 33 documents take 0.5 ms, where an array the
    size of the index took 3 to 4 and a merge 2."""
    largest = max(range(len(children)), key=lambda n: len(children[n].docs))
    big = children[largest].docs
    rest = merged_unique([c.docs for n, c in enumerate(children) if n != largest])
    at = big.searchsorted(rest)
    held = at < len(big)
    held[held] = big[at[held]] == rest[held]
    new, at = rest[~held], at[~held]
    docs = np.insert(big, at, new)
    # the largest's documents: every place but the inserted ones (the i-th new document
    # went before the largest's at[i], after i others)
    kept = np.ones(len(docs), dtype=bool)
    at += np.arange(len(at))
    kept[at] = False
    where = []
    for n, child in enumerate(children):
        if n == largest:
            where.append(np.flatnonzero(kept))
        else:
            where.append(docs.searchsorted(child.docs))
    return docs, np.concatenate(where), np.concatenate([c.scores for c in children])


def _lopsided(children: list[Node]) -> bool:
    """Whether one child holds LOPSIDED_SHARE times more documents than all the others
    together, which hold some (`_inserted`)."""
    sizes = [len(c.docs) for c in children]
    return 0 < (sum(sizes) - max(sizes)) * LOPSIDED_SHARE <= max(sizes)


def _leaf_key(q: Any) -> tuple[Any, ...] | None:
    """What a term or a phrase is, so that one typed twice is evaluated once."""
    if isinstance(q, wq.Term):
        return ("term", q.fieldname, q.text, q.boost)
    if isinstance(q, wq.Phrase):
        return ("phrase", q.fieldname, tuple(q.words), q.boost)
    return None


class _Coded:
    """Numbers with few distinct values, held as a code per item and a table of values;
    indexing gives the values as float64."""

    __slots__ = ("codes", "table")

    def __init__(self, values: Any) -> None:
        table, codes = np.unique(values, return_inverse=True)
        self.table = table.astype(np.float64)
        self.codes = codes.reshape(-1).astype(np.uint8 if len(table) <= 256 else np.uint32)

    def __getitem__(self, docs: Any) -> Any:
        if isinstance(docs, np.ndarray) and docs.dtype.kind in "iu":
            # np.take: the same values, but without fancy indexing's handling of a narrow
            # (uint8) index array (229 -> 143 us for 65,000 documents)
            # (the methods: np.take's wrapper costs a call more each)
            return self.table.take(self.codes.take(docs))
        return self.table[self.codes[docs]]

    def __len__(self) -> int:
        return len(self.codes)

    def mapped(self, table: Any) -> _Coded:
        """The same codes with another table of values (one per value of this one)."""
        other = _Coded.__new__(_Coded)
        other.table, other.codes = table, self.codes
        return other


def _weights(found: list[tuple[Any, Any, Any]]) -> Any:
    """The weights of (docs, weights, scale) slices as one float64 array (scaled in one
    pass when every slice has the same scale, as in an index built by one version)."""
    scales = {None if scale is None else float(scale) for _, _, scale in found}
    if len(scales) == 1:
        (scale,) = scales
        weights = np.concatenate([f[1] for f in found]) if len(found) > 1 else found[0][1]
        return weights.astype(np.float64) if scale is None \
            else np.multiply(weights, scale, dtype=np.float64)
    return np.concatenate([_weights([f]) for f in found])


def _scaled(weights: Any, scale: float | None) -> Any:
    """Weights as stored widened to float64 and scaled (a new array): `_read`'s values,
    element by element, so the same whether made before or after a gather."""
    widened = weights.astype(np.float64)
    if scale is not None:
        widened *= scale
    return widened


def _viewed(array: Any) -> Any:
    """A one-dimensional array of native integers as a memoryview of Python ints (an item
    read in about 60 ns, a slice's `tolist` in 150, where the array's took 200 and 400);
    any other array as it is."""
    if array.dtype.kind in "iu" and array.dtype.isnative and array.ndim == 1 \
            and array.flags.c_contiguous:
        return memoryview(array).cast("B").cast(array.dtype.char)
    return array


class Evaluator:
    """One generation of an index, ready for vectorised queries.

    ValueError when a segment has no readable flat postings (the index is damaged).
    """

    def __init__(self, searcher: Any, directory: dict[str, Any] | None = None) -> None:
        """`directory`: the term directory's fields when made before (a generation's
        prepared file, search/whoosh/prepared.py); else it is built here."""
        self.searcher = searcher
        reader = searcher.reader()
        self.leaves = leaves_of(reader)
        self.postings: list[SegmentPostings] = []
        self.size = reader.doc_count_all()
        self.directory = TermDirectory(self._opened()) if directory is None else \
            TermDirectory.of_fields(directory, self._opened())
        self.offsets = [offset for _, offset in self.leaves]
        # the segments' first documents and the index's size: where each one's part of a
        # sorted set of documents begins and ends
        self._bounds = np.array([*self.offsets, self.size], dtype=np.int64)
        self._offset_array = self._bounds[:-1]
        self._every_segment = list(range(len(self.offsets)))
        self.live = np.ones(self.size, dtype=bool)
        # the terms read before, as one list each (search/whoosh/kept_terms.py)
        self.kept = KeptTerms()
        for leaf, offset in self.leaves:
            if leaf.has_deletions():
                deleted = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
                self.live[deleted + offset] = False
        self.deletions_changed()
        self._lengths: dict[str, Any] = {}
        self._columns: dict[str, Any] = {}
        self._average: dict[str, float] = {}
        self._norms: dict[tuple[str, float, float], _Coded] = {}
        self._flat: dict[str, list[Any]] = {}
        self._flat_positions: dict[str, list[Any]] = {}
        self._signs: dict[tuple[str, str, float, float], bool] = {}
        self._views: dict[str, list[Any]] = {}
        self._term_views: dict[str, list[Any]] = {}
        self._field_scales: dict[str, set[float | None]] = {}
        self._entry_views: dict[str, tuple[Any, tuple[Any, ...]]] = {}
        self._field_types: dict[str, tuple[Any, ...] | None] = {}

    def deletions_changed(self) -> None:
        """Note which documents `live` now says are deleted (read at open); the terms
        kept, read without the documents deleted before, are dropped."""
        self.kept.clear()
        self.all_live = bool(self.live.all())
        self.dead = np.flatnonzero(~self.live)  # the deleted documents (few, sorted)
        # Each segment holding deleted documents, with its part of `live` (by the
        # segment's own document numbers): only their slices need filtering.
        ends = [*self.offsets[1:], self.size]
        self._deleted_in = {
            segment: self.live[start:end]
            for segment, (start, end) in enumerate(zip(self.offsets, ends, strict=True))
            if not self.all_live and not self.live[start:end].all()}

    def _opened(self) -> Iterator[SegmentPostings]:
        """Each segment's flat postings, opened in turn (and kept)."""
        for leaf, _ in self.leaves:
            self.postings.append(segment_postings(leaf))
            yield self.postings[-1]

    def lengths(self, fieldname: str) -> Any:
        """Each document's length of `fieldname` (1 where it has none), indexed by document
        numbers: float64 values, held as a byte per document (Whoosh keeps lengths as one
        of 256 values), not 8."""
        if fieldname not in self._lengths:
            parts = [length_array(leaf, fieldname) for leaf, _ in self.leaves]
            whole = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            self._lengths[fieldname] = _Coded(whole)
        return self._lengths[fieldname]

    def column(self, fieldname: str) -> Any:
        """The per-document values of a column field, by document number (None when the
        index has no such column: built before it existed)."""
        if fieldname not in self._columns:
            reader = self.searcher.reader()
            found = fieldname in reader.schema and reader.has_column(fieldname)
            self._columns[fieldname] = reader.column_reader(fieldname) if found else None
        return self._columns[fieldname]

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """Documents holding a term, deleted ones included (as Whoosh counts them)."""
        return self.directory.frequency(fieldname, text)

    def idf(self, fieldname: str, text: str) -> float:
        """Whoosh's idf (its WeightingModel.idf: the same formula, from the directory's
        frequency instead of a term lookup in every segment)."""
        return self._idf_of(self.directory.frequency(fieldname, text))

    def _idf_of(self, frequency: Any) -> float:
        """`idf()` of a term in `frequency` documents (every read of a term computes it so)."""
        return log(self.size / (frequency + 1)) + 1

    def average_length(self, fieldname: str) -> float:
        """The field's average length as Whoosh computes it (1 for none), once."""
        found = self._average.get(fieldname)
        if found is None:
            found = self.searcher.avg_field_length(fieldname) or 1.0
            self._average[fieldname] = found
        return found

    def norms(self, fieldname: str, ranking: Ranking) -> Any:
        """BM25's k1 * ((1 - b) + b * length / average length) of every document, indexed
        by document numbers (computed once per distinct length)."""
        key = (fieldname, ranking.k1, ranking.b)
        found = self._norms.get(key)
        if found is None:
            k1, b = ranking.k1, ranking.b
            lengths = self.lengths(fieldname)
            found = lengths.mapped(
                k1 * ((1 - b) + b * lengths.table / self.average_length(fieldname)))
            self._norms[key] = found
        return found

    def all_docs(self) -> Any:
        return np.flatnonzero(self.live)

    # -- leaves

    def _raw(self, fieldname: str, where: list[tuple[int, int]], live: bool = False
             ) -> list[tuple[Any, Any, Any]]:
        """`postings[segment].raw(fieldname, n)` of each (segment, n): the same slices, read
        without a method call and three dictionary lookups each (a word of a million
        articles is in 37 segments; feedback's twenty words are 740 slices). With `live`,
        deleted documents are left out of the slices of the segments holding some (in
        their narrow stored types: cheaper than filtering the whole term afterwards)."""
        flat = self._flats(fieldname)
        deleted = self._deleted_in if live else {}
        found = []
        for segment, n in where:
            starts, docs, weights, listed, scale = flat[segment]
            if n in listed:
                part = self.postings[segment].raw(fieldname, n)
            else:
                start, end = starts[n:n + 2].tolist()
                part = (docs[start:end], weights[start:end], scale)
            if segment in deleted:
                keep = deleted[segment][part[0]]
                part = (part[0][keep], part[1][keep], part[2])
            found.append(part)
        return found

    def _flats(self, fieldname: str) -> list[Any]:
        """Each segment's `flat(fieldname)` (None where it has no such field), kept."""
        flat = self._flat.get(fieldname)
        if flat is None:
            flat = [p.flat(fieldname) if p.has_field(fieldname) else None
                    for p in self.postings]
            self._flat[fieldname] = flat
        return flat

    def _slicing(self, fieldname: str) -> list[Any]:
        """`_flats(fieldname)` with each segment's term starts as a memoryview of Python
        ints (an item read in about 60 ns, where a slice of the array and its `tolist`
        took 400: feedback's twenty words hold 720 slices at a million articles), kept;
        the array itself where it cannot be viewed so (not native integers)."""
        found = self._views.get(fieldname)
        if found is None:
            found = []
            for flat in self._flats(fieldname):
                found.append(flat if flat is None else (_viewed(flat[0]), *flat[1:]))
            self._views[fieldname] = found
        return found

    def _postings(self, fieldname: str, text: str, live: bool = True
                  ) -> tuple[Any, Any] | None:
        """(docs, weights as float64) of a term over the segments that hold it, deleted
        documents left out (unless `live` is False)."""
        found = self._read(fieldname, text, live)
        return None if found is None else (found[0], found[1])

    def _located(self, fieldname: str, text: str) -> tuple[Any, int] | None:
        """The field's directory and the term's number in it (None when it has neither)."""
        listed = self.directory.fields.get(fieldname)
        n = None if listed is None else listed.number(text)
        return None if n is None else (listed, n)

    def _sliced(self, fieldname: str, listed: Any, n: int, live: bool,
                positions: tuple[list[Any], list[Any]] | None = None
                ) -> tuple[list[int], list[int], list[Any], list[tuple[Any, Any, Any]],
                           set[float | None]]:
        """The term `n` of the field's directory `listed` in each segment holding it:
        the segments, its numbers there, its documents (as stored) in each, each one's
        (documents, weights as stored, scale), and the scales (deleted documents left
        out of the segments holding some, with `live`). `positions`: two lists given
        empty, filled with each segment's counts and positions of the term (every
        segment holding it has positions, none deleted documents: the caller checked).

        One loop over the segments, their term starts and position starts read as
        Python ints from memoryviews (`_term_slicing`), where a slice of each and its
        `tolist` cost 0.4 us; the directory's entry read the same way."""
        begins, segments_of, numbers_of, _ = self._entries(fieldname, listed)
        start, end = begins[n], begins[n + 1]
        segments = segments_of[start:end].tolist()
        numbers = numbers_of[start:end].tolist()
        slicing = self._term_slicing(fieldname)
        deleted = self._deleted_in if live else {}
        docs_parts, found = [], []
        for segment, m in zip(segments, numbers, strict=True):
            starts, docs, weights, overflow, scale, counted, pstarts, counts, where = \
                slicing[segment][:9]
            first, last = starts[m], starts[m + 1]
            if m in overflow:
                docs, weights, _ = self.postings[segment].raw(fieldname, m)
            else:
                docs, weights = docs[first:last], weights[first:last]
            if positions is not None:
                positions[0].append(
                    self.postings[segment].raw_positions(fieldname, m)[1] if m in counted
                    else counts[first:last])
                positions[1].append(where[pstarts[m]:pstarts[m + 1]])
            elif segment in deleted:
                keep = deleted[segment][docs]
                docs, weights = docs[keep], weights[keep]
            docs_parts.append(docs)
            found.append((docs, weights, scale))
        scales = self._scales_of(fieldname, segments)
        return segments, numbers, docs_parts, found, scales

    def _entries(self, fieldname: str, listed: Any) -> tuple[Any, Any, Any, Any]:
        """The field's directory `listed` as (begins, segments, numbers, frequencies)
        read as Python ints: memoryviews of the arrays where they are native integers
        (an item in about 60 ns), else the arrays; kept."""
        found = self._entry_views.get(fieldname)
        if found is None or found[0] is not listed:
            found = (listed, tuple(_viewed(a) for a in (
                listed.begins, listed.segments, listed.numbers, listed.frequencies)))
            self._entry_views[fieldname] = found
        return found[1]  # type: ignore[no-any-return]

    def _term_slicing(self, fieldname: str) -> list[Any]:
        """Each segment's flat arrays for reading a term: (term starts as Python ints,
        docs, weights, the terms whose weights are listed apart, the scale as a Python
        float or None, the terms whose counts are listed apart, where each term's
        positions start as Python ints, counts, positions), the last four None without
        positions, then docs, weights, counts and positions again as memoryviews (None
        without positions: a slice in 70 ns, against 95 for a numpy slice, and slices of
        one type joined by `bytes.join`, with no numpy call a slice); None for a segment
        without the field. Kept, with the field's scales (`_field_scales`) and the types
        of its (docs, weights, counts, positions) when every segment holding it has the
        same (`_field_types`, else None)."""
        found = self._term_views.get(fieldname)
        if found is None:
            found = []
            types = set()
            positional = self._positional(fieldname)
            for flat, held in zip(self._flats(fieldname), positional, strict=True):
                if flat is None:
                    found.append(None)
                    continue
                starts, docs, weights, overflow, scale = flat
                scale = None if scale is None else float(scale)
                if held is None:
                    view = (_viewed(starts), docs, weights, overflow, scale,
                            None, None, None, None)
                else:
                    counts, pstarts, where, counted = held
                    view = (_viewed(starts), docs, weights, overflow, scale,
                            counted, _viewed(pstarts), counts, where)
                arrays = (docs, weights, view[7], view[8])
                types.add(tuple(None if a is None else a.dtype for a in arrays))
                found.append((*view, *(None if a is None else memoryview(a)
                                       for a in arrays)))
            # the field's scales and types first: a thread finding the views finds them
            self._field_scales[fieldname] = {f[4] for f in found if f is not None}
            self._field_types[fieldname] = types.pop() if len(types) == 1 else None
            self._term_views[fieldname] = found
        return found

    def _scales_of(self, fieldname: str, segments: list[int]) -> set[float | None]:
        """The distinct scales of the field's weights in `segments` (as `float`, or None):
        the field's own when all its segments share one (an index built by one
        version). A new set: callers may change it."""
        every = self._field_scales.get(fieldname)
        if every is None:  # the views not made yet
            self._term_slicing(fieldname)
            every = self._field_scales[fieldname]
        if len(every) == 1:
            return set(every)
        slicing = self._term_slicing(fieldname)
        return {slicing[segment][4] for segment in segments}

    def _read(self, fieldname: str, text: str, live: bool = True,
              located: tuple[Any, int] | None = None, sliced: Any = None
              ) -> tuple[Any, Any, list[tuple[int, int]], float] | None:
        """`_postings()` of a term, with where it sits (`directory.where`) and its idf, from
        one lookup in the directory (a search wants all three of each term; `located`:
        that lookup's `_located`, when made, and `sliced` its `_sliced`, when made)."""
        # A term read before (live) is kept as one list: its arrays are read-only (a
        # caller giving `located` has looked for it there already).
        if live and located is None:
            kept = self.kept.get((fieldname, text))
            if kept is not None:
                return kept  # type: ignore[no-any-return]
        # One pass over the segments holding the term: the directory's slice of them, then
        # each one's documents and weights sliced out of its flat arrays (what `entry`,
        # `_raw`, `_numbered` and `_weights` do, without a list of tuples between each),
        # the documents numbered and the weights scaled in one pass each.
        if located is None:
            located = self._located(fieldname, text)
            if located is None:
                return None
        listed, n = located
        if sliced is None:
            if live:
                read = self._read_plainly(fieldname, text, listed, n)
                if read is not None:
                    return read
            sliced = self._sliced(fieldname, listed, n, live)
        segments, numbers, docs_parts, found, scales = sliced
        if len(scales) == 1:  # _weights(found), its common case inline
            (scale,) = scales
            # widened as they are joined, then scaled in place: the same products
            # (float64 of each weight times the scale) in one call less, and a
            # multiplication without the casting of `dtype=` (2.7 -> 1.6 us for 200)
            weights = np.concatenate([f[1] for f in found], dtype=np.float64) \
                if len(found) > 1 else found[0][1].astype(np.float64)
            if scale is not None:
                weights *= scale
        else:
            weights = _weights(found)
        docs = self._numbered(segments, docs_parts)
        read = (docs, weights, list(zip(segments, numbers, strict=True)),
                self._idf_of(self._entries(fieldname, listed)[3][n]))
        if live:  # both arrays were made here: no one else holds them
            self._keep_read(fieldname, text, read)
        return read

    def _keep_read(self, fieldname: str, text: str,
                   read: tuple[Any, Any, list[tuple[int, int]], float]) -> None:
        """Keep a term's `_read()` whose two arrays were made for it, made read-only."""
        docs, weights = read[0], read[1]
        docs.setflags(write=False)
        weights.setflags(write=False)
        self.kept.put((fieldname, text), read, len(docs),
                      docs.nbytes + weights.nbytes + ENTRY_BYTES)

    def _read_plainly(self, fieldname: str, text: str, listed: Any, n: int
                      ) -> tuple[Any, Any, list[tuple[int, int]], float] | None:
        """`_read()` of the term `n` of the field's directory `listed`, live and not kept,
        when its segments hold no deleted documents, none lists its weights apart and all
        share one scale and one type of documents and of weights (an index built by one
        version, without deletions): the same arrays, kept as `_read` keeps them, in one
        loop of a few steps a segment and the numbering inline (where `_sliced`,
        `_numbered` and the checks for every other case cost a rare term about a third of
        its read). None in any other case: `_read` then reads it.

        Each segment's slices are memoryviews (`_term_slicing`'s), joined by `bytes.join`
        and read back as one array of their type, where `np.concatenate` widening numpy
        slices cost twice as much (a rare word's two terms in 4 segments, 29 -> 24 us)."""
        begins, segments_of, numbers_of, frequencies = self._entries(fieldname, listed)
        start, end = begins[n], begins[n + 1]
        if start == end:
            return None
        views = self._term_views.get(fieldname) or self._term_slicing(fieldname)
        types = self._field_types.get(fieldname)
        if types is None:
            return None
        segments = segments_of[start:end].tolist()
        numbers = numbers_of[start:end].tolist()
        deleted = self._deleted_in
        scale = views[segments[0]][4]
        docs_parts, weights_parts, sizes = [], [], []
        for segment, m in zip(segments, numbers, strict=True):
            view = views[segment]
            if m in view[3] or view[4] != scale or segment in deleted:
                return None
            starts = view[0]
            first, last = starts[m], starts[m + 1]
            docs_parts.append(view[9][first:last])
            weights_parts.append(view[10][first:last])
            sizes.append(last - first)
        docs = np.frombuffer(b"".join(docs_parts), types[0])
        if len(segments) == 1:  # `_numbered`, the same operation
            docs = np.add(docs, self.offsets[segments[0]], dtype=np.int64)
        elif len(docs) < NUMBERED_APART * len(segments):
            offsets = self._offset_array
            if segments != self._every_segment:
                offsets = offsets[segments]
            docs = docs + offsets.repeat(sizes)  # int64 (as are the offsets)
        else:
            docs = self._numbered(segments, [np.frombuffer(p, types[0]) for p in docs_parts])
        weights = np.frombuffer(b"".join(weights_parts), types[1]).astype(np.float64)
        if scale is not None:
            weights *= scale
        # (`_idf_of` and `_keep_read` inline: two calls less a term)
        read = (docs, weights, list(zip(segments, numbers, strict=True)),
                log(self.size / (frequencies[n] + 1)) + 1)
        docs.setflags(write=False)
        weights.setflags(write=False)
        self.kept.put((fieldname, text), read, len(docs),
                      docs.nbytes + weights.nbytes + ENTRY_BYTES)
        return read

    def _read_with_positions(self, fieldname: str, text: str
                             ) -> tuple[Any, Any, list[tuple[int, int]], float] | None:
        """`_read()` of a phrase's word not kept, with its positions joined and kept from
        the same pass over its segments (what `_kept_positions` would keep of it: its
        documents as the read's, each posting's count as int64, where each one's
        positions end, the positions as int64) when it has at most `kept.largest`
        postings, every segment holding it has positions and none deleted documents;
        else `_read()` alone. One loop over the segments slices the documents, weights,
        counts and positions, where reading the positions afterwards walked them again
        (a call and three slices a segment)."""
        located = self._located(fieldname, text)
        if located is None:
            return None
        listed, n = located
        begins, segments_of, _, frequencies = self._entries(fieldname, listed)
        if frequencies[n] > self.kept.largest:
            return self._read(fieldname, text, located=located)
        segments = segments_of[begins[n]:begins[n + 1]].tolist()
        deleted = self._deleted_in
        positional = self._positional(fieldname)
        if (deleted and any(segment in deleted for segment in segments)) or \
                any(positional[segment] is None for segment in segments):
            return self._read(fieldname, text, located=located)
        counts_parts: list[Any] = []
        positions_parts: list[Any] = []
        sliced = self._sliced(fieldname, listed, n, False, (counts_parts, positions_parts))
        read = self._read(fieldname, text, located=located, sliced=sliced)
        if read is not None:
            counts = np.concatenate(counts_parts, dtype=np.int64)
            joined = (read[0], counts, counts.cumsum(),
                      np.concatenate(positions_parts, dtype=np.int64))
            for array in joined[1:]:
                array.setflags(write=False)
            self.kept.put(("positions", fieldname, text), joined, len(read[0]),
                          sum(array.nbytes for array in joined) + ENTRY_BYTES)
        return read

    def _positional(self, fieldname: str) -> list[Any]:
        """Each segment's `flat_positions(fieldname)` (None where it has none), kept."""
        found = self._flat_positions.get(fieldname)
        if found is None:
            found = [p.flat_positions(fieldname) for p in self.postings]
            self._flat_positions[fieldname] = found
        return found

    def term(self, fieldname: str, text: Any, boost: float = 1.0,
             ranking: Ranking = DEFAULT_RANKING) -> Node:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        kept = self.kept
        found = kept.get((fieldname, text))  # what `_read` would give first
        # a term kept (its read was) has its scores for this ranking kept beside it; a
        # term read here has none yet
        fresh = found is None
        if fresh:
            located = self._located(fieldname, text)
            if located is None:
                return Node.empty()
            listed, n = located
            sliced = None
            if self._entries(fieldname, listed)[3][n] >= TABLED_POSTINGS:
                sliced = self._sliced(fieldname, listed, n, True)
                tabled = self._tabled(fieldname, sliced, listed, n, ranking)
                if tabled is not None:
                    docs, scores = tabled
                    if boost != 1.0:
                        scores *= boost  # the same product (an array made here)
                    return Node(docs, scores)
            else:  # `_read`'s first way, then its general one (`_sliced`'s)
                found = self._read_plainly(fieldname, text, listed, n)
                if found is None:
                    sliced = self._sliced(fieldname, listed, n, True)
            if found is None:
                found = self._read(fieldname, text, located=located, sliced=sliced)
                if found is None:
                    return Node.empty()
        docs, weights, _, idf = found
        k1 = ranking.k1
        key = ("scores", fieldname, text, k1, ranking.b)
        scores = None if fresh else kept.get(key)
        if scores is None:
            # idf * (weights * (k1 + 1)) / (weights + norm), operation by operation in
            # place (the same values: products and sums commute exactly), in two arrays
            # instead of five.
            # (the operators: the same ufuncs, without the functions' argument parsing)
            scores = weights * (k1 + 1)
            scores *= idf
            norms = self._norms.get((fieldname, k1, ranking.b))
            if norms is None:  # (`norms()`, looked up inline: made once)
                norms = self.norms(fieldname, ranking)
            norm = norms.table.take(norms.codes.take(docs))  # norms[docs] of int64 docs
            norm += weights
            scores /= norm
            if not docs.flags.writeable:  # read from the kept terms
                scores.setflags(write=False)
                kept.put(key, scores, len(scores), scores.nbytes + ENTRY_BYTES)
        if boost != 1.0:  # the same product as in place (a boost of 1 changes nothing)
            scores = np.multiply(scores, boost)
        return Node(docs, scores)

    def _tabled(self, fieldname: str, sliced: Any, listed: Any, n: int, ranking: Ranking
                ) -> tuple[Any, Any] | None:
        """`term()`'s documents and scores of a frequent term (the term `n` of the field's
        directory `listed`; `sliced`: its `_sliced`), each posting's score looked up in a
        table of every weight
        (stored as a byte) by every length (a byte's code): the table's entries are
        `term()`'s operations on the same values, so each score is the same to the last
        bit, and a posting costs a gather of its length's code, two byte operations and
        one lookup, where it cost a widened weight, two gathers, two products, a sum and
        a division (at a million articles 260,062 postings 3.2 -> 1.9 ms). None when the
        weights are not bytes with one scale (a segment stores a term's weights wider when
        one of them passes 255: *compt*'s), or the lengths more than 256 values."""
        norms = self.norms(fieldname, ranking)
        if norms.codes.dtype != np.uint8:
            return None
        segments, _, docs_parts, found, scales = sliced
        if len(scales) != 1 or None in scales or \
                any(f[1].dtype != np.uint8 for f in found):
            return None
        raw = np.concatenate([f[1] for f in found]) if len(found) > 1 else found[0][1]
        (scale,) = scales
        docs = self._numbered(segments, docs_parts)
        idf = self._idf_of(int(listed.frequencies[n]))  # as `_read`'s
        # every weight a byte may hold, scaled as `_read` scales them; then term()'s
        # idf * (weights * (k1 + 1)) / (norm + weights) of each (length, weight)
        weights = np.multiply(np.arange(256, dtype=np.uint8), scale, dtype=np.float64)
        tops = np.multiply(weights, ranking.k1 + 1)
        np.multiply(tops, idf, out=tops)
        table = norms.table[:, None] + weights
        np.divide(tops, table, out=table)
        at = norms.codes.take(docs).astype(np.uint16)  # (length code << 8) | weight
        at <<= 8
        at |= raw
        return docs, table.ravel().take(at)

    def summed_terms(self, fieldname: str, weighted: list[tuple[str, float]],
                     ranking: Ranking = DEFAULT_RANKING, plus: Any = None
                     ) -> tuple[Any, Any] | None:
        """Several terms of one field, each scored as `term()` times its weight, summed per
        document in an array the size of the index, and which documents hold any of them
        (None: every document scoring above 0); None when no document holds any.

        `plus` (an array the size of the index): the sums are added into it, in place, and
        it is returned as the sums (`summed + plus` to the last bit: `summed` where it was
        0), each segment's while in the caches rather than in a pass of its own (a
        million articles: 1 ms of feedback's 6.5); only when every weight is above 0
        (held None), else None and `plus` left as it was."""
        # Every slice of every segment gathered first, then concatenated once: feedback's
        # twenty terms cost little more than one. Each term is looked up once in the
        # directory (its segments, its frequency for the idf) and each slice read as in
        # `_raw` (30 % less than `directory.where`, `_raw` and `idf` a term: 0.20 -> 0.14
        # ms for twenty words in 4 segments). The slices are put in segment order (the
        # terms' order within a segment): a document's postings, all in its segment, are
        # still summed in the terms' order, so the sums are the same to the last bit.
        listed = self.directory.field(fieldname)
        if listed is None:
            return None
        flat, size = self._slicing(fieldname), self.size
        begins, frequencies = listed.begins, listed.frequencies
        bysegment: dict[int, list[tuple[tuple[Any, Any, Any], float]]] = {}
        factors = []
        postings = 0
        for text, boost in weighted:
            # through the directory's sampled lookup (a plain bisect of a mapped term list
            # decodes a term a step: about 20 a word at a million articles)
            k = listed.number(text)
            if k is None:
                continue
            start, end = begins[k:k + 2].tolist()
            # the idf as `idf()` computes it, from the same frequency
            factor = (log(size / (int(frequencies[k]) + 1)) + 1) * boost
            held = False
            for segment, n in zip(listed.segments[start:end].tolist(),
                                  listed.numbers[start:end].tolist(), strict=True):
                starts, docs, weights, overflow, scale = flat[segment]
                if n in overflow:
                    part = self.postings[segment].raw(fieldname, n)
                    count = len(part[0])
                else:
                    first, last = starts[n], starts[n + 1]
                    count = last - first
                    part = (docs[first:last], weights[first:last], scale)
                if count:
                    found = bysegment.get(segment)
                    if found is None:
                        bysegment[segment] = [(part, factor)]
                    else:
                        found.append((part, factor))
                    postings += count
                    held = True
            if held:
                factors.append(factor)
        if not bysegment or (plus is not None and not min(factors) > 0):
            return None
        if postings >= SEGMENT_POSTINGS:
            return self._summed_by_segment(fieldname, bysegment, factors, ranking, plus)
        order = sorted(bysegment)
        parts = [part for segment in order for part, _ in bysegment[segment]]
        sizes = [len(part[0]) for part in parts]
        docs = self._numbered([segment for segment in order for _ in bysegment[segment]],
                              [part[0] for part in parts])
        weights = _weights(parts)
        factor = np.repeat([f for segment in order for _, f in bysegment[segment]], sizes)
        # factor * (weights * (k1 + 1)) / (weights + norm), operation by operation in place
        # (products and sums commute exactly: the same values)
        scores = np.multiply(weights, ranking.k1 + 1)
        scores *= factor
        norm = self.norms(fieldname, ranking)[docs]
        norm += weights
        scores /= norm
        # Deleted documents are summed too, then zeroed: each live document's sum adds the
        # same scores in the same order (bincount goes through them in turn), and the
        # few deleted ones cost less than taking them out of every posting.
        summed = np.bincount(docs, weights=scores, minlength=self.size)
        held = None if min(factors) > 0 else np.bincount(docs, minlength=self.size) > 0
        if not self.all_live:
            summed[self.dead] = 0.0
            if held is not None:
                held[self.dead] = False
        if plus is not None:
            return np.add(summed, plus, out=plus), None
        return summed, held

    def _summed_by_segment(self, fieldname: str,
                           bysegment: dict[int, list[tuple[tuple[Any, Any, Any], float]]],
                           factors: list[float], ranking: Ranking, plus: Any = None
                           ) -> tuple[Any, Any]:
        """`summed_terms` of many postings, each segment's scored and summed apart (its
        documents as stored, its part of the norms and of the sums): the arrays of one
        segment stay in the processor's caches, and no document is numbered in the index
        (at a million articles, feedback's 480,000 postings in 37 segments: the sums of a
        dozen passes over arrays of 4 MB, where a segment's are 100 KB). Each posting's
        score is the same operations on the same values, and a document's postings, all
        in its segment, are added in the same order (the terms'): the same sums to the
        last bit."""
        size, bounds = self.size, self._bounds.tolist()
        norms = self.norms(fieldname, ranking)
        k1 = ranking.k1
        held = None if min(factors) > 0 else np.zeros(size, dtype=bool)
        if plus is None:
            summed = np.empty(size)
        else:  # a segment without postings adds 0.0 (left as it is); deleted documents
            # are summed too, then put back as 0.0 + what they held
            summed, dead = plus, plus[self.dead]
        for segment in range(len(self.postings)):
            start, end = bounds[segment], bounds[segment + 1]
            found = bysegment.get(segment)
            if found is None:
                if plus is None:
                    summed[start:end] = 0.0
                continue
            parts = [part for part, _ in found]
            docs = np.concatenate([part[0] for part in parts]) if len(parts) > 1 \
                else parts[0][0]
            weights = _weights(parts)
            factor = np.repeat([f for _, f in found], [len(part[0]) for part in parts])
            # factor * (weights * (k1 + 1)) / (weights + norm), as summed_terms computes it
            scores = np.multiply(weights, k1 + 1)
            scores *= factor
            norm = norms.table.take(norms.codes[start:end].take(docs))
            norm += weights
            scores /= norm
            sums = np.bincount(docs, weights=scores, minlength=end - start)
            if plus is None:
                summed[start:end] = sums
            else:
                np.add(sums, summed[start:end], out=summed[start:end])
            if held is not None:
                held[start:end] = np.bincount(docs, minlength=end - start) > 0
        if not self.all_live:
            summed[self.dead] = 0.0 if plus is None else dead + 0.0
            if held is not None:
                held[self.dead] = False
        return summed, held

    def sums_not_negative(self, fieldname: str, ranking: Ranking = DEFAULT_RANKING) -> bool:
        """Whether `summed_terms` of words of `fieldname` weighing above 0 sums to at least 0
        (never NaN) in every document: true when every segment stores the field's weights
        as unsigned integers times a scale above 0 and the field's norms are all above 0
        (each posting then scores `factor * (w * (k1 + 1)) / (norm + w)` >= 0, and sums
        from 0 of such scores stay >= 0). Known once per field and ranking."""
        key = ("not negative", fieldname, ranking.k1, ranking.b)
        found = self._signs.get(key)
        if found is None:
            flats = [f for f in self._flats(fieldname) if f is not None]
            found = bool(flats) and ranking.k1 + 1 > 0 \
                and all(f[4] is not None and float(f[4]) > 0 and f[2].dtype.kind == "u"
                        for f in flats) \
                and bool(self.norms(fieldname, ranking).table.min() > 0)
            self._signs[key] = found
        return found

    def terms(self, fieldname: str, weighted: list[tuple[str, float]],
              ranking: Ranking = DEFAULT_RANKING) -> Node:
        """Several terms of one field, each scored as `term()` times its weight and summed
        (an Or of Terms), in one pass over their postings."""
        found = self.summed_terms(fieldname, weighted, ranking)
        if found is None:
            return Node.empty()
        summed, held = found
        matched = np.flatnonzero(summed if held is None else held)
        return Node(matched, summed[matched])

    def term_docs(self, fieldname: str, texts: list[str]) -> Any:
        """The documents holding any of `texts` (sorted), without scores."""
        parts = [found[0] for found in (self._postings(fieldname, t) for t in texts) if found]
        return merged_unique(parts) if parts else _EMPTY_DOCS

    def first_docs(self, fieldname: str, text: str, count: int) -> Any:
        """The first `count` documents holding `text`: term_docs()[:count], read a few
        postings at a time (a frequent word's whole list costs milliseconds per 100,000
        articles, and did-you-mean wants three documents of each word)."""
        found: list[Any] = []
        wanted, step = count, max(count * 8, 64)
        for segment, n in self.directory.where(fieldname, text):
            docs, offset = self.postings[segment].raw(fieldname, n)[0], self.offsets[segment]
            for start in range(0, len(docs), step):
                chunk = np.add(docs[start:start + step], offset, dtype=np.int64)
                if not self.all_live:
                    chunk = chunk[self.live[chunk]]
                found.append(chunk[:wanted])
                wanted -= len(found[-1])
                if wanted <= 0:
                    return np.concatenate(found)
        return np.concatenate(found) if found else _EMPTY_DOCS

    # -- the query tree

    def evaluate(self, q: Any, memo: dict[Any, Node] | None = None,
                 ranking: Ranking = DEFAULT_RANKING) -> Node:
        """Documents and scores of a compiled query (memoised by node, so shared subtrees
        of the two tiers are computed once, and by phrase, so a repeated one is too; one
        memo serves one ranking)."""
        memo = {} if memo is None else memo
        key = _leaf_key(q) or id(q)
        if key not in memo:
            memo[key] = self._evaluate(q, memo, ranking)
        return memo[key]

    def matching(self, q: Any, memo: dict[Any, Node] | None = None,
                 ranking: Ranking = DEFAULT_RANKING) -> Any:
        """`evaluate(q, memo, ranking).docs`, without scoring what only ranks: a term's
        documents without BM25, an AndMaybe's without its optional part, an Or's as the
        union of its children's (nodes already in `memo` are used as they are; an And's or
        an Or's documents are kept there too, unscored, for the next call)."""
        memo = {} if memo is None else memo
        found = memo.get(_leaf_key(q) or id(q))
        if found is None:
            found = memo.get(("matching", id(q)))
        if found is not None:
            return found.docs
        check()
        if isinstance(q, wq.Term):
            text = q.text.decode("utf-8") if isinstance(q.text, bytes) else q.text
            where = self.directory.where(q.fieldname, text)
            if not where:
                return _EMPTY_DOCS
            return self._numbered([segment for segment, _ in where],
                                  [part[0] for part in self._raw(q.fieldname, where, True)])
        if isinstance(q, wq.AndMaybe):
            return self.matching(q.a, memo, ranking)
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            docs = self.union([self.matching(s, memo, ranking) for s in q.subqueries])
        elif isinstance(q, wq.And):
            docs = _common([Node(self.matching(s, memo, ranking), None)
                            for s in q.subqueries], self.size)
        else:
            return self.evaluate(q, memo, ranking).docs
        memo[("matching", id(q))] = Node(docs, None)
        return docs

    def union(self, parts: list[Any]) -> Any:
        """The sorted union of sorted document sets."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return _EMPTY_DOCS
        if len(parts) == 1:
            return parts[0]
        if sum(len(p) for p in parts) * SPARSE_SHARE <= self.size:
            return merged_unique(parts)
        seen = np.zeros(self.size, dtype=bool)
        for part in parts:
            seen[part] = True
        return np.flatnonzero(seen)

    def common(self, nodes: list[Node]) -> Any:
        """The documents every node matches (sorted)."""
        return _common(nodes, self.size)

    def large(self, count: int) -> bool:
        """Whether sets of `count` documents together are large beside the index: aligned
        or combined through arrays the size of the index (`Node.restrict`'s test), which
        there cost less than binary searches or sorts of their documents."""
        return count * DENSE_SHARE >= self.size

    def all_of(self, children: list[Node], boost: float = 1.0, docs: Any = None) -> Node:
        """An And of evaluated children: the documents all of them match, scored as the
        sum of their scores (in the children's order). `docs`: those documents, when
        already known (`common(children)`), not intersected again."""
        if docs is None:
            docs = _common(children, self.size)
            if not len(docs):
                return Node.empty()
            scores = sum(c.restrict(docs, self.size) for c in children)
            return Node(docs, _boosted(scores, boost))
        if not len(docs):
            return Node.empty()
        # every child holds each of `docs`: its scores there are found by one binary
        # search each, without `restrict`'s test of which it holds (nor, for a child of a
        # few thousand documents, its array the size of the index); the same values
        # (a child large beside the index is aligned through `restrict`'s array the size
        # of the index: at a million, cheaper than a binary search of each document)
        scores = sum(c.scores if len(c.docs) == len(docs) else
                     c.restrict(docs, self.size) if self.large(len(docs) + len(c.docs))
                     else c.scores[c.docs.searchsorted(docs)] for c in children)
        return Node(docs, _boosted(scores, boost))

    def any_of(self, children: list[Node], boost: float = 1.0) -> Node:
        """An Or of evaluated children: the documents any of them matches, scored as the
        sum of the scores of those matching (in the children's order)."""
        children = [c for c in children if len(c.docs)]
        if not children:
            return Node.empty()
        if len(children) == 1:
            only = children[0]
            return Node(only.docs, only.scores * boost)
        few = self._few(children)
        if few is not None:
            docs, at, scores = few
            # bincount adds in the children's order, from 0, as the dense array does:
            # the same sums to the last bit.
            return Node(docs, _boosted(np.bincount(at, weights=scores, minlength=len(docs)),
                                       boost))
        if boost == 1.0 and all(c.scores.min() > 0 for c in children):
            # every sum above 0 exactly where a child matches: the documents listed only
            # if read (feedback's sums read the array alone)
            dense = np.zeros(self.size)
            for child in children:
                np.add.at(dense, child.docs, child.scores)
            return _Listed(dense)
        # dense[docs] += scores, the same sums (unique documents): 6.5 -> 2.7 ms for three
        # children of 550,000 documents at a million articles
        docs, dense = self._spread(children, np.add)
        if boost != 1.0:
            return Node(docs, dense[docs] * boost)
        # the summing array kept: feedback merges its own scores with it directly
        return Node(docs, dense[docs], dense)

    def with_optional(self, required: Node, optional: Node, boost: float = 1.0) -> Node:
        """An AndMaybe of evaluated children (`required` matching some documents): its
        documents, scored with `optional`'s where it matches them too."""
        docs, own = required.docs, optional.docs
        if 0 < len(own) < len(docs) and not self.large(len(docs) + len(own)):
            # `optional`'s documents all among `required`'s (a word's exact form among its
            # stem's, always in an index built by Furet): found by one binary search each,
            # where `restrict` looked each of `required`'s up among them (or took an array
            # the size of the index) and gave a 0 for each of the others; sets large beside
            # the index keep `restrict`'s array the size of the index (a binary search of
            # 200,000 documents among 400,000 costs 3 to 6 times its pass at a million)
            at = docs.searchsorted(own)
            # (their bytes compared, as `restrict` compares documents)
            if at[-1] < len(docs) and docs[at].tobytes() == own.tobytes():
                scores = required.scores + 0.0  # (x + 0.0 of the others, as restrict's 0)
                scores[at] = required.scores[at] + optional.scores
                return Node(docs, _boosted(scores, boost))
        return Node(docs, _boosted(required.scores + optional.restrict(docs, self.size),
                                   boost))

    def _evaluate(self, q: Any, memo: dict[Any, Node], ranking: Ranking) -> Node:
        check()
        boost = getattr(q, "boost", 1.0)
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text, boost, ranking)
        if isinstance(q, wq.And):
            return self.all_of([self.evaluate(c, memo, ranking) for c in q.subqueries],
                               boost)
        if isinstance(q, wq.DisjunctionMax):  # before Or: the best of the children
            children = [self.evaluate(s, memo, ranking) for s in q.subqueries]
            few = self._few(children)
            if few is not None:
                docs, at, scores = few
                best = np.zeros(len(docs))
                np.maximum.at(best, at, scores)
                return Node(docs, _boosted(best, boost))
            # best[docs] = np.maximum(best[docs], scores), the same values (unique
            # documents) without fancy indexing's gather and scatter
            docs, best = self._spread(children, np.maximum)
            return Node(docs, _boosted(best[docs], boost))
        if isinstance(q, wq.Or):
            return self.any_of([self.evaluate(s, memo, ranking) for s in q.subqueries],
                               boost)
        if isinstance(q, wq.AndMaybe):
            required = self.evaluate(q.a, memo, ranking)
            if not len(required.docs):
                return required
            return self.with_optional(required, self.evaluate(q.b, memo, ranking), boost)
        if isinstance(q, wq.AndNot):
            positive = self.evaluate(q.a, memo, ranking)
            negative = self.evaluate(q.b, memo, ranking)
            keep = ~np.isin(positive.docs, negative.docs, assume_unique=True)
            return Node(positive.docs[keep], positive.scores[keep])
        if isinstance(q, wq.Phrase):
            return self.phrase(q.fieldname, q.words, ranking, boost)
        if isinstance(q, wq.Every):
            docs = self.all_docs()
            return Node(docs, np.zeros(len(docs)))
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return Node.empty()
        raise TypeError(f"no evaluation for {type(q).__name__} queries")

    def _few(self, children: list[Node]) -> tuple[Any, Any, Any] | None:
        """The children's documents (sorted, unique), each posting's place among them and
        its score, when they are few or nearly all one child's (`_gathered`, `_inserted`);
        None when combining them in arrays the size of the index pays (`_spread`)."""
        if self._sparse(children):
            return _gathered(children)
        if _lopsided(children):
            return _inserted(children)
        return None

    def _spread(self, children: list[Node], combine: Any) -> tuple[Any, Any]:
        """The children's documents (sorted) and an array the size of the index holding
        each one's scores combined by the ufunc `combine` (np.add, np.maximum), in the
        children's order from 0."""
        values = np.zeros(self.size)
        seen = np.zeros(self.size, dtype=bool)
        for child in children:
            combine.at(values, child.docs, child.scores)
            seen[child.docs] = True
        return np.flatnonzero(seen), values

    def _sparse(self, children: list[Node]) -> bool:
        """Whether combining these children's few documents beats arrays the size of the
        index (which cost the same for two rare words as for two frequent ones)."""
        return sum(len(c.docs) for c in children) * SPARSE_SHARE <= self.size

    def phrase(self, fieldname: str, words: list[str], ranking: Ranking = DEFAULT_RANKING,
               boost: float = 1.0) -> Node:
        """Documents with the words side by side; scored as the sum of its words' scores."""
        distinct = list(dict.fromkeys(words))
        together = self._read_together(fieldname, distinct)
        if together is not None:  # words never read: read in one set of arrays
            if not together:
                return Node.empty()
            found, keys, bounds = together
            if len(words) == 2 and len(found) == 2:
                docs = self._pair_matched(keys, bounds[0])
            else:
                keyed, start = {}, 0
                for word, end in zip(found, bounds, strict=True):
                    keyed[word] = keys[start:end]
                    keyed[word].sort(kind="stable")
                    start = end
                docs = self._matched(words, keyed)
        else:
            found = {}
            for word in distinct:
                read = self.kept.get((fieldname, word))  # what `_read` would give first
                if read is None:
                    read = self._read_with_positions(fieldname, word)
                    if read is None:
                        return Node.empty()
                found[word] = read
            # Words that each give every key of theirs to the adjacency (few positions,
            # kept) need no candidates: a document holding one word and not the others
            # finds no neighbour there (their documents' intersection is the adjacency's
            # work).
            if all(self._every_key(fieldname, word, read) for word, read in found.items()):
                candidates = None
            else:
                candidates = _common([Node(f[0], f[1]) for f in found.values()], self.size)
                if not len(candidates):
                    return Node.empty()
            docs = self._adjacent(fieldname, words, candidates,
                                  {w: f[2] for w, f in found.items()}, found)
        if not len(docs):
            return Node.empty()
        return Node(docs, _boosted(self._phrase_scores(fieldname, words, found, docs,
                                                       ranking), boost))

    def _read_together(self, fieldname: str, words: list[str]
                       ) -> tuple[dict[str, Any], Any, list[int]] | tuple[()] | None:
        """A phrase's distinct `words`, none of them read before, read in one pass over
        their segments into one set of arrays: ({word: its `_read()`}, every (document
        << 32) + position key of each word one after the other, in order, and where each
        word's keys end); () when a word is in no segment. Each word of at most
        `kept.largest` postings has its read and its joined positions kept as
        `_read_with_positions` keeps them (the same values); beside one, a word of more
        gives its weights as stored, widened and scaled by `_phrase_scores` for the
        matched documents only (a frequent word of a rare phrase: thousands of postings
        for a handful of matches).
        None, to read the words one by one, when one is kept already, holds more than
        TOGETHER_POSTINGS postings, or is in a segment with deleted documents or without
        positions, or when the field's segments do not share one weight scale.

        Read one by one, each word cost a dozen numpy calls (its documents numbered, its
        weights scaled, its counts and positions joined) and its keys four more; read
        together, the phrase pays them once whatever its words. Every key of every word
        is made (no candidates: a key of a document that not every word holds finds no
        neighbour); each word's come in order (documents in order, each one's positions
        in order), which `_pair_matched`'s binary search relies on and a stable sort
        takes in one linear pass."""
        kept = self.kept
        for word in words:
            if kept.get((fieldname, word)) is not None:
                return None
        # the segments' slices as memoryviews, joined by `bytes.join` (`_term_slicing`)
        views = self._term_slicing(fieldname)
        types = self._field_types.get(fieldname)
        joinable = types is not None  # else (or a part listed apart) concatenated
        scales = self._field_scales[fieldname]
        if len(scales) != 1:
            return None
        (scale,) = scales
        deleted = self._deleted_in
        offsets = self.offsets
        docs_parts: list[Any] = []
        weights_parts: list[Any] = []
        counts_parts: list[Any] = []
        positions_parts: list[Any] = []
        owners: list[int] = []  # each part's segment's first document
        sizes: list[int] = []  # each part's postings
        spans = []  # each word's postings, positions, segments and idf
        total = 0
        for word in words:
            located = self._located(fieldname, word)
            if located is None:
                return ()
            listed, n = located
            begins, segments_of, numbers_of, frequencies = self._entries(fieldname, listed)
            if frequencies[n] > TOGETHER_POSTINGS:
                return None
            start, end = begins[n], begins[n + 1]
            segments = segments_of[start:end].tolist()
            numbers = numbers_of[start:end].tolist()
            positions = 0
            # `_sliced`'s loop, with the counts and positions
            for segment, m in zip(segments, numbers, strict=True):
                view = views[segment]
                pstarts = view[6]
                if pstarts is None or (deleted and segment in deleted):
                    return None
                starts = view[0]
                first, last = starts[m], starts[m + 1]
                if m in view[3] or m in view[5]:  # weights or counts listed apart
                    docs, weights = self.postings[segment].raw(fieldname, m)[:2] \
                        if m in view[3] else (view[9][first:last], view[10][first:last])
                    docs_parts.append(docs)
                    weights_parts.append(weights)
                    counts_parts.append(
                        self.postings[segment].raw_positions(fieldname, m)[1]
                        if m in view[5] else view[11][first:last])
                    joinable = False
                else:
                    docs_parts.append(view[9][first:last])
                    weights_parts.append(view[10][first:last])
                    counts_parts.append(view[11][first:last])
                sizes.append(last - first)
                first, last = pstarts[m], pstarts[m + 1]
                positions_parts.append(view[12][first:last])
                owners.append(offsets[segment])
                positions += last - first
            postings = frequencies[n]  # (no deleted documents: every posting read)
            total += postings
            spans.append((postings, positions, list(zip(segments, numbers, strict=True)),
                          self._idf_of(postings)))
        # `_read`'s documents numbered and weights scaled, `_kept_positions`' counts and
        # positions, each one call for every word (the same values)
        if joinable:
            # each kind's slices joined as bytes and read as their type, the documents
            # widened as they are numbered, the counts, positions and weights left as
            # they are stored (widened where a word is kept, the weights of the others
            # for the matched documents only: `_phrase_scores`)
            # (the offsets int64: so is their sum; no `dtype=`, which costs a call 1 us)
            docs = np.frombuffer(b"".join(docs_parts), types[0]) + \
                np.array(owners, dtype=np.int64).repeat(sizes)
            counts = np.frombuffer(b"".join(counts_parts), types[2])
            positions = np.frombuffer(b"".join(positions_parts), types[3])
            weights = np.frombuffer(b"".join(weights_parts), types[1])
            if weights.dtype == np.float64:  # (not a stored type: told from widened ones)
                weights = _scaled(weights, scale)
                scale = None
        else:
            # (documents, counts and positions in one int64 array: one call, not three)
            flat = np.concatenate(docs_parts + counts_parts + positions_parts,
                                  dtype=np.int64)
            docs, counts, positions = flat[:total], flat[total:2 * total], flat[2 * total:]
            docs += np.array(owners).repeat(sizes)
            weights = np.concatenate(weights_parts, dtype=np.float64)
            if scale is not None:
                weights *= scale
            scale = None  # (scaled)
        # A word kept holds slices of the shared arrays, and with them the other words'
        # parts, until they are dropped too (put beside it, they are the next oldest);
        # beside a word not kept (over `kept.largest`), its arrays are made apart (each
        # widened out of the shared ones). Every word kept: each kind widened once,
        # shared.
        copied = any(span[0] > kept.largest for span in spans)
        if not copied:
            positions = positions.astype(np.int64, copy=False)
            counts = counts.astype(np.int64, copy=False)
            weights = _scaled(weights, scale)
            scale = None
        keys = docs.repeat(counts)
        keys <<= 32  # (document << 32) + position, as `_phrase_keys` makes them
        keys += positions
        if not copied:  # kept: read-only (and the slices made after)
            for array in (docs, counts, positions, weights):
                array.setflags(write=False)
        found, bounds = {}, []
        a = at = 0
        for word, (postings, count, where_of, idf) in zip(words, spans, strict=True):
            b, bt = a + postings, at + count
            bounds.append(bt)
            word_docs, word_weights = docs[a:b], weights[a:b]
            if postings <= kept.largest:
                word_counts, word_positions = counts[a:b], positions[at:bt]
                if copied:
                    word_docs = word_docs.copy()
                    word_weights = _scaled(word_weights, scale)
                    word_counts = word_counts.astype(np.int64)
                    word_positions = word_positions.astype(np.int64)
                    for part in (word_docs, word_weights, word_counts, word_positions):
                        part.setflags(write=False)
                ends = word_counts.cumsum()
                ends.setflags(write=False)
                read = (word_docs, word_weights, where_of, idf)
                joined = (word_docs, word_counts, ends, word_positions)
                # (int64 and float64 arrays: 8 bytes a value)
                kept.put((fieldname, word), read, postings, 16 * postings + ENTRY_BYTES)
                kept.put(("positions", fieldname, word), joined, postings,
                         8 * (3 * postings + count) + ENTRY_BYTES)
            found[word] = (word_docs, word_weights, where_of, idf)
            a, at = b, bt
        return found, keys, bounds

    def _pair_matched(self, keys: Any, split: int) -> Any:
        """The documents where the first of two distinct words is followed by the second,
        `keys` holding the first's keys (`_read_together`'s, each word's in order) then,
        from `split`, the second's (changed here). Each word's keys are unique and in
        order (documents in order, each one's positions in order); the first's moved on
        one position, a key both hold is a place where the second follows the first.

        Words of a like number of keys are sorted together (a stable sort merges the two
        runs in one pass) and such keys are equal neighbours; a word of far fewer keys
        than the other (LOPSIDED_KEYS times) is looked up in the other's by a binary
        search, which touches a few of the frequent word's keys where the merge passes
        over them all."""
        check()
        first, second = keys[:split], keys[split:]
        if not len(first) or not len(second):
            return _EMPTY_DOCS
        if len(second) > LOPSIDED_KEYS * len(first):
            first += 1
            matched = first[second.take(second.searchsorted(first), mode="clip") == first]
        elif len(first) > LOPSIDED_KEYS * len(second):
            second -= 1
            matched = second[first.take(first.searchsorted(second), mode="clip") == second]
        else:
            first += 1
            keys.sort(kind="stable")
            following = keys[1:]
            matched = following[following == keys[:-1]]
        # (a probe past the last key meets the last key, `clip`, smaller than it)
        docs = unique_sorted(matched >> 32)  # (in order)
        return docs if self.all_live else docs[self.live[docs]]

    def _phrase_scores(self, fieldname: str, words: list[str], found: dict[str, Any],
                       docs: Any, ranking: Ranking) -> Any:
        """The sum of `term()`'s scores of each of `words` for `docs`, all of which hold
        them (`found`: each distinct word's `_read()`), in the words' order. BM25 is
        computed element by element, so these are the values `term()` gives those
        documents (a rare phrase's words may each be in thousands of documents); the
        lengths' norms are gathered once for all the words."""
        k1 = ranking.k1
        norms = self.norms(fieldname, ranking)
        norm = norms.table.take(norms.codes.take(docs))  # norms[docs] of int64 docs
        if len(docs) <= FEW_SCORED:
            return self._few_scores(fieldname, words, found, docs, norm.tolist(), k1)
        scored = {}
        for word, (word_docs, weights, _, idf) in found.items():
            weights = weights.take(word_docs.searchsorted(docs))
            if weights.dtype != np.float64:  # read together, not kept: as stored
                (scale,) = self._field_scales[fieldname]  # (one, to be read together)
                weights = _scaled(weights, scale)
            scored[word] = idf * (weights * (k1 + 1)) / (weights + norm)
        return sum(scored[w] for w in words)

    def _few_scores(self, fieldname: str, words: list[str], found: dict[str, Any],
                    docs: Any, norm: list[float], k1: float) -> Any:
        """`_phrase_scores` of at most FEW_SCORED documents, in Python floats: the same
        operations in the same order on the same doubles (so the same bits), where four
        numpy calls a word on a handful of values cost several times as much."""
        scored = {}
        scale: Any = ()
        for word, (word_docs, weights, _, idf) in found.items():
            gathered = weights.take(word_docs.searchsorted(docs)).tolist()
            if weights.dtype != np.float64:  # read together, not kept: as stored
                if scale == ():
                    (scale,) = self._field_scales[fieldname]  # (one: read together)
                if scale is not None:
                    gathered = [w * scale for w in gathered]
            factor = k1 + 1
            scored[word] = [idf * (w * factor) / (w + n)
                            for w, n in zip(gathered, norm, strict=True)]
        totals = [0] * len(norm)
        for word in words:
            totals = [t + s for t, s in zip(totals, scored[word], strict=True)]
        return np.array(totals, dtype=np.float64)

    def _every_key(self, fieldname: str, word: str, read: Any) -> bool:
        """Whether `_phrase_keys` gives every key of `word` (`read`: its `_read()`), its
        positions joined and kept being at most ALL_KEYS."""
        joined = self._kept_positions(fieldname, word, read[2], read)
        return joined is not None and len(joined[3]) <= ALL_KEYS

    def _adjacent(self, fieldname: str, words: list[str], candidates: Any,
                  where: dict[str, list[tuple[int, int]]] | None = None,
                  read: dict[str, Any] | None = None) -> Any:
        """The candidates where `words` follow each other.

        Phrase starts are (document, position) keys: those of the word with the fewest
        positions, kept while every other word sits at its offset from them (a binary
        search in that word's sorted keys). Each distinct word's positions are read once,
        so a phrase repeating a frequent word ("de la de la …") costs little more than
        its rarest word. `where`: each word's `directory.where`, when already known;
        `read`: each word's `_read()`, when already made. `candidates` None: every word
        gives every key of its own (`_every_key`), documents that are not candidates
        among them, which find no neighbour there.
        """
        where = where or {}
        read = read or {}
        keys = {w: self._phrase_keys(fieldname, w, candidates, where.get(w), read.get(w))
                for w in dict.fromkeys(words)}
        return self._matched(words, keys)

    def _matched(self, words: list[str], keys: dict[str, Any]) -> Any:
        """The documents where `words` follow each other, from each distinct word's sorted
        (document << 32) + position keys (`_adjacent`'s, or `_read_together`'s)."""
        first = min(range(len(words)), key=lambda i: len(keys[words[i]]))
        starts = keys[words[first]]  # (not written to: each step makes a new array)
        if first:
            starts = starts - first
        for i, word in enumerate(words):
            check()
            found = keys[word]
            if i == first or not len(starts):
                continue
            if not len(found):
                return _EMPTY_DOCS
            probe = starts + i
            # a probe past the last key meets the last key (`clip`), smaller than it
            starts = starts[found.take(found.searchsorted(probe), mode="clip") == probe]
        if not len(starts):
            return _EMPTY_DOCS
        docs = unique_sorted(starts >> 32)  # the keys are sorted
        return docs if self.all_live else docs[self.live[docs]]

    def _phrase_keys(self, fieldname: str, word: str, candidates: Any,
                     where: list[tuple[int, int]] | None = None, read: Any = None) -> Any:
        """Sorted keys of `word` for `_adjacent`: every one of its (document << 32) +
        position keys when it has at most ALL_KEYS positions joined and kept (documents
        that are not candidates among them), else the candidates' (`_position_keys`);
        `candidates` None only when `_every_key` said it gives every key."""
        if where is None:
            where = self.directory.where(fieldname, word)
        if candidates is None or len(candidates):
            joined = self._kept_positions(fieldname, word, where, read)
            if joined is not None and len(joined[3]) <= ALL_KEYS:
                words_docs, counts, _, positions = joined
                keys = words_docs.repeat(counts) * (1 << 32) + positions
                keys.sort(kind="stable")  # (in order already, or nearly: one linear pass)
                return keys
        return self._position_keys(fieldname, word, candidates, where, read)

    def _position_keys(self, fieldname: str, word: str, candidates: Any,
                       where: list[tuple[int, int]] | None = None, read: Any = None) -> Any:
        """Sorted (document << 32) + position keys of `word` in the candidate documents,
        every one of which holds it (sorted, live: those of the phrase's words).

        The candidates are looked up in the word's documents (a binary search of the few
        candidates, not a pass over the word's documents); positions are then read for
        those postings only. A word of few postings (SMALL_POSTINGS at most, in the
        segments holding candidates: a rare phrase's words) has its segments' slices
        joined first and looked up once, in a dozen numpy calls whatever the segments;
        a frequent word is looked up segment by segment, in the slices as they lie (a
        phrase's frequent word is in thousands of documents, a stop word in most).
        `where`: the word's `directory.where`, when already known; `read`: its `_read()`,
        when made (a word of few postings, none deleted, is then looked up in its
        documents as read: `_chosen_keys`).
        """
        if where is None:
            where = self.directory.where(fieldname, word)
        if not len(candidates):
            return np.zeros(0, dtype=np.int64)
        joined = self._kept_positions(fieldname, word, where, read)
        if joined is not None:  # every segment's slices joined, kept: looked up once
            words_docs, counts, ends, positions = joined
            docs = candidates.astype(np.int64, copy=False)
            chosen = words_docs.searchsorted(docs)  # every candidate holds the word
            c = counts[chosen]
            keys = docs.repeat(c) * (1 << 32) + positions[
                (ends[chosen] - c.cumsum()).repeat(c) + np.arange(int(c.sum()))]
            keys.sort(kind="stable")  # (in order already, or nearly: one linear pass)
            return keys
        if read is not None and len(read[0]) <= SMALL_POSTINGS:
            keys = self._chosen_keys(fieldname, candidates, read)
            if keys is not None:
                return keys
        # where each segment's candidates begin and end among `candidates`
        cuts = candidates.searchsorted(self._bounds).tolist()
        held, owners = [], []
        postings = 0
        for segment, n in where:
            a, b = cuts[segment], cuts[segment + 1]
            if a == b or not self.postings[segment].has_positions(fieldname):
                continue
            found = self.postings[segment].raw_positions(fieldname, n)
            held.append((segment, found))
            owners.append(candidates[a:b])
            postings += len(found[0])
        if not held:
            return np.zeros(0, dtype=np.int64)
        check()
        docs = np.concatenate(owners, dtype=np.int64) if len(owners) > 1 \
            else owners[0].astype(np.int64, copy=False)
        if postings <= SMALL_POSTINGS:
            lengths, found_positions = self._joined_positions(held, docs)
        else:
            lengths, found_positions = self._positions_by_segment(held, owners)
        keys = docs.repeat(lengths) * (1 << 32) + found_positions
        keys.sort(kind="stable")  # (in order already, or nearly: one linear pass)
        return keys

    def _chosen_keys(self, fieldname: str, candidates: Any, read: Any) -> Any:
        """`_position_keys` of a word of few postings not kept (`read`: its `_read()`),
        looked up in its documents as read: each candidate's posting among them (a binary
        search), where its positions begin summed from the counts between the candidates'
        postings (`np.add.reduceat`, vectorised, where a running sum of every posting's
        count took 23 us for 7,000), its positions gathered from the word's slices joined.
        None when a segment holding the word has deleted documents (the read left them
        out) or no positions (read as before)."""
        where = read[2]
        deleted = self._deleted_in
        if deleted and any(segment in deleted for segment, _ in where):
            return None
        slicing = self._term_slicing(fieldname)
        counts_parts, positions_parts = [_NO_COUNT], []
        for segment, m in where:
            starts, _, _, _, _, counted, pstarts, counts, positions = slicing[segment][:9]
            if pstarts is None:
                return None
            counts_parts.append(
                self.postings[segment].raw_positions(fieldname, m)[1] if m in counted
                else counts[starts[m]:starts[m + 1]])
            positions_parts.append(positions[pstarts[m]:pstarts[m + 1]])
        docs = candidates.astype(np.int64, copy=False)
        chosen = read[0].searchsorted(docs)  # every candidate holds the word
        # a 0 first: the first piece sums the counts before the first chosen posting,
        # each next one those from a chosen posting to the next (strictly increasing)
        counts = np.concatenate(counts_parts, dtype=np.int64)
        pieces = np.empty(len(chosen) + 1, dtype=np.int64)
        pieces[0] = 0
        np.add(chosen, 1, out=pieces[1:])
        begins = np.add.reduceat(counts, pieces)[:-1].cumsum()
        c = counts[chosen + 1]
        positions = np.concatenate(positions_parts) if len(positions_parts) > 1 \
            else positions_parts[0]
        keys = docs.repeat(c) * (1 << 32) + positions[
            (begins + c - c.cumsum()).repeat(c) + np.arange(int(c.sum()))]
        keys.sort(kind="stable")  # (in order already, or nearly: one linear pass)
        return keys

    def _kept_positions(self, fieldname: str, word: str, where: list[tuple[int, int]],
                        read: Any = None) -> tuple[Any, Any, Any, Any] | None:
        """(documents as the index's, positions per posting, where each one's positions
        end, the positions as int64) of a word of at most `kept.largest` postings in all
        its segments, joined and kept (search/whoosh/kept_terms.py); None for a larger
        word or one in a segment without positions (read as the candidates ask).
        `read`: the word's `_read()`, whose documents, when none of its segments has
        deleted ones, are those of its postings (not numbered again)."""
        key = ("positions", fieldname, word)
        found = self.kept.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        whole = read is not None and not any(s in self._deleted_in for s, _ in where)
        # the directory counts the word's postings (as does a read without deletions):
        # a larger word reads no slice here
        if (len(read[0]) if whole else self.directory.frequency(fieldname, word)) \
                > self.kept.largest:
            return None
        held = []
        for segment, n in where:
            if not self.postings[segment].has_positions(fieldname):
                return None
            held.append((segment, self.postings[segment].raw_positions(fieldname, n)))
        if not held:
            return None
        docs = read[0] if whole else \
            self._numbered([segment for segment, _ in held], [p[0] for _, p in held])
        counts = np.concatenate([p[1] for _, p in held], dtype=np.int64)
        positions = np.concatenate([p[2] for _, p in held], dtype=np.int64)
        found = (docs, counts, counts.cumsum(), positions)
        for array in found:
            array.setflags(write=False)
        self.kept.put(key, found, len(docs),
                      sum(array.nbytes for array in found) + ENTRY_BYTES)
        return found

    def _joined_positions(self, held: list[tuple[int, tuple[Any, Any, Any]]], docs: Any
                          ) -> tuple[Any, Any]:
        """(positions of each of `docs`, their positions one after the other) from the
        segments' (docs, counts, positions) slices of one word, joined first."""
        if len(held) == 1:
            segment, (stored, counts, positions) = held[0]
            words_docs = np.add(stored, self.offsets[segment], dtype=np.int64)
            counts = counts.astype(np.int64)
        else:
            words_docs = self._numbered([segment for segment, _ in held],
                                        [found[0] for _, found in held])
            counts = np.concatenate([found[1] for _, found in held], dtype=np.int64)
            positions = np.concatenate([found[2] for _, found in held])
        chosen = words_docs.searchsorted(docs)  # every candidate holds the word
        ends = counts.cumsum()  # where each posting's positions end
        c = counts[chosen]
        return c, positions[(ends[chosen] - c.cumsum()).repeat(c)
                            + np.arange(int(c.sum()))].astype(np.int64, copy=False)

    def _positions_by_segment(self, held: list[tuple[int, tuple[Any, Any, Any]]],
                              owners: list[Any]) -> tuple[Any, Any]:
        """`_joined_positions`, segment by segment in the slices as they lie (`owners`:
        each segment's candidates)."""
        lengths, parts = [], []
        for (segment, (docs, counts, positions)), mine in zip(held, owners, strict=True):
            check()
            local = mine - self.offsets[segment]  # int64, below the segment's size
            local = local.astype(docs.dtype)  # they fit, being among them: no widening copy
            # the chosen postings of this segment, in order: every candidate holds the word
            # (so the chosen postings' documents are the candidates themselves)
            chosen = docs.searchsorted(local)
            # where each one's positions end (counts after the last one are not needed)
            ends = counts[:int(chosen[-1]) + 1].cumsum(dtype=np.int64)
            if len(chosen) == 1:  # one posting: its positions are one slice
                end = int(ends[-1])
                size = int(counts[int(chosen[0])])
                lengths.append(np.array([size], dtype=np.int64))
                parts.append(positions[end - size:end])
                continue
            c = counts[chosen].astype(np.int64)
            lengths.append(c)
            parts.append(positions[(ends[chosen] - c.cumsum()).repeat(c)
                                   + np.arange(int(c.sum()))])
        c = np.concatenate(lengths) if len(lengths) > 1 else lengths[0]
        return c, np.concatenate(parts, dtype=np.int64)

    def _numbered(self, segments: list[int], parts: list[Any]) -> Any:
        """Segments' document numbers (as stored) as the index's, int64, in one array."""
        if len(parts) == 1:
            return np.add(parts[0], self.offsets[segments[0]], dtype=np.int64)
        sizes = [len(p) for p in parts]
        total = sum(sizes)
        if total < NUMBERED_APART * len(parts):
            docs = np.concatenate(parts, dtype=np.int64)
            offsets = self._offset_array
            if len(segments) < len(offsets) or segments != self._every_segment:
                offsets = offsets[segments]  # (a term in every segment needs no gather)
            docs += offsets.repeat(sizes)
            return docs
        # each part widened and numbered in one pass, into its place (a frequent word:
        # one pass over its postings, where a concatenation, the offsets repeated and
        # their sum made three; the same numbers)
        docs = np.empty(total, dtype=np.int64)
        offsets, end = self.offsets, 0
        for segment, part, size in zip(segments, parts, sizes, strict=True):
            np.add(part, offsets[segment], out=docs[end:end + size], dtype=np.int64)
            end += size
        return docs

    # -- ranking

    @staticmethod
    def top(docs: Any, scores: Any, limit: int) -> list[tuple[int, float]]:
        """The `limit` best (doc, score), best first; equal scores in index order, at the
        cut too (search/whoosh/best.py)."""
        return best_first(docs, scores, limit)
