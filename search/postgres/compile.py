"""A parsed query (search.query) as SQL over `furet.articles a`: conditions, ranks, highlights.

The SQL text is made only of the fragments written here; everything a reader typed
travels as a bound parameter (`Params`), turned into a tsquery by PostgreSQL's own
`plainto_tsquery`, `phraseto_tsquery` or `to_tsquery` on terms search/query.py already
reduced to folded letters and digits. What each clause becomes:

    word            its stem in the postings (Furet's analysis, as the Whoosh store's),
                    bonus for its exact form; a hyphenated word: its parts in `fts`
    "a phrase"      the words side by side in `exact` (stop words count)
    prefix*         a prefix of a word of `exact`
    titre:...       the same, restricted to the title's weight (A)
    auteur:, rubrique:   words or phrases of `author_words`, `section_words`

A plain word is matched and ranked from the postings side table
(search/postgres/postings.py): the article's BM25F weight of the word's stem times its idf
(Whoosh's: `idf`), plus `exact_boost` times the weight of its exact form times that form's
idf, as the Whoosh store scores it. A query made
only of plain words (the common case) is then ranked, counted and faceted from the
postings and the covering (doc) index alone (`Compiled.postings`), reading no article's
row; any other query matches with the GIN indexes and ranks each candidate's postings by
key. Phrases, prefixes, titles, keyword fields and words the postings do not hold are
ranked `idf × r / (r + pg_k)`, r being `ts_rank_cd` without normalisation (the weighted
count of occurrences: title 1, lead 1.5 × `pg_body`, body `pg_body`). Articles with every
word come first (the tier), unless the query is a question.

In a question (search/questions.py) each word's idf is multiplied by its weight in the
query's shape (interrogatives 0, the word asked about `answer_weight`, names
`name_weight`), and a word also matches the index's stems that are variants of its own
(`Lexemes.variants`), worth `variant_weight`: an article counts the best of them
(`Compiled.rows`), as Whoosh's DisjunctionMax does, when the question is ranked from the
postings alone (plain words; a hyphenated word, a phrase or a field makes it go the
general way, where a word matches its own stem only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from search.analysis import stem
from search.compiling import KEYWORD_FIELDS, ClauseCompiler, plan
from search.postgres.postings import EXACT, K1
from search.query import ParsedQuery
from search.questions import query_shape
from search.ranking import DEFAULT_RANKING, Ranking
from search.request import Filters

__all__ = ["Compiled", "Lexemes", "Params", "compile_query", "idf", "lookup_texts"]

F = "'furet.french'::regconfig"
X = "'furet.exact'::regconfig"
SCALE = 10.0  # scores of the order of Whoosh's BM25 ones
_KEYWORD_COLUMNS = {"author": "a.author_words", "section": "a.section_words"}


class Params:
    """Bound parameters: each value gets a name, the SQL gets its placeholder."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"


@dataclass(frozen=True)
class Lexemes:
    """What PostgreSQL makes of one typed word: its stems, its exact forms, the number
    of articles holding its exact form, and the index's stems that are variants of its
    stem (search/questions.py `is_variant`) with their document frequencies."""

    stems: tuple[str, ...]
    exact: tuple[str, ...]
    exact_df: int
    variants: tuple[tuple[str, int], ...] = ()


# One posting list a query reads: (term, idf weight, index of its word; -1: an exact form).
Posting = tuple[str, float, int]


@dataclass
class _Part:
    cond: str
    rank: str
    column: str | None = None  # cond is `column @@ query`: parts on one column combine
    query: str | None = None
    postings: list[Posting] | None = None  # a plain word ranked from postings alone


def _on(column: str, query: str, rank: str) -> _Part:
    """A part matching `column @@ query`."""
    return _Part(f"{column} @@ {query}", rank, column, query)


def _combine(parts: list[_Part], sql_op: str, ts_op: str) -> str:
    """The parts' conditions joined by `sql_op`; those on one column as one tsquery joined
    by `ts_op`, so the GIN index answers them in one scan and each row's tsvector is read
    once."""
    by_column: dict[str, list[str]] = {}
    conds: list[str] = []
    for part in parts:
        if part.column is None or part.query is None:
            conds.append(part.cond)
        else:
            by_column.setdefault(part.column, []).append(part.query)
    conds[:0] = [f"{column} @@ {queries[0]}" if len(queries) == 1
                 else f"{column} @@ ({f' {ts_op} '.join(queries)})"
                 for column, queries in by_column.items()]
    return conds[0] if len(conds) == 1 else "(" + f" {sql_op} ".join(conds) + ")"


@dataclass
class Compiled:
    """A query as SQL: `match` is None when nothing can match."""

    match: str | None
    tier: str | None  # every plain word present: ranked first
    score: str
    positive: bool  # words, phrases or prefixes to rank by
    params: Params = field(default_factory=Params)
    # Only plain words: their posting lists (words numbered), how many words have a stem,
    # and the filters' condition; None: match with `match`.
    postings: list[Posting] | None = None
    words: int = 0
    filters: str = "true"
    question: bool = False
    # Feedback for a question (search/postgres/feedback.py): its postings hold the
    # expansion's terms (word FEEDBACK), which rank the results after the first
    # `feedback_after`.
    feedback: bool = False
    feedback_after: int = 0
    # Hidden articles' ids, left out of the posting lists' sums (`kept`) rather than by
    # the filters, so that a plain-words search keeps its fast paths.
    hidden: str = ""
    # A question's words match their stems' variants too: each article counts the best
    # of a word's stem and variants (Whoosh's DisjunctionMax), not their sum.
    variants: bool = False
    stems: tuple[str, ...] = ()  # the words' own stems (not their variants)

    def lists(self) -> str:
        """The CTE `q(term, w, word)`: the query's posting lists, their weights and words."""
        assert self.postings is not None
        terms, weights, words = zip(*self.postings, strict=True)
        p = self.params
        return (f"q(term, w, word) AS (SELECT * FROM unnest({p(list(terms))}::text[], "
                f"{p(list(weights))}::float8[], {p(list(words))}::int[]))")

    def rows(self) -> str:
        """The query's posting rows `r(doc, word, s)` (s: weight times idf weight), the
        hidden articles left out; with variants, one row per article and word's stems (the
        best of them) and per other term."""
        if not self.variants:
            return ("(SELECT p.doc, q.word, p.weight * q.w AS s FROM q JOIN furet.postings p "
                    f"ON p.term = q.term WHERE {self.kept()}) r")
        return ("(SELECT p.doc, q.word, max(p.weight * q.w) AS s FROM q JOIN furet.postings p "
                f"ON p.term = q.term WHERE {self.kept()} GROUP BY p.doc, q.word, "
                "CASE WHEN q.word >= 0 THEN '' ELSE q.term END) r")

    def kept(self) -> str:
        """The condition on posting rows `p` that leaves the hidden articles out."""
        if not self.hidden:
            return "true"
        return f"p.doc <> ALL (ARRAY(SELECT doc FROM furet.articles WHERE id = ANY({self.hidden})))"


def clean(text: str) -> str:
    """Text PostgreSQL accepts: no NUL character, no lone surrogate (they match nothing)."""
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


def idf(df: int, documents: int) -> float:
    """The inverse document frequency the Whoosh store ranks with (Whoosh's own,
    `ln(N / (df + 1)) + 1`): frequent words weigh more against rare ones than with BM25's
    `ln(1 + (N - df + 0.5) / (df + 0.5))`."""
    return math.log(documents / (df + 1)) + 1


def _kept(terms: list[str]) -> list[str]:
    """The folded words that analysis keeps (stop words left out)."""
    return [t for t in terms if stem(t) is not None]


def _tsquery_text(terms: Iterable[str], suffix: str) -> str:
    """Terms (folded letters, digits, inner apostrophes) as tsquery text: 'w':A & ..."""
    return " & ".join("'" + t.replace("'", "''") + "'" + suffix for t in terms)


def lookup_texts(parsed: ParsedQuery) -> list[str]:
    """Texts whose document frequency ranking and did-you-mean need."""
    texts: list[str] = []
    for group in parsed.groups:
        for clause in group:
            if clause.field in KEYWORD_FIELDS or clause.kind == "prefix":
                continue
            if clause.kind == "phrase":
                texts.append(" ".join(clause.terms()))
            else:
                texts.extend(clause.terms())
    return texts


class _Compiler(ClauseCompiler[_Part]):
    """Clauses as SQL parts, their ranks weighted by the document frequencies `dfs`."""

    def __init__(self, dfs: Mapping[str, int], documents: int,
                 lexemes: Mapping[str, Lexemes], ranking: Ranking = DEFAULT_RANKING, *,
                 question: bool = False) -> None:
        self.p = Params()
        self.ranking = ranking
        self.variants = question and ranking.variant_weight > 0
        body = ranking.pg_body
        # ts_rank_cd's weights of D (unused), C (body), B (lead), A (title); at most 1.
        self.weights = self.p([0.1, body, min(1.5 * body, 1.0), 1.0])
        self.k = self.p(ranking.pg_k)
        self.dfs = dfs
        self.documents = max(documents, 1)
        self.lexemes = lexemes
        self.with_variants = False  # a word's variants are among its postings
        self.variant_terms: set[str] = set()
        self.own_stems: set[str] = set()

    def idf(self, df: int) -> float:
        return idf(df, self.documents)

    def scored(self, postings: list[Posting]) -> str:
        """The sum of an article's weights in `postings`, each times its idf weight."""
        return (f"coalesce((SELECT sum(p.weight * q.w) FROM unnest("
                f"{self.p([t for t, _, _ in postings])}::text[], "
                f"{self.p([w for _, w, _ in postings])}::float8[]) q(term, w) "
                "JOIN furet.postings p ON p.term = q.term WHERE p.doc = a.doc), 0)")

    def weight(self, texts: list[str], factor: float = 1.0) -> str:
        """idf of the rarest of `texts` (times `factor`), as a parameter."""
        known = [self.dfs.get(t, 0) for t in texts]
        return self.p(idf(min(known) if known else 0, self.documents) * SCALE * factor)

    def rank(self, weight: str, column: str, query: str) -> str:
        """`weight` times the saturated rank of `query` in `column` (r / (r + k), as
        1 - k / (r + k): r is computed once)."""
        return (f"{weight} * (1 - {self.k} / (ts_rank_cd({self.weights}::float4[], {column}, "
                f"{query}, 0) + {self.k}))")

    def keyword(self, field: str, terms: list[str], *, prefix: bool) -> _Part:
        column = _KEYWORD_COLUMNS[field]
        if prefix:
            query = f"to_tsquery({X}, {self.p(_tsquery_text(terms[:1], ':*'))})"
        else:
            query = f"phraseto_tsquery({X}, {self.p(' '.join(terms))})"
        return _on(column, query, self.rank(self.p(SCALE), column, query))

    def prefix(self, term: str, *, title: bool) -> _Part:
        query = f"to_tsquery({X}, {self.p(_tsquery_text([term], ':*A' if title else ':*'))})"
        return _on("a.exact", query, self.rank(self.p(SCALE), "a.exact", query))

    def phrase(self, terms: list[str], text: str, *, title: bool) -> _Part:
        query = f"phraseto_tsquery({X}, {self.p(clean(text))})"
        rank = self.rank(self.weight([" ".join(terms)]), "a.exact", query)
        if title:
            return _Part(f"(a.exact @@ {query} AND ts_filter(a.exact, '{{a}}') @@ {query})", rank)
        return _on("a.exact", query, rank)

    def words(self, terms: list[str], *, title: bool, weight: float = 1.0) -> _Part | None:
        words = _kept(terms)
        if not words:
            return None
        if title:
            stems = f"to_tsquery({F}, {self.p(_tsquery_text(words, ':A'))})"
            exact = f"to_tsquery({X}, {self.p(_tsquery_text(words, ':A'))})"
        else:
            stems = "(" + " && ".join(f"plainto_tsquery({F}, {self.p(w)})" for w in words) + ")"
            exact = f"phraseto_tsquery({X}, {self.p(' '.join(words))})"
        bonus = self.ranking.exact_boost if len(words) == 1 else self.ranking.phrase_bonus
        lexemes = self.lexemes.get(words[0])
        # Variants (in a question) for a word the postings alone rank: one stem, one
        # exact form; a word no article holds then matches its variants only, as in Whoosh.
        variants = self.variants and len(words) == 1 and not title and lexemes is not None \
            and bool(lexemes.variants) and len(lexemes.stems) == 1 and len(lexemes.exact) <= 1
        if title or any(w not in self.lexemes for w in words):
            idf = self.weight(words, factor=weight)
            return _on("a.fts", stems, f"{self.rank(idf, 'a.fts', stems)} + "
                                       f"{bonus} * {self.rank(idf, 'a.exact', exact)}")
        postings = [(s, self.idf(self.dfs.get(w, 0)) * weight, i)
                    for i, w in enumerate(words) for s in self.lexemes[w].stems]
        self.own_stems.update(s for s, _, _ in postings)
        if len(words) == 1:  # the exact form's own posting list
            found_lexemes = self.lexemes[words[0]]
            postings += [(EXACT + e, bonus * self.idf(found_lexemes.exact_df) * weight, -1)
                         for e in found_lexemes.exact]
            rank = self.scored(postings)
        else:  # the parts side by side (États-Unis): a phrase, from the exact tsvector
            phrase = self.p(self.idf(min(self.dfs.get(w, 0) for w in words)) * (K1 + 1)
                            * weight)
            rank = (f"{self.scored(postings)} + "
                    f"{bonus} * {self.rank(phrase, 'a.exact', exact)}")
        if len(words) == 1:
            # Matched by the postings' stems (Furet's analysis), as the postings-alone path
            # matches: the same articles either way.
            own = self.p(list(self.lexemes[words[0]].stems))
            part = _Part(f"a.doc IN (SELECT p.doc FROM furet.postings p "
                         f"WHERE p.term = ANY({own}::text[]))", rank)
        else:
            part = _on("a.fts", stems, rank)
        pure = len(words) == 1 and all(len(x) <= 1 for x in (self.lexemes[words[0]].stems,
                                                             self.lexemes[words[0]].exact))
        part.postings = postings if pure else None
        if variants and pure:
            # Worth less than the stem, the best of them counts (Compiled.rows); only when
            # the postings alone rank the query (else the word matches its stem only).
            postings += [(v, self.ranking.variant_weight * self.idf(df) * weight, 0)
                         for v, df in self.lexemes[words[0]].variants]
            self.with_variants = True
            self.variant_terms.update(v for v, _ in self.lexemes[words[0]].variants)
        return part

    def as_typed(self, terms: list[str]) -> _Part:
        # Only stop words ("il y a"): the words as typed, side by side (as Whoosh does).
        query = f"phraseto_tsquery({X}, {self.p(' '.join(terms))})"
        return _on("a.exact", query, self.rank(self.p(SCALE), "a.exact", query))

    def any_of(self, queries: list[_Part]) -> _Part:
        return _Part(_combine(queries, "OR", "||"), " + ".join(p.rank for p in queries))


def compile_query(parsed: ParsedQuery, *, typed: bool, filters: Filters,
                  period: tuple[date | None, date | None], dfs: Mapping[str, int],
                  documents: int, lexemes: Mapping[str, Lexemes] | None = None,
                  ranking: Ranking = DEFAULT_RANKING, text: str = "") -> Compiled:
    """The SQL pieces of one search (typed as `text`); see the module docstring."""
    shape = query_shape(parsed, ranking, text)
    c = _Compiler(dfs, documents, lexemes or {}, ranking, question=shape.question)
    found = plan(c, parsed, typed=typed, shape=shape)
    if found.nothing:
        return Compiled(None, None, "0", False, c.p)  # only words that match nothing
    required, soft = found.required, found.soft
    conditions = [p.cond for p in required]
    if soft:
        conditions.append(c.any_of(soft).cond if len(soft) > 1 else soft[0].cond)
    filtering = filter_conditions(filters, period, c.p)
    conditions += filtering
    if found.excluded is not None:
        conditions.append(f"NOT {found.excluded.cond}")
    ranks = [p.rank for p in required + soft]
    postings: list[Posting] | None = None
    words = 0
    if soft and not required and found.excluded is None \
            and all(p.postings is not None for p in soft):
        postings = []
        for n, part in enumerate(soft):  # each soft part is one word: number them
            assert part.postings is not None
            postings += [(t, w, n if i >= 0 else -1) for t, w, i in part.postings]
            words += any(i >= 0 for _, _, i in part.postings)
        if found.question:  # no tier for questions: every match has "every word"
            words = 0
    return Compiled(
        match=" AND ".join(conditions) if conditions else "true",
        tier=_combine(soft, "AND", "&&") if len(soft) > 1 and not found.question else None,
        score=" + ".join(ranks) if ranks else "0",
        positive=found.positive,
        params=c.p,
        postings=postings,
        words=words,
        filters=" AND ".join(filtering) or "true",
        question=found.question,
        variants=c.with_variants and postings is not None,
        stems=tuple(sorted({t for part in soft for t, _, i in part.postings or () if i >= 0}
                           - (c.variant_terms - c.own_stems))),
    )


def filter_conditions(filters: Filters, period: tuple[date | None, date | None],
                      p: Params) -> list[str]:
    """Filters (already checked by search.request) as SQL conditions."""
    out = []
    if filters.sections:
        out.append(f"a.section = ANY({p([clean(v) for v in filters.sections])}::text[])")
    if filters.authors:
        out.append(f"a.author_keys && {p([clean(v) for v in filters.authors])}::text[]")
    if filters.tags:
        out.append(f"a.tag_keys && {p([clean(v) for v in filters.tags])}::text[]")
    if filters.years:
        out.append(f"a.year = ANY({p(list(filters.years))}::int[])")
    if filters.months:
        out.append(f"a.month = ANY({p(list(filters.months))}::int[])")
    since, until = period
    if since:
        out.append(f"a.published_at >= {p(_midnight(since))}")
    if until:
        out.append(f"a.published_at < {p(_midnight(until))}")
    return out


def _midnight(day: date) -> datetime:
    """Midnight UTC of `day`: the Whoosh index compares publication instants in UTC too."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def recency(p: Params, half_life: float, weight: float) -> str:
    """The recency multiplier of search.ranking.recency_factor, in SQL (1 when undated)."""
    return (f"CASE WHEN a.published_at IS NULL THEN 1 ELSE 1 + {p(float(weight))} * "
            f"power(0.5, greatest(extract(epoch FROM now() - a.published_at), 0) / 86400.0 "
            f"/ {p(float(half_life))}) END")
