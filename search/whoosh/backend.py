"""The Whoosh backend: an index folder on this machine, searched with numpy.

`WhooshBackend.view()` checks, at most once per `refresh_interval` seconds, whether the
CURRENT build or its Whoosh generation changed (a cron `update` or a `build`), and if so
opens a new `Generation`: the next query sees the new articles, without a restart. The
replaced generation is closed one swap later (not reused, as Whoosh's `refresh()` would),
so a query still running on it in another thread is never cut off, and file handles do not
leak.

A `Generation` is one searcher with what it needs made once: the numpy evaluator over the
flat postings, the facet table, the date order (the term directory, facet table and
hyphenated words mapped from the generation's prepared file when it has one:
search/whoosh/prepared.py). A search compiles the query
(search/whoosh/compile.py), evaluates it whole, keeps what the filters allow and the
exclusions (and the editors' hidden articles) do not ban, adds what feedback finds for a
question (search/feedback.py), counts facets over every match, ranks (articles with every
word first, unless the query is a question), and highlights one page of hits.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from whoosh import query as wq

from search.backend import Backend, ResultCache, View
from search.deadline import check
from search.errors import ArticleNotFoundError, FuretError, IndexCorruptError
from search.facets import empty_facets
from search.ranking import RECENCY_WINDOW, Ranking, recency_factor
from search.request import SearchRequest
from search.results import Article, Hit, Results, plain_hits, rounded
from search.snippets import Highlighter, Terms, escaped, highlight_terms
from search.whoosh.compile import Compiled, compile_query
from search.whoosh.evaluate import Evaluator, Node
from search.whoosh.facets import FacetTable, count_page
from search.whoosh.feedback import Summed, best_of_sums, expanded, summed_feedback, top
from search.whoosh.file_watch import FOLDER_CHANGES, FileWatch
from search.whoosh.heap import keep_freed_for_searching
from search.whoosh.layout import (
    BUILDS,
    CURRENT,
    FULL_CHECK_SECONDS,
    MANIFEST,
    current_build,
    damaged,
    index_hint,
    open_build,
)
from search.whoosh.membership import in_sorted, sorted_unique
from search.whoosh.plain import plain_query, rank_plain
from search.whoosh.prepared import read_prepared
from search.whoosh.private import StoredFields, hit_fields
from search.whoosh.spelling import WhooshVocabulary

__all__ = ["Generation", "WhooshBackend"]

QUIET_NS = 1_000_000_000  # a build folder unchanged this long is only checked by its time

RELATED_KEY_TERMS = 12
# Compiled queries a generation keeps (about 1 kB each: half a MB at most), the oldest
# dropped first.
PLANS_KEPT = 512
RELATED_SALIENT = 6  # a related article has one of the article's 6 best key terms
RELATED_MIN_SHARE = 0.2  # and scores at least this share of the article's own score


class Generation(View):
    """One generation of a build, opened for searching."""

    def __init__(self, build: Path, ix: Any) -> None:
        self.build = build
        self.storage = ix.storage
        self._folder_fd: int | None = None
        self._hidden: tuple[frozenset[str], Any] | None = None
        self._plans = ResultCache(PLANS_KEPT)  # compiled queries, least recently used out
        try:
            self.searcher = ix.searcher()
            self.whoosh_generation = self.searcher.reader().generation()
            self._name = f"{build.name}.{self.whoosh_generation}"
            self.folder = str(build)
            # The build folder, held open while the generation is: what CURRENT names is
            # this folder exactly when a stat through CURRENT gives this device and inode
            # (a folder held open keeps its inode: a later build cannot be given it).
            self._folder_fd = os.open(self.folder, os.O_RDONLY)
            opened = os.fstat(self._folder_fd)
            self.folder_id = (opened.st_dev, opened.st_ino)
            # The tables written with the generation, when it has them (else built here)
            self.prepared = read_prepared(build, ix.indexname, self.whoosh_generation,
                                          self.searcher.reader())
            prepared = self.prepared
            self.evaluator = Evaluator(self.searcher, prepared.fields if prepared else None)
            self.stored = StoredFields(self.searcher.reader())
            # Read at open (its hyphenated words: tens of ms at 90,000 articles), so that no
            # search of two to four words waits for them.
            self._vocabulary = WhooshVocabulary(self.searcher, self.evaluator,
                                                prepared.compounds if prepared else None)
        except Exception as err:  # noqa: BLE001 - a damaged segment fails in many ways
            if hasattr(self, "searcher"):
                self.searcher.close()
            if self._folder_fd is not None:
                os.close(self._folder_fd)
            raise damaged(build, err) from None

    @property
    def generation(self) -> str:
        return self._name

    def close(self) -> None:
        self.searcher.close()
        self.storage.stop_watching()
        if self._folder_fd is not None:
            os.close(self._folder_fd)
            self._folder_fd = None

    def check_files(self) -> None:
        """IndexCorruptError if a segment file shrank under its map (a read would SIGBUS)."""
        self.storage.check_mapped()

    @cached_property
    def facets(self) -> FacetTable:
        if self.prepared is not None:
            return self.prepared.facets
        return FacetTable.load(self.searcher.reader())

    def vocabulary(self, request: SearchRequest | None = None) -> WhooshVocabulary:
        return self._vocabulary

    @cached_property
    def date_order(self) -> tuple[Any, Any]:
        """(dated documents newest first, ties in index order; undated documents)."""
        dates = self.facets.arrays()["dates"]
        dated = np.flatnonzero(dates >= 0)
        dated = dated[np.argsort(-dates[dated], kind="stable")]
        return dated, np.flatnonzero(dates < 0)

    # -- searching

    def compiled(self, request: SearchRequest) -> Compiled:
        """The request's query compiled for this generation, remembered (the last
        PLANS_KEPT compiled, the least recently used dropped first): the same words asked again with
        another page, sort, filter or facets compile once. A plan depends on the query
        and the ranking only (and on this generation's terms, which expand prefixes)."""
        parsed = request.parsed
        key = (parsed.text(), request.query, request.typed, request.ranking,
               (parsed.groups, parsed.excluded) if request.synonyms else ())
        found: Compiled | None = self._plans.get(self._name, key)
        if found is None:
            found = compile_query(parsed, self.searcher.reader(), typed=request.typed,
                                  ranking=request.ranking, text=request.query,
                                  directory=self.evaluator.directory)
            self._plans.put(self._name, key, found)
        return found

    def forget_plans(self) -> None:
        """Empty the compiled plans and the terms kept (`Backend.clear_caches`)."""
        self._plans.clear()
        self.evaluator.kept.clear()

    def search(self, request: SearchRequest) -> tuple[Results, bool]:
        offset = (request.page - 1) * request.per_page
        want = offset + request.per_page
        plain = plain_query(request)
        if plain is not None:  # a few plain words or a phrase: ranked without compiling
            ranked, total, facet_counts, timeline = rank_plain(self, request, plain, want)
            # Did-you-mean corrects words, not phrases, and one plain word that matched is
            # known (its stem matched): it would find nothing to correct, and is not asked.
            correct = not (plain.phrase or (total and len(plain.words) == 1))
            return self._results(request, ranked[offset:want], total, facet_counts,
                                 timeline), correct
        compiled = self.compiled(request)
        months_of = request.parsed_filters.single_year
        total = 0
        facet_counts: dict[str, Any] = empty_facets(months_of) if request.facets else {}
        timeline: list[Any] = []
        ranked = []
        if compiled.match is not None:
            ranked, total, facet_counts, timeline = self._rank(request, compiled, want,
                                                               months_of)
        return self._results(request, ranked[offset:want], total, facet_counts,
                             timeline), compiled.positive

    def _results(self, request: SearchRequest, page: list[tuple[int, float]], total: int,
                 facet_counts: dict[str, Any], timeline: list[Any]) -> Results:
        """The results of one page: its (doc, score) made hits."""
        hits: list[Hit] = []
        if page:
            if request.snippets:
                marks = Highlighter(highlight_terms(request.parsed))  # once for the page
                hits = self._snippet_hits(page, marks)
            else:
                hits = self._plain_hits(page)
        return Results.page_of(request.parsed.text(), total, request.page, request.per_page,
                               hits, facet_counts, timeline)

    def _rank(self, request: SearchRequest, compiled: Any, want: int, months_of: int | None
              ) -> tuple[list[tuple[int, float]], int, dict[str, Any], list[Any]]:
        """Ranked documents (the first `want`), the exact total, the facets, the timeline."""
        evaluator = self.evaluator
        memo: dict[Any, Node] = {}
        ranking = request.ranking
        allowed = self.facets.allowed(request.parsed_filters, request.period, self._tagged)
        banned = None if compiled.excluded is None else \
            evaluator.evaluate(compiled.excluded, memo, ranking).docs
        if request.hidden:  # the editors' hidden articles: never matched, never counted
            hidden = self.hidden_docs(request.hidden)
            banned = hidden if banned is None else \
                sorted_unique(np.concatenate((banned, hidden)))
        depth = max(want, RECENCY_WINDOW) if request.recency_half_life > 0 else want
        if not compiled.question:
            quick = self._unscored(request, compiled, memo, allowed, banned, want, depth,
                                   months_of)
            if quick is not None:
                return quick
        matched = evaluator.evaluate(compiled.match, memo, ranking)
        feedback = (compiled.question and ranking.feedback_weight > 0
                    and len(compiled.stems) >= ranking.feedback_words)
        if (feedback and matched.above and compiled.tier is None and allowed is None
                and (banned is None or not len(banned))):
            # feedback from the question's summing array alone: its documents not listed
            summed = summed_feedback(evaluator, matched, stems=list(compiled.stems),
                                     ranking=ranking)
            if summed is not None:
                return self._rank_sums(request, compiled, summed, want, depth, months_of)
        docs, scores = _kept(matched.docs, matched.scores, allowed, banned)
        later = None  # with feedback: what ranks the results after the first feedback_after
        leading = None  # with feedback, those first documents when already known
        if feedback and len(docs):
            # the Or's summing array, when the filters kept every one of its documents
            dense = matched.dense if docs is matched.docs else None
            found = self._with_feedback(docs, scores, compiled, ranking, allowed, banned,
                                        dense, summed=compiled.tier is None)
            if isinstance(found, Summed):
                return self._rank_sums(request, compiled, found, want, depth, months_of)
            docs, scores, later, leading = found
        total = len(docs)
        facets, timeline = {}, []
        if request.facets:
            facets, timeline = count_page(self.facets, docs, months_of=months_of)
        if request.sort != "relevance" or not compiled.positive:
            return (self._by_date(docs, want, newest=request.sort != "oldest"), total,
                    facets, timeline)
        tiers = []
        rank = Evaluator.top
        if compiled.tier is not None:
            # the tier's documents only: its scores are the Or's, already in `scores`
            first = in_sorted(docs, evaluator.matching(compiled.tier, memo, ranking),
                              evaluator.size)
            tiers.append(Evaluator.top(docs[first], scores[first], depth))
            docs, scores = docs[~first], scores[~first]
        elif later is not None:  # feedback: its first documents found where they are, the
            # rest ranked by the scores with feedback's
            if leading is None:  # `scores` are the question's own (0 for the added)
                leading = top(docs, scores, ranking.feedback_after)
            leading = sorted(leading)  # in document order, as they sit in `docs`
            first = np.array([doc for doc, _ in leading], dtype=np.int64)
            tiers.append(_ordered(leading, depth))
            at = np.searchsorted(docs, first).tolist()
            # Evaluator.top of the rest, without(docs, at) and without(later, at): the same,
            # faster over the tens of thousands feedback gives
            scores = later
            rank = partial(top, apart=at)
        if tiers:
            depth = max(depth - len(tiers[0]), 0)
        tiers.append(rank(docs, scores, depth))
        if request.recency_half_life > 0:
            tiers = [self._by_recency(tier, request) for tier in tiers]
        return [item for tier in tiers for item in tier], total, facets, timeline

    def _unscored(self, request: SearchRequest, compiled: Any, memo: dict[Any, Node],
                  allowed: Any, banned: Any, want: int, depth: int, months_of: int | None
                  ) -> tuple[list[tuple[int, float]], int, dict[str, Any], list[Any]] | None:
        """`_rank`'s answer when the matches need no score of their own: sorted by date,
        or an Or of words whose tier (the And of the same words) fills the ranked depth
        after the filters, so that only the tier is scored and the Or's documents are only
        counted. None otherwise (the whole evaluation is needed)."""
        evaluator, ranking = self.evaluator, request.ranking
        by_date = request.sort != "relevance" or not compiled.positive
        ranked = None
        if not by_date:
            match, tier = compiled.match, compiled.tier
            # The tier's scores are the Or's for its documents bit for bit only when both
            # add the same children in the same order, unboosted.
            if not (isinstance(match, wq.Or) and isinstance(tier, wq.And)
                    and not isinstance(match, wq.DisjunctionMax)
                    and type(tier) is wq.And and match.boost == 1.0 and tier.boost == 1.0
                    and len(match.subqueries) == len(tier.subqueries)
                    and all(a is b for a, b in zip(match.subqueries, tier.subqueries,
                                                   strict=True))):
                return None
            # The words first (the Or adds them up too), then the tier's documents alone: its
            # own scores are wanted only when it fills the depth (rare words seldom do).
            for child in tier.subqueries:
                evaluator.evaluate(child, memo, ranking)
            if len(evaluator.matching(tier, memo, ranking)) < depth:
                return None
            first = evaluator.evaluate(tier, memo, ranking)
            first_docs, first_scores = _kept(first.docs, first.scores, allowed, banned)
            if len(first_docs) < depth:
                return None
            ranked = Evaluator.top(first_docs, first_scores, depth)
            if request.recency_half_life > 0:
                ranked = self._by_recency(ranked, request)
        docs, _ = _kept(evaluator.matching(compiled.match, memo, ranking), None, allowed,
                        banned)
        facets, timeline = {}, []
        if request.facets:
            facets, timeline = count_page(self.facets, docs, months_of=months_of)
        if ranked is None:
            ranked = self._by_date(docs, want, newest=request.sort != "oldest")
        return ranked, len(docs), facets, timeline

    def _with_feedback(self, docs: Any, scores: Any, compiled: Any, ranking: Ranking,
                       allowed: Any, banned: Any, dense: Any = None, summed: bool = False
                       ) -> tuple[Any, Any, Any, Any] | Summed:
        """The matches and what feedback adds (search/feedback.py): their documents, the
        question's scores (0 for the added ones; None when the next is known), the scores
        with the feedback's, and the first feedback_after (doc, score) when already known
        (else None). With `summed`, the same as a `Summed` when feedback can give it."""
        found = expanded(self.evaluator, docs, scores, stems=list(compiled.stems),
                         ranking=ranking, allowed=allowed, banned=banned, dense=dense,
                         summed=summed)
        return (docs, scores, None, None) if found is None else found

    def _rank_sums(self, request: SearchRequest, compiled: Any, found: Summed, want: int,
                   depth: int, months_of: int | None
                   ) -> tuple[list[tuple[int, float]], int, dict[str, Any], list[Any]]:
        """`_rank`'s answer from feedback's sums (`Summed`): the total counted in its mask,
        the documents listed only for the facets or a sort by date, the results after the
        first feedback_after ranked in the array of the sums (`best_of_sums`), else among
        the documents listed, as `_rank` ranks them."""
        total = found.total
        docs = None
        facets: dict[str, Any] = {}
        timeline: list[Any] = []
        if request.facets:
            docs = np.flatnonzero(found.kept)
            facets, timeline = count_page(self.facets, docs, months_of=months_of)
        if request.sort != "relevance" or not compiled.positive:
            if docs is None:
                docs = np.flatnonzero(found.kept)
            return (self._by_date(docs, want, newest=request.sort != "oldest"), total,
                    facets, timeline)
        leading = sorted(found.first)  # in document order, as `_rank` orders them
        tiers = [_ordered(leading, depth)]
        depth = max(depth - len(tiers[0]), 0)
        rest = best_of_sums(found, depth)
        if rest is None:  # fewer than `depth` above 0 after the first: among the documents
            if docs is None:
                docs = np.flatnonzero(found.kept)
            first = np.array([doc for doc, _ in leading], dtype=np.int64)
            rest = top(docs, found.sums[docs], depth, apart=np.searchsorted(docs, first).tolist())
        tiers.append(rest)
        if request.recency_half_life > 0:
            tiers = [self._by_recency(tier, request) for tier in tiers]
        return [item for tier in tiers for item in tier], total, facets, timeline

    def _tagged(self, tags: list[str]) -> Any:
        """The documents holding any of `tags` (tags are neither facets nor flat postings)."""
        reader = self.searcher.reader()
        found = [np.fromiter(reader.postings("tag", t).all_ids(), dtype=np.int64)
                 for t in tags if ("tag", t) in reader]
        return sorted_unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def _by_date(self, docs: Any, want: int, *, newest: bool) -> list[tuple[int, float]]:
        """The first `want` of `docs` by date (undated last either way); no relevance score."""
        dated, undated = self.date_order
        order = np.concatenate((dated if newest else dated[::-1], undated))
        member = np.zeros(self.evaluator.size, dtype=bool)
        member[docs] = True
        return [(doc, 0.0) for doc in order[member[order]][:want].tolist()]

    def _by_recency(self, tier: list[tuple[int, float]], request: SearchRequest
                    ) -> list[tuple[int, float]]:
        boosted = []
        for docnum, score in tier:
            check()
            published = self.stored.head(docnum).get("published")
            when = datetime.fromisoformat(published) if published else None
            factor = recency_factor(when, half_life_days=request.recency_half_life,
                                    weight=request.recency_weight)
            boosted.append((docnum, score * factor))
        boosted.sort(key=lambda item: -item[1])
        return boosted

    def _plain_hits(self, ranked: list[tuple[int, float]]) -> list[Hit]:
        """`_hit(docnum, score, None)` of each (docnum, score): each hit's stored head, its
        title escaped, no snippet. The heads are read in one loop (`StoredFields.hit_heads`:
        what a hit shows, without a dict when the segment stores plain heads), the deadline
        checked once for the page."""
        check()
        return plain_hits(self.stored.hit_heads([docnum for docnum, _ in ranked]),
                          [score for _, score in ranked])

    def _hit(self, docnum: int, score: float, marks: Highlighter | None) -> Hit:
        """A hit; `marks` None means no highlighting (title escaped, no snippet). Made by
        `Hit.of` (its fields in order: about 1 µs a hit against 3 through keywords)."""
        check()
        # Without a snippet, the lead and body are not read (nor decompressed).
        fields = self.stored.head(docnum) if marks is None else self.stored.with_texts(docnum)
        id_, url, title, published, section, authors = hit_fields(fields)
        if marks is None:
            title_html, snippet_html = escaped(title), ""
        else:
            title_html = marks.mark_all(title)
            snippet_html = marks.snippet(fields.get("lead", ""), fields.get("body", ""))
        return Hit.of(id_, url, title, title_html, snippet_html, published, section, authors,
                      rounded(score, 4))

    def _snippet_hits(self, ranked: list[tuple[int, float]], marks: Highlighter
                      ) -> list[Hit]:
        """`_hit(docnum, score, marks)` of each (docnum, score), made in two passes: every
        hit's stored head, lead and body read, then every title and snippet made. Each
        pass's code (the decompressor and unpickler, then the highlighting) runs ten times
        in a row instead of taking turns with the other's: 0.92 to 0.96 of a rarer-words
        search's CPU with snippets. The page is read in one call (`StoredFields.hit_texts`:
        what a hit shows of each head, and its lead and body, without a dict merging them).
        The titles are marked together (`Highlighter.mark_titles`), the snippets too
        (`Highlighter.snippets`). The deadline is checked before the reads and before each
        hit's snippet."""
        check()
        heads, texts = self.stored.hit_texts([docnum for docnum, _ in ranked])
        titles = marks.mark_titles([head[2] for head in heads])  # scanned together first
        snippets = marks.snippets(texts)
        made = Hit.of
        hits = []
        for (_, score), head, title_html, snippet_html in zip(ranked, heads, titles, snippets,
                                                              strict=True):
            id_, url, title, published, section, authors = head
            hits.append(made(id_, url, title, title_html, snippet_html,
                             published, section, authors, rounded(score, 4)))
        return hits

    def hidden_docs(self, ids: frozenset[str]) -> Any:
        """The document numbers of these articles (sorted; kept for the last set asked)."""
        known = self._hidden
        if known is None or known[0] != ids:
            docs = (self.searcher.document_number(id=i) for i in ids)
            known = (ids, sorted_unique(np.fromiter((d for d in docs if d is not None),
                                                dtype=np.int64)))
            self._hidden = known
        return known[1]

    # -- articles

    def _docnum(self, article_id: str) -> int:
        docnum = self.searcher.document_number(id=article_id)
        if docnum is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return docnum

    def find(self, key: str) -> list[str]:
        return [f["id"] for f in self.searcher.documents(id=key)] or [
            f["id"] for f in self.searcher.documents(url=key)]

    def article(self, article_id: str) -> Article:
        fields = self.searcher.stored_fields(self._docnum(article_id))
        return Article(
            id=fields["id"],
            url=fields.get("url"),
            title=fields.get("title", ""),
            lead=fields.get("lead", ""),
            body=fields.get("body", ""),
            published=fields.get("published"),
            modified=fields.get("modified"),
            section=fields.get("section"),
            authors=list(fields.get("authors", ())),
            tags=list(fields.get("tags", ())),
            lang=fields.get("lang"),
        )

    def related(self, article_id: str, limit: int) -> list[Hit]:
        """The articles matching most of this one's key terms (its title read twice) that
        share its topic: none rather than articles about something else."""
        docnum = self._docnum(article_id)
        fields = self.searcher.stored_fields(docnum)
        text = " ".join((fields.get("title", ""),) * 2 + (fields.get("lead", ""),
                                                           fields.get("body", "")[:6000]))
        keys = self.searcher.key_terms_from_text("text", text, numterms=RELATED_KEY_TERMS)
        if not keys:
            return []
        found = self.evaluator.evaluate(
            wq.Or([wq.Term("text", term, boost=weight) for term, weight in keys]))
        # Related means sharing the topic: one of the article's most telling terms, and a
        # score near its own (an article matching only common words shows nothing).
        salient = self.evaluator.evaluate(
            wq.Or([wq.Term("text", term) for term, _ in keys[:RELATED_SALIENT]]))
        own = found.scores[found.docs == docnum]
        floor = RELATED_MIN_SHARE * float(own[0]) if len(own) else 0.0
        keep = (found.docs != docnum) & (found.scores >= floor) \
            & np.isin(found.docs, salient.docs)
        best = Evaluator.top(found.docs[keep], found.scores[keep], limit)
        marks = Highlighter(Terms())  # nothing to mark: each snippet is an opening
        return self._snippet_hits(best, marks)


def _ordered(found: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """`Evaluator.top` of a few (doc, score), distinct documents: best first, ties in
    index order, sorted here without making arrays when all fit in `limit` (and no score
    is NaN, which numpy's order puts last)."""
    if 0 < len(found) <= limit and all(score == score for _, score in found):
        return sorted(found, key=_best_first)
    return Evaluator.top(np.array([doc for doc, _ in found], dtype=np.int64),
                         np.array([score for _, score in found]), limit)


def _best_first(item: tuple[int, float]) -> tuple[float, int]:
    return -item[1], item[0]


class WhooshBackend(Backend):
    """A Furet index folder, opened for searching."""

    def __init__(self, index_dir: str | os.PathLike[str], *, refresh_interval: float = 0.0):
        super().__init__()
        # A large index's searches free arrays of megabytes: kept for the next search
        # rather than faulted in again (search/whoosh/heap.py; FURET_SEARCH_HEAP_MB).
        keep_freed_for_searching()
        self.dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._current: Generation | None = None
        self._retired: list[Generation] = []
        self._checked = 0.0
        self._ix: Any = None
        self._quiet_mtime: int | None = None  # of the build folder, last seen unchanged
        self._link = str(self.dir / CURRENT)  # read at every search: a Path costs 20 us
        # The folders CURRENT is read through, watched (`_stale`): the watch, whether a
        # check by a stat has passed since every folder was watched, whether one may be had,
        # when the last stat was made
        self._news: FileWatch | None = None
        self._news_trusted = False
        self._watching = True
        self._stat_at = 0.0  # when the last stat through CURRENT was made (time.monotonic)

    def _open(self) -> None:
        build = current_build(self.dir)
        ix = open_build(build)
        generation = Generation(build, ix)
        for old in self._retired:
            old.close()
        if self._current is not None:  # retired: its terms kept are not read again
            self._current.evaluator.kept.clear()
        self._retired = [self._current] if self._current is not None else []
        self._current, self._ix = generation, ix
        self._quiet_mtime = None
        self._stop_news()

    def _stale(self) -> bool:
        """Whether CURRENT names another build, or its folder another Whoosh generation:
        told by a stat (`_stale_by_stat`) unless a watch of every folder on the way from
        the index folder's path to the build's (search/whoosh/file_watch.py) has noted no
        change since a stat found the generation current (one poll instead of a stat of a
        path through five folders and a link), and a stat was made less than
        FULL_CHECK_SECONDS ago (a network share's folders can be changed by another
        machine, which no watch here notes)."""
        news, now = self._news, time.monotonic()
        if news is not None and not news.written() and self._news_trusted \
                and now - self._stat_at < FULL_CHECK_SECONDS:
            return False
        self._stat_at = now
        stale = self._stale_by_stat()
        if not stale:
            if news is None or news.closed:  # watched from now on, trusted after a stat
                self._watch_folders()
            else:
                self._news_trusted = True
        return stale

    def _watch_folders(self) -> None:
        """Watch for changes every folder a stat through CURRENT reads (each folder of the
        index folder's absolute path, its builds and the current build); not trusted
        until a stat after it passes. None where a watch cannot be had, or where the
        path passes through a link other than CURRENT (a change there could be in a
        folder off the path)."""
        self._stop_news()
        current = self._current
        if not self._watching or current is None:
            return
        index = os.path.abspath(self.dir)
        build = os.path.realpath(current.build)
        if os.path.realpath(index) != index or os.path.dirname(build) != os.path.join(
                index, BUILDS):
            return
        folders = [index]
        while os.path.dirname(folders[-1]) != folders[-1]:
            folders.append(os.path.dirname(folders[-1]))
        news = FileWatch.open()
        if news is None or not all(news.add(folder, FOLDER_CHANGES) for folder in
                                   (*folders, os.path.dirname(build), build)):
            self._watching = False
            if news is not None:
                news.close()
            return
        self._news = news

    def _stop_news(self) -> None:
        if self._news is not None:
            self._news.close()
        self._news, self._news_trusted = None, False

    def _stale_by_stat(self) -> bool:
        # One stat through CURRENT tells both changes apart (one system call, where reading
        # the link and then stat'ing its folder took two): another build (CURRENT names
        # another folder: another device or inode than the one this generation holds open),
        # or a new generation of the same build (a file added to the folder changes its
        # time).
        try:
            found = os.stat(self._link)
        except OSError:
            return True
        current = self._current
        if current is None or (found.st_dev, found.st_ino) != current.folder_id:
            return True
        # Listing the folder (Whoosh's latest_generation) is skipped while its time stays
        # the one seen more than a second after the folder's last change: a change within
        # the same clock tick as a listing could leave the time as it was, never one a
        # second later.
        mtime = found.st_mtime_ns
        if mtime == self._quiet_mtime:
            return False
        stale = self._ix.latest_generation() != self._current.whoosh_generation
        if not stale and time.time_ns() - mtime > QUIET_NS:
            self._quiet_mtime = mtime
        return stale

    def current(self) -> Generation:
        """The generation to search, reopened when the index changed."""
        now = time.monotonic()
        current = self._current
        if current is not None and now - self._checked < self.refresh_interval:
            return current
        with self._lock:
            if self._current is None or self._stale():
                self._open()
            self._checked = now
            assert self._current is not None
            return self._current

    def view(self) -> _Reading:
        return _Reading(self)

    def stats(self) -> dict[str, Any]:
        """Documents, generation and last update (UTC, ISO 8601) of what is searched."""
        with self.view() as generation:
            return {
                "documents": generation.searcher.doc_count(),
                "generation": generation.generation,
                "last_update": _manifest_value(generation.build / MANIFEST, "updated"),
            }

    def clear_caches(self) -> None:
        super().clear_caches()
        current = self._current
        if current is not None:
            current.forget_plans()

    def close(self) -> None:
        with self._lock:
            for generation in [*self._retired, self._current]:
                if generation is not None:
                    generation.close()
            self._retired, self._current, self._ix = [], None, None
            self._stop_news()
        self.clear_caches()


_UNREADABLE = (OSError, EOFError, ValueError, KeyError, IndexError)


class _Reading:
    """The current generation, for one call; what Whoosh raises on a damaged index comes
    out as IndexCorruptError saying what to do. (A class: a call pays for no generator.)"""

    __slots__ = ("backend",)

    def __init__(self, backend: WhooshBackend) -> None:
        self.backend = backend

    def __enter__(self) -> Generation:
        try:
            generation = self.backend.current()
        except _UNREADABLE as err:
            if isinstance(err, FuretError):
                raise
            raise self._damaged(err) from err
        generation.check_files()  # every call: a file truncated since is an error, not SIGBUS
        return generation

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(error, _UNREADABLE) and not isinstance(error, FuretError):
            raise self._damaged(error) from error

    def _damaged(self, err: BaseException) -> IndexCorruptError:
        where = self.backend.dir
        return IndexCorruptError(f"{where}: the index cannot be read ({err}); rebuild it "
                                 f"with: {index_hint(where)}")


def _kept(docs: Any, scores: Any, allowed: Any, banned: Any) -> tuple[Any, Any]:
    """The documents (and their scores) the filters allow and the exclusions do not ban."""
    keep = allowed[docs] if allowed is not None else None
    if banned is not None and len(banned):
        out = ~np.isin(docs, banned, assume_unique=True)
        keep = out if keep is None else keep & out
    if keep is None:
        return docs, scores
    return docs[keep], None if scores is None else scores[keep]


def _manifest_value(path: Path, key: str) -> str | None:
    """One value of a build's manifest, read without writing anything."""
    for mode in ("ro", "ro&immutable=1"):  # immutable: on a full disk, no shared memory file
        try:
            db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
        except sqlite3.Error:
            continue
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        except sqlite3.Error:
            continue
        finally:
            db.close()
    return None
