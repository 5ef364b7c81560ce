"""Queries built to hold a worker: their causes are fixed, and every search has a deadline.

The attack as reported was `code -"de la de la …"` (985 characters): the phrase counted as
one clause of the 32 allowed, and each of its 300 words read the positions of `de` or `la`
again. Now every word of a phrase counts toward the limit, a phrase reads each distinct
word once, and whatever is left is stopped at the search's deadline (search/deadline.py)
with SearchTimeoutError. The timings are measured by bench/hostile.py, not here.
"""

from __future__ import annotations

import time

import pytest
from whoosh import query as wq
from whoosh.index import open_dir

from search import SearchRequest, SearchTimeoutError, open_backend, open_index
from search.deadline import check, remaining, within
from search.query import MAX_WORDS, parse_query
from search.snippets import Terms, highlight
from search.spelling import complete, correct
from search.whoosh import evaluate
from search.whoosh.evaluate import Evaluator
from search.whoosh.layout import current_build

pytestmark = pytest.mark.reliability


def _fill(unit: str, chars: int) -> str:
    return " ".join([unit] * ((chars + 1) // (len(unit) + 1)))


ATTACKS = {
    "reported": f'code -"{_fill("de la", 982)}"',
    "one stop word": f'code -"{_fill("de", 990)}"',
    "positive": f'"{_fill("de la", 990)}"',
    "other stop words": f'code -"{_fill("et les", 985)}"',
    "in the title": f'code -titre:"{_fill("de la", 975)}"',
    "by an author": f'auteur:"{_fill("de la", 980)}"',
    "nested": f'(code OR loi) -"{_fill("de la", 970)}"',
    "several phrases": " ".join(['code'] + ['-"de la de la"', '"le la les"'] * 20),
    "unbalanced quotes": _fill('"de la', 995),
}


def _words(query: str) -> int:
    parsed = parse_query(query)
    clauses = [c for g in parsed.groups for c in g] + list(parsed.excluded)
    return sum(max(1, len(c.terms())) for c in clauses)


@pytest.mark.parametrize("query", ATTACKS.values(), ids=ATTACKS)
def test_every_word_of_a_phrase_counts_toward_the_limit(query):
    assert len(query) <= 1000
    assert _words(query) <= MAX_WORDS


def test_a_phrase_past_the_limit_is_cut_and_the_rest_ignored():
    parsed = parse_query(ATTACKS["reported"])
    assert [c.text for g in parsed.groups for c in g] == ["code"]
    (phrase,) = parsed.excluded
    assert phrase.kind == "phrase" and len(phrase.terms()) == MAX_WORDS - 1
    words = " ".join(f"mot{n}" for n in range(40))
    parsed = parse_query(f'{words} "un deux"')
    assert len(parsed.groups) == MAX_WORDS and '"un deux"' in parsed.ignored


def test_an_exclusion_given_twice_counts_once():
    parsed = parse_query('code -"de la" -"De  la" -"de la" -gaz -GAZ')
    assert [c.display() for c in parsed.excluded] == ['-"de la"', "-gaz"]


def test_a_phrase_reads_each_distinct_word_once(samples_index, monkeypatch):
    index = open_index(samples_index)
    read: list[str] = []
    original = Evaluator._phrase_keys
    together = Evaluator._read_together

    def counted(self, fieldname, word, candidates, where=None, found=None):
        read.append(word)
        return original(self, fieldname, word, candidates, where, found)

    def counted_together(self, fieldname, words):
        found = together(self, fieldname, words)
        if found is not None:
            read.extend(words)
        return found

    monkeypatch.setattr(Evaluator, "_phrase_keys", counted)
    monkeypatch.setattr(Evaluator, "_read_together", counted_together)
    index.search(SearchRequest(ATTACKS["reported"]))
    assert sorted(read) == ["de", "la"]
    # the words read one by one (as when one of them was read before)
    read.clear()
    index.clear_caches()
    monkeypatch.setattr(evaluate, "TOGETHER_POSTINGS", 0)
    index.search(SearchRequest(ATTACKS["reported"]))
    assert sorted(read) == ["de", "la"]
    index.close()


@pytest.fixture(scope="module")
def plain(samples_index):
    """Whoosh's own searcher on the samples: the reference for phrases."""
    ix = open_dir(str(current_build(samples_index)))
    with ix.searcher() as searcher:
        yield searcher


@pytest.mark.parametrize("words", [
    "de la", "de la de", "la ville de la", "de de", "les les", "à la fin de la",
    "de l'attaque de", "que le gouvernement", "la la la", "et et", "a a a a",
])
def test_phrases_with_repeated_words_match_what_whoosh_matches(samples_index, plain, words):
    terms = parse_query(f'"{words}"').groups[0][0].terms()
    expected = {hit.docnum for hit in plain.search(wq.Phrase("exact", terms), limit=None)}
    index = open_index(samples_index)
    with index.view() as view:
        found = view.evaluator.evaluate(wq.Phrase("exact", terms)).docs.tolist()
    index.close()
    assert set(found) == expected


# -- the deadline


def test_a_search_past_its_deadline_raises_search_timeout(samples_index):
    index = open_index(samples_index)
    index.search_timeout = 1e-9  # over before the first check
    with pytest.raises(SearchTimeoutError, match="took longer than its 1e-09 s budget") as err:
        index.search(SearchRequest("haïfa attaque"))
    assert err.value.code == "search_timeout"
    with pytest.raises(SearchTimeoutError):
        index.suggest("hai")
    index.search_timeout = 0  # no deadline
    assert index.search(SearchRequest("haïfa attaque")).total > 0
    index.close()


def _overdue():
    """A deadline that has already passed."""
    scope = within(1e-6)
    scope.__enter__()
    time.sleep(0.001)
    return scope


def test_snippets_spelling_and_evaluation_check_the_deadline(samples_index):
    index = open_index(samples_index)
    with index.view() as view:
        vocabulary = view.vocabulary()
        long_text = "la ville portuaire de Haïfa " * 2000
        cases = {
            "snippets": lambda: highlight(long_text, Terms(exact=frozenset(["haifa"]))),
            "correction": lambda: correct(vocabulary, parse_query("hiafa atack")),
            "completion": lambda: complete(vocabulary, "po"),
            "evaluation": lambda: view.evaluator.evaluate(wq.Phrase("exact", ["de", "la"])),
        }
        for name, work in cases.items():
            work()  # fine without a deadline
            scope = _overdue()
            try:
                with pytest.raises(SearchTimeoutError):
                    work()
                    pytest.fail(f"{name} did not check the deadline")
            finally:
                scope.__exit__(None, None, None)
    index.close()


def test_deadlines_nest_and_end():
    assert remaining() is None
    check()  # no deadline: never raises
    with within(100):
        outer = remaining()
        with within(1000):
            assert remaining() <= outer  # the sooner one is kept
        with within(0):
            assert remaining() is not None
    assert remaining() is None


def test_postgresql_statements_get_the_time_left(pg_samples):
    index = open_backend(backend="postgresql", database_url=pg_samples)
    with within(5), index.view() as view:
        shown = view.conn.execute("SHOW statement_timeout").fetchone()[0]
        assert shown.endswith("ms") and 0 < int(shown[:-2]) <= 5000, shown
    with within(0.2), pytest.raises(SearchTimeoutError, match="took longer than its 0.2 s"), \
            index.view() as view:
        view.conn.execute("SELECT pg_sleep(5)")
    index.search_timeout = 1e-9
    with pytest.raises(SearchTimeoutError):
        index.search(SearchRequest("haïfa"))
    index.search_timeout = 10
    assert index.search(SearchRequest("haïfa")).total > 0  # the pool's connection is fine
    index.close()
