"""The PostgreSQL backend behind the site, the API and furet-search; its errors.

(The search behaviour itself, hostile queries included, is tests/test_search.py, run on both
backends.)
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from search import ConfigurationError, IndexNotFoundError, open_backend, open_index, search
from search.cli import main as search_main
from search.request import SearchRequest
from web import create_app


@pytest.fixture(scope="module")
def backend(pg_samples):
    opened = open_backend(backend="postgresql", database_url=pg_samples)
    yield opened
    opened.close()


@pytest.fixture
def pg_client(pg_samples, tmp_path):
    app = create_app({"TESTING": True, "BACKEND": "postgresql", "DATABASE_URL": pg_samples,
                      "QUERY_LOG": str(tmp_path / "querylog.sqlite"), "RATELIMIT": ""})
    return app.test_client()


def test_the_api_and_pages_over_postgresql(pg_client):
    found = pg_client.get("/api/v1/search?q=haifa").get_json()
    assert found["total"] == 2 and found["total_is_exact"] is True
    assert any("<mark>Haïfa</mark>" in h["snippet_html"] for h in found["hits"])
    health = pg_client.get("/api/v1/health").get_json()
    assert health["status"] == "ok" and health["documents"] == 42
    assert health["generation"].endswith(".0") and health["last_update"]
    assert pg_client.get("/api/v1/suggest?q=haï").get_json()[1][0] == "haïfa"
    article_id = found["hits"][0]["id"]
    article = pg_client.get(f"/api/v1/articles/{article_id}").get_json()
    assert article["id"] == article_id and article["body"]
    related = pg_client.get(f"/api/v1/articles/{article_id}/related").get_json()
    assert related["hits"] and article_id not in [h["id"] for h in related["hits"]]
    assert pg_client.get("/api/v1/articles/nope").status_code == 404
    page = pg_client.get("/recherche?q=haifa")
    assert page.status_code == 200 and "<mark>Haïfa</mark>" in page.get_data(as_text=True)
    etag = page.headers["ETag"]
    assert pg_client.get("/recherche?q=haifa", headers={"If-None-Match": etag}
                         ).status_code == 304


@pytest.mark.parametrize("url, says", [
    ("", "no database given"),
    ("postgresql://furet@127.0.0.1:1/nothing", "cannot reach PostgreSQL at postgresql://127.0.0.1:1/nothing"),
    ("not a url", "is not a PostgreSQL address"),
])
def test_an_unusable_database_is_a_503_saying_what_to_do(url, says, tmp_path, caplog):
    app = create_app({"TESTING": True, "BACKEND": "postgresql", "DATABASE_URL": url,
                      "QUERY_LOG": "", "RATELIMIT": ""})
    client = app.test_client()
    response = client.get("/api/v1/search?q=haifa")
    assert response.status_code == 503
    error = response.get_json()["error"]
    # What to do is for the log; clients are told neither hosts nor settings.
    assert error["code"] == "index_unavailable" and says not in error["message"]
    assert "127.0.0.1" not in error["message"] and says in caplog.text
    page = client.get("/recherche?q=haifa")
    assert page.status_code == 503 and "Recherche indisponible" in page.get_data(as_text=True)


def test_an_empty_or_uninitialised_database_says_what_to_run(pg_cluster, pg_url):
    bare = pg_cluster.create_database("furet_bare")
    with pytest.raises(IndexNotFoundError, match="holds no Furet index yet; create it with: "
                       "furet-index init --backend postgresql"):
        open_backend(backend="postgresql", database_url=bare)
    with pytest.raises(IndexNotFoundError, match="holds no articles yet; build the index with"):
        open_backend(backend="postgresql", database_url=pg_url)
    with pytest.raises(ConfigurationError, match="unknown backend 'solr'"):
        open_backend(backend="solr")


def test_furet_search_over_postgresql(runner, pg_samples):
    args = ["--backend", "postgresql", "--database-url", pg_samples]
    result = runner.invoke(search_main, ["haifa", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 résultats pour « haifa »")
    data = json.loads(runner.invoke(search_main, ["hiafa", "--json", *args]).stdout)
    assert data["suggestion"] == "haïfa" and data["corrected"] is True
    missing = runner.invoke(search_main, ["haifa", "--backend", "postgresql",
                                          "--database-url", "postgresql://x@127.0.0.1:1/x"])
    assert missing.exit_code == 1 and "cannot reach PostgreSQL" in missing.stderr


def test_same_matches_as_whoosh(backend, samples_index):
    whoosh = open_index(samples_index)
    for query in ("haïfa", "gaza", "prix du gaz", "états-unis", '"ville portuaire de haïfa"',
                  "attaq*", "titre:gaza", "auteur:moreau", "rubrique:culture", "gaza OR noël",
                  "climat -bakou", "", "depuis:2024 climat"):
        mine = search(backend, query, per_page=100, correct_spelling=False)
        theirs = search(whoosh, query, per_page=100, correct_spelling=False)
        assert {h.id for h in mine.hits} == {h.id for h in theirs.hits}, query
        assert mine.facets == theirs.facets, query


def test_stats_and_generation(backend):
    stats = backend.stats()
    assert stats["documents"] == 42 and stats["generation"] == backend.generation


# An exclusion that excludes nothing: the query is matched with the GIN indexes, not ranked
# from the postings alone (plain words only).
NOTHING_EXCLUDED = " -ornithorynque"


@pytest.mark.parametrize("query", ["haïfa port attaque", "climat accord", "prix gaz"])
def test_ranking_only_the_full_tier_gives_the_same_pages(pg_samples, query, monkeypatch):
    """When articles with every word fill the page, only they are ranked: same hits."""
    query += NOTHING_EXCLUDED
    from search.postgres.backend import PostgresView

    def pages(backend):
        return [[(h.id, h.score) for h in search(backend, query, page=n, per_page=2).hits]
                for n in (1, 2, 3)]

    filled = []  # whether the articles with every word filled each page
    tier_fills = PostgresView._tier_fills
    monkeypatch.setattr(PostgresView, "_tier_fills",
                        lambda *args: filled.append(tier_fills(*args)) or filled[-1])
    fast = open_backend(backend="postgresql", database_url=pg_samples)
    shortcut = pages(fast)
    fast.close()
    assert True in filled  # else both runs rank every match: nothing is compared
    monkeypatch.setattr(PostgresView, "_tier_fills", lambda *args: False)
    full = open_backend(backend="postgresql", database_url=pg_samples)
    assert pages(full) == shortcut
    full.close()
    assert any(shortcut)


@pytest.mark.parametrize("query", ["haïfa port attaque", "climat accord", "prix gaz", "gaza",
                                   "les attaques", "etats-unis gaz", "hausse prix"])
@pytest.mark.parametrize("options", [{}, {"filters": {"section": ("International",)}},
                                     {"recency_half_life": 30.0}])
def test_plain_words_ranked_from_postings_alone_give_the_same_pages(backend, query, options):
    """A query of plain words is ranked, counted and faceted from the postings alone; with
    an exclusion it goes the general way: the same pages, scores and facets."""
    from search.postgres.backend import PostgresView

    def pages(text):
        found = [search(backend, text, page=n, per_page=3, facets=n == 1, **options)
                 for n in (1, 2, 3)]
        return ([[(h.id, h.score) for h in r.hits] for r in found], found[0].total,
                found[0].facets)

    compiled = []
    ways = ("_page", "_ranked", "_counted")  # whichever makes the page
    real = {way: getattr(PostgresView, way) for way in ways}

    def spy(way):
        return lambda self, c, *args: compiled.append(c.postings) or real[way](self, c, *args)

    try:
        for way in ways:
            setattr(PostgresView, way, spy(way))
        alone = pages(query)
        general = pages(query + NOTHING_EXCLUDED)
    finally:
        for way in ways:
            setattr(PostgresView, way, real[way])
    assert alone == general
    assert alone[1] > 0 or "filters" in options
    if "-" not in query and alone[1]:
        assert compiled[0] is not None and compiled[-1] is None  # both ways were taken


def test_planner_settings_come_before_the_urls_own_options():
    from search.postgres.backend import PLANNER_OPTIONS, session_options

    assert session_options("postgresql://furet@db/furet") == PLANNER_OPTIONS
    mine = session_options("postgresql://furet@db/furet?options=-c%20random_page_cost%3D4")
    assert mine == f"{PLANNER_OPTIONS} -c random_page_cost=4"  # the last one wins


def test_reading_sessions_use_the_planner_settings(backend):
    with backend.view() as view:
        conn = view.conn
        assert conn.execute("SHOW random_page_cost").fetchone()[0] == "1.1"
        assert conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("SHOW transaction_isolation").fetchone()[0] == "repeatable read"


def test_facets_keep_the_most_frequent_values_ties_by_name_as_whoosh(runner, pg_url,
                                                                      tmp_path):
    """Sections are counted by their key and named afterwards: the FACET_LIMIT most frequent,
    ties at the limit in the order of their names, the same as the Whoosh store's."""
    from search.facets import FACET_LIMIT
    from tests.stores import PostgresStore, WhooshStore

    folder = tmp_path / "articles"
    folder.mkdir()
    sections = [f"Rubrique {n:02d}" for n in range(FACET_LIMIT + 6)]
    counts = {s: 3 if n < 4 else 1 for n, s in enumerate(reversed(sections))}
    lines = [json.dumps({"id": f"m-{s}-{k}", "title": f"La marée {k}", "body": "Marée haute.",
                         "section": s, "authors": [f"Auteur {k}"]})
             for s, count in counts.items() for k in range(count)]
    lines.append(json.dumps({"id": "m-none", "title": "Marée", "body": "Sans rubrique."}))
    (folder / "marees.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    facets = []
    for store in (WhooshStore(tmp_path / "index"), PostgresStore(pg_url)):
        assert store.run(runner, "build", str(folder)).exit_code == 0
        with store.opened() as backend:
            facets.append(backend.search("marée").facets)
    assert facets[0] == facets[1]
    shown = [f.value for f in facets[1]["section"]]
    assert len(shown) == FACET_LIMIT and shown[:4] == sorted(sections[-4:])
    assert shown[4:] == sorted(sections[:-4])[:FACET_LIMIT - 4]


def test_a_missing_extension_says_what_to_install():
    from psycopg import errors

    from search.postgres.connection import translate

    error = translate(errors.UndefinedFile(
        'could not open extension control file "/usr/share/postgresql/15/extension/'
        'pg_trgm.control": No such file or directory'), "postgresql://furet@db/furet")
    assert isinstance(error, ConfigurationError)
    assert "pg_trgm extension is not installed" in str(error)
    assert "postgresql-contrib" in str(error) and "furet-index init" in str(error)


@pytest.mark.parametrize("query", ["gaza", "prix gaz", "climat accord", "les attaques",
                                   "etats-unis gaz", "hausse prix", "ornithorynque"])
def test_facets_counted_in_the_process_are_the_sql_ones(pg_samples, query, monkeypatch):
    """A plain-words search without filters counts its facets from the generation's facet
    table (numpy over its matches' doc numbers): the same total, facets, timeline and page
    as when the database counts them."""
    from search.postgres.backend import PostgresView

    counted = []
    real = PostgresView._counted
    monkeypatch.setattr(PostgresView, "_counted",
                        lambda self, *args: counted.append(1) or real(self, *args))
    found = []
    for tables in (True, False):
        opened = open_backend(backend="postgresql", database_url=pg_samples)
        kept = opened._facet_tables
        if not tables:  # the database counts them
            opened._facet_tables = None
        found.append([search(opened, query, page=n, per_page=3) for n in (1, 2)])
        opened._facet_tables = kept
        opened.close()
    # (a hyphenated word is ranked with its phrase: not from the postings alone)
    assert len(counted) == 2 or found[0][0].total == 0 or "-" in query
    assert [[(r.total, r.facets, r.timeline, [(h.id, h.score) for h in r.hits]) for r in f]
            for f in found][0] == \
        [[(r.total, r.facets, r.timeline, [(h.id, h.score) for h in r.hits]) for r in f]
         for f in found][1]


def test_the_facet_table_and_words_follow_the_generation(runner, pg_url, tmp_path):
    """After an update (a new generation), facets counted in the process count the new
    articles (the table is read again), and words are weighed with their new document
    frequencies: the same results as a process opened after the update."""
    from tests.stores import PostgresStore

    folder = tmp_path / "articles"
    folder.mkdir()

    def write(count: int, first: str = "Côtes") -> None:
        lines = [json.dumps({"id": f"h-{k}", "title": f"La houle {k}", "body": "Houle forte.",
                             "section": "Mer" if k % 2 else first if not k else "Côtes",
                             "authors": ["Anne"] if k else ["Anne", "Bo"],
                             "published": f"{2020 + k % 3}-05-01"}) for k in range(count)]
        (folder / "houle.jsonl").write_text("\n".join(lines) + "\n", "utf-8")

    store = PostgresStore(pg_url)
    write(4)
    assert store.run(runner, "build", str(folder)).exit_code == 0
    backend = open_backend(backend="postgresql", database_url=pg_url)
    try:
        before = backend.search("houle")
        write(7)
        assert store.run(runner, "update", str(folder)).exit_code == 0
        after = backend.search("houle")
        write(7, first="Large")  # an article changes section: the table adds its new doc
        assert store.run(runner, "update", str(folder)).exit_code == 0
        moved = backend.search("houle")
    finally:
        backend.close()
    fresh = open_backend(backend="postgresql", database_url=pg_url)
    try:
        again = fresh.search("houle")
        assert again == replace(moved, took_ms=again.took_ms)
    finally:
        fresh.close()
    assert {f.value: f.count for f in moved.facets["section"]} == {"Mer": 3, "Côtes": 3,
                                                                   "Large": 1}
    assert before.total == 4 and after.total == 7
    assert {f.value: f.count for f in after.facets["section"]} == {"Mer": 3, "Côtes": 4}
    assert after.facets["author"][0].count == 7
    assert {f.value: f.count for f in after.facets["year"]} == {"2020": 3, "2021": 2,
                                                                "2022": 2}


def test_updates_keep_the_postings_terms_as_a_build_makes_them(runner, pg_url, tmp_path):
    """An update takes the old versions' terms out of the postings and their document
    frequencies (read from the stored text) and puts the new ones in: the same terms and
    frequencies as a build of the same articles."""
    import psycopg

    from tests.stores import PostgresStore

    folder = tmp_path / "articles"
    folder.mkdir()

    def write(bodies: dict[str, str]) -> None:
        lines = [json.dumps({"id": key, "title": f"Marée {key}", "body": body})
                 for key, body in bodies.items()]
        (folder / "mer.jsonl").write_text("\n".join(lines) + "\n", "utf-8")

    def terms() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        with psycopg.connect(pg_url) as conn:
            return (conn.execute("SELECT term, ndoc FROM furet.terms ORDER BY 1").fetchall(),
                    conn.execute("SELECT p.term, count(*) FROM furet.postings p "
                                 "GROUP BY 1 ORDER BY 1").fetchall())

    store = PostgresStore(pg_url)
    write({"m-1": "Les vagues déferlaient.", "m-2": "Une houle lente.", "m-3": "Écume."})
    assert store.run(runner, "build", str(folder)).exit_code == 0
    write({"m-1": "Les vagues déferlaient.", "m-2": "Les goélands criaient."})
    assert store.run(runner, "update", str(folder)).exit_code == 0
    updated = terms()
    assert store.run(runner, "build", str(folder)).exit_code == 0
    assert updated == terms() and updated[0] == updated[1]
    assert ("goeland", 1) in updated[0] and "houl" not in dict(updated[0])
    assert ("=marees", 0) not in updated[0] and ("=maree", 2) in updated[0]
    backend = open_backend(backend="postgresql", database_url=pg_url)
    try:
        assert [h.id for h in backend.search("goélands").hits] == ["m-2"]
        assert backend.search("houle").total == 0
    finally:
        backend.close()


@pytest.mark.parametrize("question", ["quel prix pour le gaz ?",
                                      "pourquoi le port de haïfa est attaqué ?",
                                      "quand la hausse des prix a commencé ?"])
def test_questions_ranked_from_postings_have_no_tier_either(backend, question):
    """Questions put no articles first for holding every word, whichever way they are
    ranked: from the postings alone, or (with an exclusion) the general way (feedback and
    variants off: the general way has neither)."""
    from search.ranking import Ranking

    off = Ranking(feedback_weight=0, variant_weight=0)
    alone = search(backend, question, per_page=10, ranking=off)
    general = search(backend, question.replace(" ?", NOTHING_EXCLUDED + " ?"), per_page=10,
                     ranking=off)
    assert alone.total and [(h.id, h.score) for h in alone.hits] == \
        [(h.id, h.score) for h in general.hits]


def test_questions_get_feedback_from_their_best_articles(backend, monkeypatch):
    """As in the Whoosh store: the question's own words are left out of the expansion, the
    first page is the question's own ranking, and the expansion adds articles after it;
    feedback_weight 0 turns it off."""
    import search.postgres.feedback as pg_feedback
    from search.feedback import expansion
    from search.ranking import Ranking

    seen = []

    def spy(best, **kwargs):
        seen.append(sorted(kwargs["exclude"]))
        return expansion(best, **kwargs)

    monkeypatch.setattr(pg_feedback, "expansion", spy)
    question = "Quand les convois humanitaires arrivent-ils à Rafah ?"
    found = search(backend, question, per_page=50)
    plain = search(backend, question, per_page=50, ranking=Ranking(feedback_weight=0))
    assert len(seen) == 1 and "rafah" in seen[0]
    assert found.total > plain.total
    first = min(Ranking().feedback_after, plain.total)
    assert [(h.id, h.score) for h in found.hits[:first]] == \
        [(h.id, h.score) for h in plain.hits[:first]]
    assert {h.id for h in plain.hits} < {h.id for h in found.hits}


def test_a_question_with_feedback_leaves_hidden_articles_out(backend):
    """Feedback reads only articles the reader may see, and the question's own first
    results are made of them: a hidden article is in no page and no total."""
    question = "Quand les convois humanitaires arrivent-ils à Rafah ?"
    shown = search(backend, question, per_page=50)
    hidden = shown.hits[0].id
    found = search(backend, question, per_page=50, hidden=frozenset({hidden}))
    assert hidden not in {h.id for h in found.hits} and found.total < shown.total
    assert found.hits[0].id == shown.hits[1].id  # the question's own second best


@pytest.mark.parametrize("query", ["Où les drones ont-ils attaqué ?",
                                   "Quand les convois humanitaires arrivent-ils à Rafah ?",
                                   "Qu'a promis le gouvernement aux agriculteurs ?",
                                   "Et les judokas ?", "prix du gaz", "attaques"])
def test_plain_words_are_ranked_as_whoosh_ranks_them(backend, samples_index, query):
    """The postings hold the Whoosh store's terms and weights (Furet's analysis, Whoosh's
    idf and lengths): a query of plain words, a question's variants and feedback included,
    gives the same articles in the same order with the same scores as the Whoosh store.
    (« judokas » matches one article, by a variant: feedback then fills Whoosh's first
    places with articles scored 0 in no set order, so it is compared without.)"""
    from search.ranking import Ranking

    ranking = Ranking(feedback_weight=0) if "judokas" in query else Ranking()
    whoosh = open_index(samples_index)
    mine = search(backend, query, per_page=20, correct_spelling=False, ranking=ranking)
    theirs = search(whoosh, query, per_page=20, correct_spelling=False, ranking=ranking)
    assert mine.total == theirs.total and mine.total
    assert [(h.id, round(h.score, 2)) for h in mine.hits] == \
        [(h.id, round(h.score, 2)) for h in theirs.hits]


def test_article_lengths_are_kept_as_a_whoosh_index_keeps_them():
    """BM25 weighs an article by its length as Whoosh stores it (one byte): the same
    lengths, so the same scores."""
    from whoosh.util.numeric import byte_to_length, length_to_byte

    from search.postgres.postings import stored_length

    for n in [*range(0, 3000), *range(3000, 200_000, 97)]:
        assert stored_length(n) == byte_to_length(length_to_byte(n)), n


def test_connections_lost_while_pooled_are_replaced_before_a_search_fails(pg_samples):
    """The pool does not ping a connection it hands out (a round trip per request): one
    found broken by its first statement is dropped and the next tried, so every pooled
    connection dying between requests (a server restart, a stopped replica) fails none."""
    import psycopg

    opened = open_backend(backend="postgresql", database_url=pg_samples)
    try:
        with opened.view() as first, opened.view() as second:  # two pooled connections
            pids = [v.conn.info.backend_pid for v in (first, second)]
        with psycopg.connect(pg_samples, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid",
                          (pids,))
        assert opened.search("haïfa").total > 0
        assert opened.generation
    finally:
        opened.close()


@pytest.mark.parametrize("query", ["Où les drones ont-ils attaqué ?",
                                   "Quand les convois humanitaires arrivent-ils à Rafah ?",
                                   "Qu'a promis le gouvernement aux agriculteurs ?",
                                   "prix du gaz", "gaza gaza attaques"])
@pytest.mark.parametrize("hide", [False, True])
def test_plain_words_ranked_in_the_process_are_ranked_as_the_database_ranks_them(
        pg_samples, query, hide, monkeypatch):
    """Plain words without filters are summed, ranked and counted in the web process from
    their packed posting lists (search/postgres/scoring.py), a question's variants and
    feedback included: the same pages, scores, totals and facets as the SQL aggregate."""
    from search.postgres.backend import PostgresView

    counted = []
    real = PostgresView._counted
    monkeypatch.setattr(PostgresView, "_counted",
                        lambda self, *args: counted.append(1) or real(self, *args))
    found = []
    hidden: frozenset[str] = frozenset()
    for here in (True, False):
        opened = open_backend(backend="postgresql", database_url=pg_samples)
        if hide and not hidden:  # the best article hidden: left out of every sum
            hidden = frozenset({search(opened, query).hits[0].id})
            counted.clear()
        kept = opened._facet_tables
        if not here:  # without a facet table, the database ranks and counts
            opened._facet_tables = None
        found.append([(r.total, r.facets, r.timeline, [(h.id, h.score) for h in r.hits])
                      for r in (search(opened, query, page=n, per_page=3, hidden=hidden,
                                       correct_spelling=False) for n in (1, 2, 4))])
        found.append([(r.total, [(h.id, h.score) for h in r.hits]) for r in (
            search(opened, query, per_page=20, facets=False, hidden=hidden,
                   correct_spelling=False),)])
        opened._facet_tables = kept
        opened.close()
    assert len(counted) == 4 and found[0][0][0] > 0
    assert found[:2] == found[2:]


def test_posting_lists_are_kept_per_generation_within_their_memory_bound():
    import numpy as np

    from search.postgres.scoring import PostingCache

    cache = PostingCache(limit=100 * 16)
    lists = (np.arange(60, dtype=np.int64), np.ones(60))
    assert cache.get("g1", ["droit"]) == {}  # a search asks first, then puts what it read
    cache.put("g1", "droit", lists)
    cache.put("g1", "loi", (np.arange(30, dtype=np.int64), np.ones(30)))
    assert set(cache.get("g1", ["droit", "loi", "code"])) == {"droit", "loi"}
    cache.put("g1", "code", (np.arange(30, dtype=np.int64), np.ones(30)))  # over: droit goes
    assert set(cache.get("g1", ["droit", "loi", "code"])) == {"loi", "code"}
    cache.put("g1", "énorme", (np.arange(200, dtype=np.int64), np.ones(200)))  # never kept
    assert set(cache.get("g1", ["énorme"])) == set()
    assert cache.get("g2", ["loi", "code"]) == {}  # a new generation forgets the old lists
    cache.put("g1", "loi", lists)  # a late reader of the old generation keeps nothing
    assert cache.get("g2", ["loi"]) == {}


def test_a_search_after_the_etags_read_begins_its_snapshot_with_its_first_statement(
        pg_samples):
    """The API reads the generation (its ETag), then searches: the search expects that
    state and sends it in one pipeline with its snapshot's BEGIN; when an update committed
    in between (here: a state the database no longer has), it is redone in a snapshot of
    the new state, with the same results as a search without expectations."""
    import time

    opened = open_backend(backend="postgresql", database_url=pg_samples)
    try:
        plain = [(r.total, [(h.id, h.score) for h in r.hits], r.facets) for r in
                 (search(opened, q, correct_spelling=False) for q in ("gaza", "prix gaz"))]
        real = opened.generation
        documents = opened._expected.state[0][1]
        for n, query in enumerate(("gaza", "prix gaz")):
            opened.clear_caches()
            if n:  # an older generation, and more articles then: idf and doc numbers differ
                opened._expected.state = (("older", documents + 50), time.monotonic())
            else:
                assert opened.generation == real
            with opened.view() as view:
                assert view.generation == (real if not n else "older")
                found, _ = view.search(SearchRequest(query, correct_spelling=False))
                assert view.generation == real and not view.conn.stale
            assert (found.total, [(h.id, h.score) for h in found.hits], found.facets) \
                == plain[n]
    finally:
        opened.close()


def test_connections_lost_after_the_etags_read_are_replaced_before_a_search_fails(
        pg_samples):
    import psycopg

    opened = open_backend(backend="postgresql", database_url=pg_samples)
    try:
        with opened.view() as first, opened.view() as second:  # two pooled connections
            pids = [v.conn.info.backend_pid for v in (first, second)]
        assert opened.generation  # the next view expects its state
        with psycopg.connect(pg_samples, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid",
                          (pids,))
        assert opened._expected.state is not None
        assert opened.search("haïfa").total > 0
    finally:
        opened.close()
