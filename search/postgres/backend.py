"""The PostgreSQL backend: the Backend contract over a database `furet-index` writes.

One connection pool per process (opened after a fork, like Whoosh searchers). Each call
is a `PostgresView`: one pooled connection in a read-only REPEATABLE READ transaction, so a
count and its page agree even while a build swaps tables. Searching follows the same rules
as the Whoosh store: same tiers, exact totals, facets over every match; caching and
corrections are the shared ones of search/backend.py. The search's deadline becomes the
transaction's statement_timeout (SET LOCAL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from typing import Any, TypeVar

import numpy as np
import psycopg
from psycopg import conninfo, sql
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from search.analysis import stem
from search.backend import Backend, View
from search.deadline import check, remaining
from search.errors import ArticleNotFoundError, IndexCorruptError, IndexNotFoundError
from search.facets import (
    empty_facets,
)
from search.postgres.compile import (
    Compiled,
    Lexemes,
    clean,
    compile_query,
    lookup_texts,
    recency,
)
from search.postgres.connection import (
    BUILD_HINT,
    CONNECT_TIMEOUT,
    INIT_HINT,
    check_url,
    connect,
    database_errors,
    describe,
)
from search.postgres.editorial import without_hidden
from search.postgres.facet_table import FacetTables
from search.postgres.facets import facet_sql, read_facets
from search.postgres.feedback import FEEDBACK, BestRows, with_feedback
from search.postgres.postings import EXACT
from search.postgres.related import related_rows
from search.postgres.schema import SCHEMA_VERSION, extension_schema
from search.postgres.scoring import (
    PostingCache,
    Scored,
    best_docs,
    match_scores,
    read_postings,
    top_docs,
)
from search.postgres.snapshot import LazySnapshot
from search.postgres.spelling import PostgresVocabulary
from search.questions import is_variant, variant_prefix
from search.request import SearchRequest
from search.results import Article, FacetValue, Hit, Results
from search.snippets import Highlighter, Terms, highlight_terms, snippet

__all__ = ["PostgresBackend", "PostgresView", "open_postgres"]

T = TypeVar("T")
POOL_SIZE = 4  # a sync web worker needs one; threads and the CLIs a few
# A thread's view expects the state its ETag read found (search/postgres/snapshot.py) for
# this long after the read (seconds): the read of the same request, not an older one.
EXPECTED_FOR = 1.0
_STATE = """
SELECT (SELECT value FROM furet.meta WHERE key = 'generation'),
       (SELECT value FROM furet.meta WHERE key = 'documents')
"""
# Each text's document frequency (its rarest stem's, Furet's analysis giving the stems:
# search/postgres/postings.py), the number of articles holding a word's exact form, and the
# terms that may be variants of its stem (search/questions.py: the prefix, then up to four
# letters; is_variant chooses; the bounds hold in any collation for lowercase letters).
_WORDS = """
SELECT t.text,
       coalesce((SELECT min(coalesce(s.ndoc, 0))
                 FROM unnest(string_to_array(t.stems, ' ')) l(stem)
                 LEFT JOIN furet.terms s ON s.term = l.stem), 0),
       coalesce((SELECT e.ndoc FROM furet.terms e WHERE e.term = '{EXACT}' || t.text), 0),
       (SELECT coalesce(array_agg(s.term || ' ' || s.ndoc), '{}') FROM furet.terms s
        WHERE t.prefix <> '' AND s.term >= t.prefix AND s.term <= t.prefix || 'zzzz'
          AND starts_with(s.term, t.prefix))
FROM unnest(%s::text[], %s::text[], %s::text[]) t(text, stems, prefix)
""".replace("{EXACT}", EXACT)


def _stems(text: str) -> list[str]:
    """The stems of a text's words, as the postings have them (stop words left out)."""
    return [s for w in text.split(" ") if (s := stem(w)) is not None]


def _variants(stem: str, found: list[str]) -> tuple[tuple[str, int], ...]:
    """The variants of a word's stem among `found` ('term ndoc' texts)."""
    pairs = (f.rsplit(" ", 1) for f in found)
    return tuple((v, int(n)) for v, n in pairs if is_variant(stem, v))


# The planner's default random_page_cost (4, for spinning disks) makes it read every row's
# tsvector in a sequential scan for a word found in a tenth of the articles, where the GIN
# index answers without reading one. Options in the URL come after, so they win.
PLANNER_OPTIONS = "-c random_page_cost=1.1"


def session_options(url: str) -> str:
    """libpq `options` for reading sessions: Furet's planner settings, then the URL's."""
    return f"{PLANNER_OPTIONS} {conninfo.conninfo_to_dict(url).get('options') or ''}".strip()


# A view's transaction, begun by its first statement (search/postgres/backend.py `_begin`).
_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def _configure(conn: Any) -> None:
    # Views begin their transaction themselves, in the round trip of their first statement
    # (psycopg would send BEGIN on its own, one round trip more).
    conn.autocommit = True


def _check_readable(conn: Any, url: str) -> str:
    """Check the schema version and that a build exists; return the pg_trgm schema."""
    where = describe(url)
    row = conn.execute("SELECT to_regclass('furet.schema_migrations') IS NOT NULL").fetchone()
    if not row[0]:
        raise IndexNotFoundError(f"{where} holds no Furet index yet; create it with: "
                                 f"{INIT_HINT}, then {BUILD_HINT}")
    version = conn.execute("SELECT max(version) FROM furet.schema_migrations").fetchone()[0]
    if version != SCHEMA_VERSION:
        raise IndexCorruptError(
            f"{where} has Furet schema version {version}, this Furet reads {SCHEMA_VERSION}; "
            f"upgrade it with: {INIT_HINT}")
    if conn.execute("SELECT value FROM furet.meta WHERE key = 'generation'").fetchone() is None:
        raise IndexNotFoundError(f"{where} holds no articles yet; build the index with: "
                                 f"{BUILD_HINT}")
    return extension_schema(conn, "pg_trgm")



def _checked_state(url: str, generation: str | None, documents: Any) -> tuple[str, int]:
    """(generation, documents) as `_STATE` read them; IndexNotFoundError before a build."""
    if generation is None:
        raise IndexNotFoundError(f"{describe(url)} holds no articles yet; build the index "
                                 f"with: {BUILD_HINT}")
    return generation, int(documents or 0)


class WordCache:
    """What the database said of words in the generation being searched (`_WORDS` for each
    text, the vocabulary's answers for corrections): frequent words come back in many
    queries, each answer a round trip saved."""

    LIMIT = 20_000  # answers kept (then forgotten all at once)

    def __init__(self) -> None:
        self._generation = ""
        self._found: dict[Any, Any] = {}

    def of(self, generation: str) -> dict[Any, Any]:
        """The answers known in `generation` (an empty dict to fill for a new one)."""
        if generation != self._generation or len(self._found) > self.LIMIT:
            self._generation, self._found = generation, {}
        return self._found


class PostgresView(View):
    """One pooled connection, in one read-only snapshot of the database."""

    def __init__(self, conn: Any, url: str, trgm: str,
                 facet_tables: FacetTables | None = None,
                 words: WordCache | None = None,
                 state: tuple[str | None, Any] | None = None,
                 postings: PostingCache | None = None) -> None:
        self.conn = conn
        self.postings = postings
        self.url = url
        self.trgm = trgm
        self.facet_tables = facet_tables
        self.words = words
        self._state: tuple[str, int] | None = None
        if state is not None:
            self._state = _checked_state(url, *state)
        self._dfs: dict[str, int] = {}
        self._lexemes: dict[str, Lexemes] = {}

    def _read_state(self) -> tuple[str, int]:
        """(generation, documents)."""
        self._state = _checked_state(self.url, *self.conn.execute(_STATE).fetchone())
        return self._state

    @property
    def generation(self) -> str:
        return (self._state or self._read_state())[0]

    def dfs(self, request: SearchRequest) -> dict[str, int]:
        """The document frequencies of what `request` ranks by (read once per view), and
        the lexemes of its words (phrases are ranked from their tsvectors)."""
        if self._state is None:
            self._read_state()
        texts = lookup_texts(request.parsed)
        known = self.words.of(self.generation) if self.words is not None else {}
        missing = []
        for text in dict.fromkeys(texts):
            if text in self._dfs:
                continue
            if text in known:
                self._dfs[text], lexemes = known[text]
                if lexemes is not None:
                    self._lexemes[text] = lexemes
            else:
                missing.append(text)
        if missing:
            stems = [_stems(text) for text in missing]
            prefixes = [(variant_prefix(found[0]) or "") if len(found) == 1 and " " not in text
                        else "" for text, found in zip(missing, stems, strict=True)]
            rows = {row[0]: row[1:] for row in self.conn.execute(
                _WORDS, (missing, [" ".join(s) for s in stems], prefixes))}
            for text, own in zip(missing, stems, strict=True):
                df, exact_df, found = rows[text]
                lexemes = None if " " in text else Lexemes(
                    tuple(own), (text,), exact_df,
                    _variants(own[0], found) if len(own) == 1 else ())
                self._dfs[text] = df
                if lexemes is not None:
                    self._lexemes[text] = lexemes
                if not getattr(self.conn, "stale", False):  # (another generation's)
                    known[text] = (df, lexemes)
        return {t: self._dfs[t] for t in texts}

    def vocabulary(self, request: SearchRequest | None = None) -> PostgresVocabulary:
        return PostgresVocabulary(self.conn, self.trgm,
                                  self.dfs(request) if request is not None else {},
                                  self.words.of(self.generation) if self.words else None)

    # -- searching

    def search(self, request: SearchRequest) -> tuple[Results, bool]:
        try:
            found: tuple[Results, bool] | None = self._search(request)
        except Exception as err:
            # Past a stale snapshot's first statement, what the search read (posting
            # lists, articles) is the new generation's while its caches (facet table,
            # posting lists, words) are the expected one's: doc numbers beyond the facet
            # table, say. Whatever that raised, the search is redone in the new state;
            # so is one a replica cancelled (a conflict with the recovery it replays).
            if not getattr(self.conn, "stale", False) and not _cancelled(err):
                raise
            found = None
        if found is None or self.conn.stale:  # an update committed since the expected state
            self._state = self.conn.begin_now(_begun)
            self._dfs.clear()
            self._lexemes.clear()
            found = self._search(request)
        return found

    def _search(self, request: SearchRequest) -> tuple[Results, bool]:
        dfs = self.dfs(request)
        assert self._state is not None
        compiled = compile_query(request.parsed, typed=request.typed,
                                 filters=request.parsed_filters, period=request.period,
                                 dfs=dfs, documents=self._state[1], lexemes=self._lexemes,
                                 ranking=request.ranking, text=request.query)
        compiled = without_hidden(compiled, request.hidden)
        # Plain words, by relevance, without filters: ranked and counted in this process.
        here = compiled.postings is not None and request.sort == "relevance" \
            and compiled.filters == "true" and not _recency(request) \
            and self.facet_tables is not None
        if request.sort == "relevance":
            compiled = with_feedback(self.conn, compiled, request.ranking, self._state[1],
                                     self._best_rows(request) if here else None)
        months_of = request.parsed_filters.single_year
        facet_counts: dict[str, Any] = empty_facets(months_of) if request.facets else {}
        timeline: list[FacetValue] = []
        hits: list[Hit] = []
        total = 0
        if compiled.match is None:
            pass
        elif here:
            total, facet_counts, timeline, hits = self._counted(compiled, request)
        elif compiled.postings is not None and request.facets \
                and request.sort == "relevance":
            total, facet_counts, timeline, hits = self._ranked(compiled, request, months_of)
        else:
            if request.facets:
                total, facet_counts, timeline = self._facets(compiled, months_of)
            else:
                total = self.conn.execute(f"SELECT count(*) FROM {_matching(compiled)}",
                                          compiled.params.values).fetchone()[0]
            if total > (request.page - 1) * request.per_page:
                hits = self._page(compiled, request)
        return Results(query=request.parsed.text(), total=total, total_is_exact=True,
                       page=request.page, per_page=request.per_page, took_ms=0.0, hits=hits,
                       facets=facet_counts, timeline=timeline), compiled.positive

    def _facets(self, compiled: Compiled, months_of: int | None
                ) -> tuple[int, dict[str, list[FacetValue]], list[FacetValue]]:
        """The total, the facets and the timeline of the matches, in one query."""
        ctes, select = facet_sql(compiled.params, months_of)
        rows = self.conn.execute(
            f"WITH m AS MATERIALIZED (SELECT a.section_key, a.author_keys, a.year, a.month "
            f"FROM {_matching(compiled)}), {ctes} {select}", compiled.params.values).fetchall()
        return read_facets(rows, months_of)

    def _scored(self, compiled: Compiled, request: SearchRequest, *,
                feedback: bool | None = None) -> Scored:
        """Every match of a plain-words query and its score, ranked here from its posting
        lists (search/postgres/scoring.py)."""
        assert compiled.postings is not None
        lists = read_postings(self.conn, [t for t, _, _ in compiled.postings], self.postings,
                              self.generation)
        hidden = None
        if request.hidden:
            hidden = np.array([row[0] for row in self.conn.execute(
                "SELECT doc FROM furet.articles WHERE id = ANY(%s)",
                (sorted(request.hidden),))], dtype=np.int64)
        return match_scores(compiled.postings, lists, compiled, hidden, feedback=feedback)

    def _best_rows(self, request: SearchRequest) -> BestRows:
        """Feedback's best articles, ranked here (search/postgres/feedback.py)."""
        return lambda compiled, count: best_docs(
            self.conn, self._scored(compiled, request, feedback=False), count)

    def _counted(self, compiled: Compiled, request: SearchRequest
                 ) -> tuple[int, dict[str, list[FacetValue]], list[FacetValue], list[Hit]]:
        """A plain-words search without filters, ranked and counted here: the posting lists
        summed with numpy, the facets from the FacetTable, then the page's rows."""
        scored = self._scored(compiled, request)
        total = len(scored.docs)
        facets: dict[str, list[FacetValue]] = {}
        timeline: list[FacetValue] = []
        if request.facets:
            assert self.facet_tables is not None
            table = self.facet_tables.get(self.conn, self.generation)
            total, facets, timeline = table.count(scored.docs)
        if total <= (request.page - 1) * request.per_page:
            return total, facets, timeline, []
        page = top_docs(scored, request.page * request.per_page)
        # A page with results is the search's last read: its COMMIT goes with it (what
        # may follow, a spelling suggestion's vocabulary, needs no snapshot).
        rows = self.conn.last(
            "SELECT a.id, a.url, a.title, a.published, a.section, a.authors, c.score, "
            f"{_text(request)} FROM unnest(%s::int[], %s::float8[], %s::int[]) "
            "c(doc, score, tier) JOIN furet.articles a ON a.doc = c.doc "
            "ORDER BY c.tier DESC, c.score DESC, a.id LIMIT %s OFFSET %s",
            (page.docs.tolist(), page.score.tolist(), page.tier.tolist(), request.per_page,
             (request.page - 1) * request.per_page))
        return total, facets, timeline, _hits(rows, request)

    def _ranked(self, compiled: Compiled, request: SearchRequest, months_of: int | None
                ) -> tuple[int, dict[str, list[FacetValue]], list[FacetValue], list[Hit]]:
        """A plain-words search in one statement: its posting lists summed once per article
        give the page, the total and the facets."""
        p = compiled.params
        ctes, select = facet_sql(p, months_of)
        rows = self.conn.execute(
            f"WITH {ranked_matches(compiled, request)}, {ctes}, "
            f"facet_rows AS ({select}), "
            f"page AS (SELECT id, score, tier FROM m ORDER BY tier DESC, score DESC, id "
            f"LIMIT {p(request.per_page)} OFFSET {p((request.page - 1) * request.per_page)}) "
            "SELECT 0 AS part, NULL AS tier, NULL AS score, NULL AS id, f.*, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM facet_rows f "
            "UNION ALL SELECT 1, page.tier, page.score, a.id, NULL, NULL, NULL, a.id, a.url, "
            f"a.title, a.published, a.section, a.authors, page.score, {_text(request)} "
            "FROM page JOIN furet.articles a ON a.id = page.id "
            "ORDER BY part, tier DESC, score DESC, id", p.values).fetchall()
        facets = [row[4:7] for row in rows if row[0] == 0]
        total, facet_counts, timeline = read_facets(facets, months_of)
        return total, facet_counts, timeline, _hits([row[7:] for row in rows if row[0]],
                                                     request)

    def _tier_fills(self, compiled: Compiled, request: SearchRequest) -> bool:
        """Whether the articles with every word fill the pages up to the requested one."""
        needed = request.page * request.per_page
        row = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM furet.articles a WHERE {compiled.match} "
            f"AND {compiled.tier} LIMIT {int(needed)}) t", compiled.params.values).fetchone()
        return row[0] >= needed

    def _page(self, compiled: Compiled, request: SearchRequest) -> list[Hit]:
        p = compiled.params
        match = compiled.match
        page = ""
        if request.sort == "relevance" and compiled.postings is not None:
            page = _postings_page(compiled, request)
            inner = outer = "page.tier DESC, page.score DESC, a.id"
        elif request.sort == "relevance" and compiled.positive:
            score = compiled.score
            if _recency(request):
                score = (f"({score}) * "
                         f"{recency(p, request.recency_half_life, request.recency_weight)}")
            tier = f"({compiled.tier})::int" if compiled.tier else "0"
            inner, outer = "tier DESC, score DESC, a.id", "page.tier DESC, page.score DESC, a.id"
            if compiled.tier and self._tier_fills(compiled, request):
                # Articles with every word come first: when they fill the page, only they
                # are ranked (ranking reads each candidate's tsvectors: the costly part).
                match, tier = f"{match} AND {compiled.tier}", "1"
        else:
            score, tier = "0", "0"
            way = "DESC" if request.sort != "oldest" else "ASC"
            inner = f"a.published_at {way} NULLS LAST, a.id"
            outer = f"a.published_at {way} NULLS LAST, a.id"
        page = page or (f"page AS (SELECT a.id, {score} AS score, {tier} AS tier "
                        f"FROM furet.articles a WHERE {match} ORDER BY {inner} "
                        f"LIMIT {p(request.per_page)} "
                        f"OFFSET {p((request.page - 1) * request.per_page)})")
        # Snippets are made here, by the Whoosh store's code (search/snippets.py), from
        # the stored text: the same marks and passages, cheaper than ts_headline.
        rows = self.conn.execute(
            f"WITH {page} "
            "SELECT a.id, a.url, a.title, a.published, a.section, a.authors, page.score, "
            f"{_text(request)} FROM page JOIN furet.articles a ON a.id = page.id "
            f"ORDER BY {outer}",
            p.values).fetchall()
        return _hits(rows, request)

    # -- articles

    def find(self, key: str) -> list[str]:
        if key != clean(key):
            return []
        rows = self.conn.execute("SELECT id FROM furet.articles WHERE id = %s", (key,)) \
            .fetchall() or self.conn.execute(
                "SELECT id FROM furet.articles WHERE url = %s ORDER BY id", (key,)).fetchall()
        return [row[0] for row in rows]

    def article(self, article_id: str) -> Article:
        if article_id != clean(article_id):
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        row = self.conn.execute(
            "SELECT id, url, title, lead, body, published, modified, section, authors, "
            "tags, lang FROM furet.articles WHERE id = %s", (article_id,)).fetchone()
        if row is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        (id_, url, title, lead, body, published, modified, section, authors, tags, lang) = row
        return Article(id=id_, url=url, title=title, lead=lead, body=body, published=published,
                       modified=modified, section=section, authors=list(authors),
                       tags=list(tags), lang=lang)

    def related(self, article_id: str, limit: int) -> list[Hit]:
        rows = related_rows(self.conn, article_id, limit) \
            if article_id == clean(article_id) else None
        if rows is None:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return [Hit(id=id_, url=url, title=title, title_html=escape(title, quote=False),
                    snippet_html=snippet(lead, body, Terms()), published=published,
                    section=section, authors=list(authors), score=round(float(score), 4))
                for id_, url, title, lead, body, published, section, authors, score in rows]


def _text(request: SearchRequest) -> str:
    """The columns snippets are made from (empty when none is asked for)."""
    return "a.lead, a.body" if request.snippets else "'', ''"


def _hits(rows: list[tuple[Any, ...]], request: SearchRequest) -> list[Hit]:
    """The page's hits, titles and snippets marked as the Whoosh store marks them."""
    marks = Highlighter(highlight_terms(request.parsed)) if request.snippets else None
    hits = []
    for id_, url, title, published, section, authors, score, lead, body in rows:
        check()
        hits.append(Hit(
            id=id_, url=url, title=title,
            title_html=marks.mark_all(title) if marks is not None
            else escape(title, quote=False),
            snippet_html=marks.snippet(lead, body) if marks is not None else "",
            published=published, section=section, authors=list(authors),
            score=round(float(score), 4)))
    return hits


def _matching(compiled: Compiled) -> str:
    """FROM and WHERE of the matching articles `a`: from the postings' keys alone when the
    query is plain words (no article row read), else with the GIN indexes."""
    if compiled.postings is None:
        return f"furet.articles a WHERE {compiled.match}"
    # The words' stems, and the expansion's (feedback): what the aggregates match by.
    stems = compiled.params([t for t, _, n in compiled.postings if n >= 0 or n == FEEDBACK])
    return (f"(SELECT DISTINCT p.doc FROM furet.postings p WHERE p.term = ANY({stems}::text[])"
            f" AND {compiled.kept()}) c JOIN furet.articles a ON a.doc = c.doc "
            f"WHERE {compiled.filters}")


def _postings_sums(compiled: Compiled) -> str:
    """CTEs `q` (the query's posting lists) and `agg` (per article with a stem of the
    query: its tier, whether it has every word, and its score, an index-only aggregate)."""
    p = compiled.params
    q = compiled.lists() + ", "
    rows = compiled.rows()
    if compiled.feedback:
        # The question's own first `feedback_after` articles come first (tier 1), by its own
        # score; the others, and those only the expansion finds, by both scores.
        return (
            q + f"fed AS (SELECT r.doc, coalesce(sum(r.s) FILTER (WHERE r.word <> "
            f"{FEEDBACK}), 0) AS own, coalesce(sum(r.s) FILTER (WHERE r.word = "
            f"{FEEDBACK}), 0) AS more, count(*) FILTER (WHERE r.word >= 0) AS found FROM "
            f"{rows} GROUP BY r.doc "
            f"HAVING count(*) FILTER (WHERE r.word >= 0 OR r.word = {FEEDBACK}) > 0), "
            "first AS (SELECT fed.doc FROM fed JOIN furet.articles a ON a.doc = fed.doc "
            f"WHERE found > 0 AND {compiled.filters} ORDER BY own DESC, fed.doc "
            f"LIMIT {p(compiled.feedback_after)}), "
            "agg AS (SELECT fed.doc, (first.doc IS NOT NULL)::int AS tier, CASE WHEN "
            "first.doc IS NOT NULL THEN own ELSE own + more END AS score FROM fed "
            "LEFT JOIN first ON first.doc = fed.doc)")
    return (
        q + f"agg AS (SELECT r.doc, (count(*) FILTER (WHERE r.word >= 0) >= "
        f"{p(compiled.words)})::int AS tier, sum(r.s) AS score FROM {rows} GROUP BY r.doc "
        "HAVING count(*) FILTER (WHERE r.word >= 0) > 0)")


def _recency(request: SearchRequest) -> bool:
    return request.recency_half_life > 0 and request.recency_weight > 0


def _score(compiled: Compiled, request: SearchRequest) -> str:
    """An article's score: the postings' sum, times the recency multiplier if asked."""
    if _recency(request):
        return (f"agg.score * "
                f"{recency(compiled.params, request.recency_half_life, request.recency_weight)}")
    return "agg.score"


def ranked_matches(compiled: Compiled, request: SearchRequest) -> str:
    """CTEs ending with `m`: every match of a plain-words query (the filters applied) with
    its id, tier, score and facet columns (from the covering (doc) index)."""
    return (f"{_postings_sums(compiled)}, m AS MATERIALIZED (SELECT a.id, agg.tier, "
            f"{_score(compiled, request)} AS score, a.section_key, a.author_keys, a.year, "
            f"a.month FROM agg JOIN furet.articles a ON a.doc = agg.doc "
            f"WHERE {compiled.filters})")


def _postings_page(compiled: Compiled, request: SearchRequest) -> str:
    """The `page` of a plain-words query: its posting lists summed per article (an
    index-only aggregate), articles with every word first."""
    p = compiled.params
    ranked = _postings_sums(compiled) + ", "
    limit = f"LIMIT {p(request.per_page)} OFFSET {p((request.page - 1) * request.per_page)}"
    if compiled.filters == "true" and not _recency(request):
        # Only the articles up to the page's last (ties included) are joined to their ids.
        needed = p(request.page * request.per_page)
        return (ranked + f"top AS (SELECT tier, score FROM agg ORDER BY tier DESC, score DESC "
                f"LIMIT {needed}), "
                "page AS (SELECT a.id, agg.score, agg.tier FROM agg JOIN furet.articles a "
                "ON a.doc = agg.doc WHERE (agg.tier, agg.score) >= (SELECT tier, score FROM "
                f"top ORDER BY tier, score LIMIT 1) ORDER BY agg.tier DESC, agg.score DESC, "
                f"a.id {limit})")
    return (ranked + f"page AS (SELECT a.id, {_score(compiled, request)} AS score, agg.tier "
            f"FROM agg JOIN furet.articles a ON a.doc = agg.doc WHERE {compiled.filters} "
            f"ORDER BY tier DESC, score DESC, a.id {limit})")


class PostgresBackend(Backend):
    """A Furet index in PostgreSQL, opened for searching."""

    def __init__(self, url: str, trgm_schema: str, *, pool_size: int = POOL_SIZE) -> None:
        super().__init__()
        self.url = url
        self._trgm = sql.Identifier(trgm_schema).as_string()
        self._facet_tables = FacetTables()
        self._words = WordCache()
        self._postings = PostingCache()
        self._expected = threading.local()  # the state this thread's ETag read found
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, timeout=CONNECT_TIMEOUT,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "furet",
                    "options": session_options(url)},
            configure=_configure, name="furet")

    @contextmanager
    def view(self) -> Iterator[PostgresView]:
        with database_errors(self.url):
            expected, self._expected.state = getattr(self._expected, "state", None), None
            if expected is not None and time.monotonic() - expected[1] > EXPECTED_FOR:
                expected = None  # not this request's ETag read
            if expected is None:
                conn, row = self._first(_begun)
                snapshot = LazySnapshot.begun(conn, _checked_state(self.url, *row),
                                              self._checked)
            else:  # the ETag's read just said what to expect: begun by the first statement
                snapshot = LazySnapshot(
                    self._pool.getconn(), expected[0], _begin_statements, _STATE.strip(),
                    self._checked, self._replace, self._pool.max_size + 1)
            try:
                yield PostgresView(snapshot, self.url, self._trgm, self._facet_tables,
                                   self._words, snapshot.state, self._postings)
                if snapshot.conn.info.transaction_status != TransactionStatus.IDLE:
                    snapshot.conn.execute("COMMIT")  # unless sent with the last statement
            finally:
                self._release(snapshot.conn)

    @property
    def generation(self) -> str:
        """The generation searched now: one statement, no transaction (the ETag's). This
        thread's next view expects it (see search/postgres/snapshot.py)."""
        with database_errors(self.url):
            conn, row = self._first(lambda c: c.execute(_STATE).fetchone())
            self._release(conn)
        state = _checked_state(self.url, *row)
        self._expected.state = (state, time.monotonic())
        return state[0]

    def _checked(self, row: Any) -> tuple[str, int]:
        """A state row as (generation, documents)."""
        return _checked_state(self.url, *row)

    def _replace(self, conn: Any) -> Any:
        """Another pooled connection for one found broken."""
        self._release(conn)
        return self._pool.getconn()

    def _first(self, statement: Callable[[Any], T]) -> tuple[Any, T]:
        """A pooled connection and what `statement` (its first) returned. Connections are
        not pinged when taken from the pool (a round trip each time): one found broken by
        its first statement (a server restarted, a replica stopped) is dropped and the
        statement sent on the next, until the pool opens a new connection."""
        for attempt in range(self._pool.max_size + 1):
            conn = self._pool.getconn()
            try:
                return conn, statement(conn)
            except psycopg.OperationalError:
                self._release(conn)  # the pool drops it when it is broken
                if not conn.broken or attempt == self._pool.max_size:
                    raise
            except BaseException:
                self._release(conn)
                raise
        raise AssertionError("unreachable")

    def _release(self, conn: Any) -> None:
        """Give a connection back to the pool, its transaction (if one is left: an error)
        rolled back."""
        try:
            if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # broken now: the pool drops it
        finally:
            self._pool.putconn(conn)

    def stats(self) -> dict[str, Any]:
        with self.view() as view:
            meta = dict(view.conn.execute("SELECT key, value FROM furet.meta").fetchall())
        return {"documents": int(meta.get("documents") or 0),
                "generation": meta.get("generation"), "last_update": meta.get("updated")}

    def close(self) -> None:
        self._pool.close()
        self.clear_caches()
        self._facet_tables.clear()
        self._postings.clear()


def _cancelled(err: BaseException) -> bool:
    """Whether PostgreSQL rolled the statement's transaction back for a conflict (SQLSTATE
    class 40: a replica cancelling a snapshot that conflicts with the recovery it replays,
    a serialization failure, a deadlock), the connection kept: a new snapshot may do it."""
    return isinstance(err, psycopg.Error) and (err.sqlstate or "").startswith("40")


def _begun(conn: Any) -> tuple[str | None, Any]:
    """Begin a view's read-only snapshot, give its statements the time left before the
    search's deadline (past it PostgreSQL cancels the statement: SearchTimeoutError,
    search/postgres/connection.py) and read its state: one round trip (no parameters, so
    one simple query may hold the three statements)."""
    cur = conn.execute("; ".join([*_begin_statements(), _STATE.strip()]))
    while cur.nextset():
        pass
    return cur.fetchone()


def _begin_statements() -> list[str]:
    """BEGIN a view's read-only snapshot, and give its statements the time left before the
    search's deadline."""
    statements = [_BEGIN]
    left = remaining()
    if left is not None:
        check()
        statements.append(f"SET LOCAL statement_timeout = {max(1, round(left * 1000))}")
    return statements


def open_postgres(url: str | None) -> PostgresBackend:
    """Open the index in the database at `url` (IndexNotFoundError saying what to do)."""
    url = check_url(url)
    with connect(url) as conn, database_errors(url):
        trgm = _check_readable(conn, url)
    with database_errors(url):
        return PostgresBackend(url, trgm)
