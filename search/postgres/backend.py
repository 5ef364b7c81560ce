"""The PostgreSQL backend: the Backend contract over a database `furet-index` writes.

One connection pool per process (opened after a fork, like Whoosh searchers). Each call
is a `PostgresView`: one pooled connection in a read-only REPEATABLE READ transaction, so a
count and its page agree even while a build swaps tables. Searching follows the same rules
as the Whoosh store: same tiers, exact totals, facets over every match; caching and
corrections are the shared ones of search/backend.py. The search's deadline becomes the
transaction's statement_timeout (SET LOCAL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from typing import Any

from psycopg import IsolationLevel, conninfo, sql
from psycopg_pool import ConnectionPool

from search.backend import Backend, View
from search.deadline import check, remaining
from search.errors import ArticleNotFoundError, IndexCorruptError, IndexNotFoundError
from search.facets import (
    FACET_LIMIT,
    empty_facets,
    month_values,
    most_frequent,
    timeline_values,
    year_values,
)
from search.postgres.compile import (
    Compiled,
    F,
    Lexemes,
    X,
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
from search.postgres.highlight import (
    SNIPPET_OPTIONS,
    START,
    TITLE_OPTIONS,
    snippet_html,
    title_html,
)
from search.postgres.related import related_rows
from search.postgres.schema import SCHEMA_VERSION, extension_schema
from search.postgres.spelling import PostgresVocabulary
from search.request import SearchRequest
from search.results import Article, FacetValue, Hit, Results
from search.snippets import Terms, highlight_terms, snippet

__all__ = ["PostgresBackend", "PostgresView", "open_postgres"]

POOL_SIZE = 4  # a sync web worker needs one; threads and the CLIs a few
# ts_headline parses all the text it is given (about 0.25 µs a character): it gets the
# first HEADLINE_CHARS; a match further on is found by search/snippets.py's scanner.
HEADLINE_CHARS = 16_000
_TEXT = ("left(CASE WHEN a.lead <> '' AND left(a.body, least(80, length(a.lead))) "
         "<> left(a.lead, 80) THEN a.lead || ' ' || a.body "
         "ELSE coalesce(nullif(a.body, ''), a.lead) END, 300000)")
_STATE = """
SELECT (SELECT value FROM furet.meta WHERE key = 'generation'),
       (SELECT value FROM furet.meta WHERE key = 'documents'),
       ARRAY(SELECT coalesce((SELECT min(coalesce(s.ndoc, 0))
                              FROM unnest(tsvector_to_array(to_tsvector({F}, t.text))) l(stem)
                              LEFT JOIN furet.stems s ON s.stem = l.stem), 0)
             FROM unnest(%s::text[]) WITH ORDINALITY t(text, n) ORDER BY t.n)
""".replace("{F}", F)
_SECTIONS = " WHERE section_key <> hashtextextended('', 0)"  # no section: not a facet value
_AUTHORS = ", unnest(m.author_keys) k WHERE cardinality(m.author_keys) > 0"
_LEXEMES = """
SELECT t.text, tsvector_to_array(to_tsvector({F}, t.text)),
       tsvector_to_array(to_tsvector({X}, t.text)),
       coalesce((SELECT v.ndoc FROM furet.vocabulary v WHERE v.word = t.text), 0)
FROM unnest(%s::text[]) t(text)
""".replace("{F}", F).replace("{X}", X)


# The planner's default random_page_cost (4, for spinning disks) makes it read every row's
# tsvector in a sequential scan for a word found in a tenth of the articles, where the GIN
# index answers without reading one. Options in the URL come after, so they win.
PLANNER_OPTIONS = "-c random_page_cost=1.1"


def session_options(url: str) -> str:
    """libpq `options` for reading sessions: Furet's planner settings, then the URL's."""
    return f"{PLANNER_OPTIONS} {conninfo.conninfo_to_dict(url).get('options') or ''}".strip()


def _configure(conn: Any) -> None:
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True


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



class PostgresView(View):
    """One pooled connection, in one read-only snapshot of the database."""

    def __init__(self, conn: Any, url: str, trgm: str) -> None:
        self.conn = conn
        self.url = url
        self.trgm = trgm
        self._state: tuple[str, int] | None = None
        self._dfs: dict[str, int] = {}
        self._lexemes: dict[str, Lexemes] = {}

    def _read_state(self, texts: list[str]) -> tuple[str, int]:
        """(generation, documents), and the document frequency and lexemes of `texts`."""
        generation, documents, dfs = self.conn.execute(_STATE, (texts,)).fetchone()
        if generation is None:
            raise IndexNotFoundError(f"{describe(self.url)} holds no articles yet; build the "
                                     f"index with: {BUILD_HINT}")
        self._dfs.update(zip(texts, dfs, strict=True))
        words = [t for t in texts if " " not in t]  # phrases are ranked from their tsvectors
        if words:
            self._lexemes.update(
                (text, Lexemes(tuple(stems), tuple(exact), exact_df))
                for text, stems, exact, exact_df in self.conn.execute(_LEXEMES, (words,)))
        self._state = (generation, int(documents or 0))
        return self._state

    @property
    def generation(self) -> str:
        return (self._state or self._read_state([]))[0]

    def dfs(self, request: SearchRequest) -> dict[str, int]:
        """The document frequencies of what `request` ranks by (read once per view)."""
        texts = lookup_texts(request.parsed)
        missing = [t for t in dict.fromkeys(texts) if t not in self._dfs]
        if missing or self._state is None:
            self._read_state(missing)
        return {t: self._dfs[t] for t in texts}

    def vocabulary(self, request: SearchRequest | None = None) -> PostgresVocabulary:
        return PostgresVocabulary(self.conn, self.trgm,
                                  self.dfs(request) if request is not None else {})

    # -- searching

    def search(self, request: SearchRequest) -> tuple[Results, bool]:
        dfs = self.dfs(request)
        assert self._state is not None
        compiled = compile_query(request.parsed, typed=request.typed,
                                 filters=request.parsed_filters, period=request.period,
                                 dfs=dfs, documents=self._state[1], lexemes=self._lexemes,
                                 ranking=request.ranking, text=request.query)
        compiled = without_hidden(compiled, request.hidden)
        months_of = request.parsed_filters.single_year
        facet_counts: dict[str, Any] = empty_facets(months_of) if request.facets else {}
        timeline: list[FacetValue] = []
        hits: list[Hit] = []
        total = 0
        if compiled.match is not None:
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
        p = compiled.params
        months = ""
        if months_of is not None:
            months = (f" UNION ALL (SELECT 'month', month::text, count(*) FROM m WHERE "
                      f"year = {p(months_of)} AND month IS NOT NULL GROUP BY month)")
        # Only what is shown leaves the database (some archives have thousands of sections):
        # the FACET_LIMIT most frequent and those tied with the last, named by their key.
        top = ("(SELECT {0}, count(*) AS n FROM m{1} GROUP BY {0}), "
               "{0}_top AS (SELECT * FROM {0}_counts WHERE n >= coalesce((SELECT n FROM "
               f"{{0}}_counts ORDER BY n DESC OFFSET {FACET_LIMIT - 1} LIMIT 1), 0))")
        rows = self.conn.execute(
            f"WITH m AS MATERIALIZED (SELECT a.section_key, a.author_keys, a.year, a.month "
            f"FROM {_matching(compiled)}), "
            f"section_key_counts AS {top.format('section_key', _SECTIONS)}, "
            f"k_counts AS {top.format('k', _AUTHORS)} "
            "SELECT 'total', NULL::text, count(*) FROM m "
            "UNION ALL (SELECT 'section', s.section, t.n FROM section_key_top t, LATERAL "
            "(SELECT x.section FROM furet.articles x WHERE x.section_key = t.section_key "
            "LIMIT 1) s) "
            "UNION ALL (SELECT 'author', k, n FROM k_top) "
            "UNION ALL (SELECT 'year', year::text, count(*) FROM m WHERE year IS NOT NULL "
            f"GROUP BY year){months}", p.values).fetchall()
        counts: dict[str, dict[Any, int]] = {"section": {}, "author": {}, "year": {},
                                             "month": {}}
        total = 0
        for name, value, count in rows:
            if name == "total":
                total = count
            elif name in ("year", "month"):
                counts[name][int(value)] = count
            else:
                counts[name][value] = count
        facets = {"section": most_frequent(counts["section"]),
                  "author": most_frequent(counts["author"]),
                  "year": year_values(counts["year"])}
        if months_of is not None:
            facets["month"] = month_values(counts["month"])
        return total, facets, timeline_values(counts["year"], counts["month"],
                                              months_of=months_of)

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
            if request.recency_half_life > 0 and request.recency_weight > 0:
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
        marks = request.snippets and compiled.highlight is not None
        columns = "NULL, NULL, '', '', false"
        if marks:
            hq = compiled.highlight
            columns = (f"ts_headline({F}, a.title, {hq}, {p(TITLE_OPTIONS)}), "
                       f"ts_headline({F}, left({_TEXT}, {HEADLINE_CHARS}), {hq}, "
                       f"{p(SNIPPET_OPTIONS)}), left({_TEXT}, 400), right({_TEXT}, 400), "
                       f"length({_TEXT}) > {HEADLINE_CHARS}")
        page = page or (f"page AS (SELECT a.id, {score} AS score, {tier} AS tier "
                        f"FROM furet.articles a WHERE {match} ORDER BY {inner} "
                        f"LIMIT {p(request.per_page)} "
                        f"OFFSET {p((request.page - 1) * request.per_page)})")
        rows = self.conn.execute(
            f"WITH {page} "
            "SELECT a.id, a.url, a.title, a.published, a.section, a.authors, page.score, "
            f"a.lead, left(a.body, 1000), {columns} "
            f"FROM page JOIN furet.articles a ON a.id = page.id ORDER BY {outer}",
            p.values).fetchall()
        phrases = any(c.kind == "phrase" for g in request.parsed.groups for c in g)
        hits = []
        # Matches past the headline's window: the Whoosh engine's chunked scanner finds them.
        longer = {row[0] for row in rows if row[-1] and START not in (row[-4] or "")}
        texts = dict.fromkeys(longer, ("", ""))
        if longer:
            texts.update((id_, (lead, body)) for id_, lead, body in self.conn.execute(
                "SELECT id, lead, body FROM furet.articles WHERE id = ANY(%s)", (list(longer),)))
        terms = highlight_terms(request.parsed) if longer else Terms()
        for (id_, url, title, published, section, authors, score, lead, body, title_hl,
             body_hl, start, end, _) in rows:
            check()
            shown_title = escape(title, quote=False)
            shown = ""
            if request.snippets:
                if marks:
                    shown_title = title_html(title_hl, phrases=phrases)
                    shown = snippet_html(body_hl, start, end, phrases=phrases)
                if not shown and id_ in texts:
                    shown = snippet(*texts[id_], terms)
                shown = shown or snippet(lead, body, Terms())
            hits.append(Hit(id=id_, url=url, title=title, title_html=shown_title,
                            snippet_html=shown, published=published, section=section,
                            authors=list(authors), score=round(float(score), 4)))
        return hits

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


def _matching(compiled: Compiled) -> str:
    """FROM and WHERE of the matching articles `a`: from the postings' keys alone when the
    query is plain words (no article row read), else with the GIN indexes."""
    if compiled.postings is None:
        return f"furet.articles a WHERE {compiled.match}"
    stems = compiled.params([t for t, _, n in compiled.postings if n >= 0])
    return (f"(SELECT DISTINCT p.doc FROM furet.postings p WHERE p.term = ANY({stems}::text[])"
            f") c JOIN furet.articles a ON a.doc = c.doc WHERE {compiled.filters}")


def _postings_page(compiled: Compiled, request: SearchRequest) -> str:
    """The `page` of a plain-words query: its posting lists summed per article (an
    index-only aggregate), articles with every word first."""
    assert compiled.postings is not None
    p = compiled.params
    terms, weights, words = zip(*compiled.postings, strict=True)
    ranked = (
        f"q(term, w, word) AS (SELECT * FROM unnest({p(list(terms))}::text[], "
        f"{p(list(weights))}::float8[], {p(list(words))}::int[])), "
        f"agg AS (SELECT p.doc, (count(*) FILTER (WHERE q.word >= 0) >= {p(compiled.words)})"
        "::int AS tier, sum(p.weight * q.w) AS score FROM q JOIN furet.postings p "
        "ON p.term = q.term GROUP BY p.doc HAVING count(*) FILTER (WHERE q.word >= 0) > 0), ")
    limit = f"LIMIT {p(request.per_page)} OFFSET {p((request.page - 1) * request.per_page)}"
    if compiled.filters == "true" and not (request.recency_half_life > 0
                                           and request.recency_weight > 0):
        # Only the articles up to the page's last (ties included) are joined to their ids.
        needed = p(request.page * request.per_page)
        return (ranked + f"top AS (SELECT tier, score FROM agg ORDER BY tier DESC, score DESC "
                f"LIMIT {needed}), "
                "page AS (SELECT a.id, agg.score, agg.tier FROM agg JOIN furet.articles a "
                "ON a.doc = agg.doc WHERE (agg.tier, agg.score) >= (SELECT tier, score FROM "
                f"top ORDER BY tier, score LIMIT 1) ORDER BY agg.tier DESC, agg.score DESC, "
                f"a.id {limit})")
    score = "agg.score"
    if request.recency_half_life > 0 and request.recency_weight > 0:
        score = f"agg.score * {recency(p, request.recency_half_life, request.recency_weight)}"
    return (ranked + f"page AS (SELECT a.id, {score} AS score, agg.tier FROM agg "
            f"JOIN furet.articles a ON a.doc = agg.doc WHERE {compiled.filters} "
            f"ORDER BY tier DESC, score DESC, a.id {limit})")


class PostgresBackend(Backend):
    """A Furet index in PostgreSQL, opened for searching."""

    def __init__(self, url: str, trgm_schema: str, *, pool_size: int = POOL_SIZE) -> None:
        super().__init__()
        self.url = url
        self._trgm = sql.Identifier(trgm_schema).as_string()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, timeout=CONNECT_TIMEOUT,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "furet",
                    "options": session_options(url)},
            configure=_configure, check=ConnectionPool.check_connection, name="furet")

    @contextmanager
    def view(self) -> Iterator[PostgresView]:
        with database_errors(self.url), self._pool.connection() as conn:
            _limit_statements(conn)
            yield PostgresView(conn, self.url, self._trgm)

    def stats(self) -> dict[str, Any]:
        with self.view() as view:
            meta = dict(view.conn.execute("SELECT key, value FROM furet.meta").fetchall())
        return {"documents": int(meta.get("documents") or 0),
                "generation": meta.get("generation"), "last_update": meta.get("updated")}

    def close(self) -> None:
        self._pool.close()
        self.clear_caches()


def _limit_statements(conn: Any) -> None:
    """Give this transaction's statements the time left before the search's deadline: past
    it PostgreSQL cancels the statement (SearchTimeoutError, search/postgres/connection.py)."""
    left = remaining()
    if left is None:
        return
    check()
    conn.execute("SELECT set_config('statement_timeout', %s, true)",
                 (f"{max(1, round(left * 1000))}ms",))


def open_postgres(url: str | None) -> PostgresBackend:
    """Open the index in the database at `url` (IndexNotFoundError saying what to do)."""
    url = check_url(url)
    with connect(url) as conn, database_errors(url):
        trgm = _check_readable(conn, url)
    with database_errors(url):
        return PostgresBackend(url, trgm)
