"""Plain searches (a few plain words, or one phrase) ranked without compiling
(search/whoosh/plain.py) answer exactly as the general path does; anything else takes the
general path."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import SearchRequest
from search.whoosh import backend as whoosh_backend
from search.whoosh import plain as plain_module
from search.whoosh.plain import plain_query
from tests.conftest import SAMPLES
from tests.indexing import opened_generation, opened_in_small_segments

PLAIN = ["haïfa", "Haifa", "HAÏFA", "port", "ville portuaire", "port ville", "ville port",
         "port port", "ministre ville port", "gouvernement ministre", "port zzzqqq",
         "zzzqqq", "zzzqqq port", "attaque haïfa", "élections", "Élection présidentielle",
         "2024", "covid 19", '"ville portuaire"', '"de la"', '"le port"', '"la ville"',
         '"zzzqqq port"', '"port zzzqqq"', '"de la ville"', '"port port"', "retrouvé",
         "marché", "marchés financiers", "économie", "l'attaque", "d'Haïfa port",
         "aujourd'hui", "Paris Londres Berlin Rome", '"ville"', '"port" ville',
         "port AND ville"]
GENERAL = ["états-unis", "jean-pierre port", "le port", "port le", "quel port", "port ?",
           "pourquoi ville", '"port de" ?', "port OR ville", "port -ville", "-port",
           "titre:port", "port*", "auteur:moreau", "rubrique:monde port",
           "port depuis:2020", "le la les", "", "a b c d e", "qu'est-ce",
           "un deux trois quatre cinq"]
OPTIONS = [{}, {"snippets": False, "facets": False}, {"facets": False},
           {"page": 2, "per_page": 2}, {"per_page": 1}, {"per_page": 3, "snippets": False},
           {"page": 3, "per_page": 5, "facets": False}]
NOT_PLAIN_OPTIONS = [{"sort": "newest"}, {"filters": {"year": 2024}},
                     {"recency_half_life": 30.0}, {"hidden": frozenset({"x"})}]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments."""
    with opened_in_small_segments(tmp_path_factory.mktemp("plain-segmented"), [SAMPLES]) as found:
        yield found


@pytest.fixture(scope="module")
def whole(samples_index):
    with opened_generation(samples_index) as found:
        yield found


def _both(generation, request, monkeypatch):
    """(the plain path's answer, the general path's), as JSON, with whether a correction
    is looked for: the general path's `positive`, but for a phrase and one word that
    matched, which the plain path knows did-you-mean has nothing to say about
    (tests/test_fixed_cost.py checks the answers with it asked are the same)."""
    generation.evaluator.kept.clear()
    fast = generation.search(request)
    with monkeypatch.context() as patch:
        patch.setattr(whoosh_backend, "plain_query", lambda request: None)
        generation.evaluator.kept.clear()
        general = generation.search(request)
    plain = plain_query(request)
    asked = general[1] and (plain is None or not (
        plain.phrase or (general[0].total and len(plain.words) == 1)))
    return (json.dumps(fast[0].to_json(), sort_keys=True), fast[1]), \
        (json.dumps(general[0].to_json(), sort_keys=True), asked)


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("name", ["whole", "segmented"])
def test_plain_searches_answer_as_the_general_path(request, monkeypatch, name, deleted):
    generation = request.getfixturevalue(name)
    evaluator = generation.evaluator
    if deleted:  # every third document gone, as deletions leave them
        evaluator.live[::3] = False
        evaluator.deletions_changed()
    matched = 0
    try:
        for text in PLAIN:
            for options in OPTIONS:
                asked = SearchRequest(text, **options)
                assert plain_query(asked) is not None, text
                fast, general = _both(generation, asked, monkeypatch)
                assert fast == general, (text, options)
                matched += '"total": 0' not in fast[0]
    finally:
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()
    assert matched > len(PLAIN) * len(OPTIONS) // 2


def test_other_searches_take_the_general_path(whole, monkeypatch):
    taken = []
    monkeypatch.setattr(whoosh_backend, "rank_plain",
                        lambda *args: taken.append(args) or pytest.fail("plain path taken"))
    for text in GENERAL:
        asked = SearchRequest(text)
        assert plain_query(asked) is None, text
        whole.search(asked)
    for text in ["port", "ville portuaire", '"ville portuaire"']:
        for options in NOT_PLAIN_OPTIONS:
            asked = SearchRequest(text, **options)
            assert plain_query(asked) is None, (text, options)
            whole.search(asked)
    assert not taken


def test_a_pairs_tier_fills_the_page_or_not_both_answer_alike(whole, monkeypatch):
    """Both of `rank_plain`'s ways for several words: the articles holding every word fill
    the page (only they are scored), or do not (the Or scored, the tier ranked first)."""
    ways = []
    original = whole.evaluator.any_of

    def any_of(children, boost=1.0):
        ways.append("or")
        return original(children, boost)

    monkeypatch.setattr(whole.evaluator, "any_of", any_of)
    for per_page in (1, 2, 50):
        for text in ["port ville", "ministre gouvernement", "haïfa port"]:
            asked = SearchRequest(text, per_page=per_page)  # (facets: the Or listed)
            ways.append("asked")
            fast, general = _both(whole, asked, monkeypatch)
            assert fast == general, (text, per_page)
    asked = [n for n, way in enumerate(ways) if way == "asked"]
    # each asking's own calls (the plain path's, then the general path's) follow it
    plain_or = [ways[n + 1:n + 2] == ["or"] for n in asked]
    assert any(plain_or) and not all(plain_or)


def test_a_pair_without_facets_is_counted_and_ranked_without_its_or(whole, monkeypatch):
    """A pair's page without facets: its total counted from the two words' documents and
    their tier, its page from each word's best (`best_of_two`), neither the Or nor the
    union listed; the same answers as the general path, the tier filling the page or not,
    a word missing, one word twice; two words large beside the index keep their Or."""
    from search.whoosh import evaluate

    # (this index is small: its words' sets count as small beside it, as a rare pair's
    # beside an archive's)
    monkeypatch.setattr(evaluate, "DENSE_SHARE", 1)
    calls = []
    for name in ("any_of", "union"):
        original = getattr(whole.evaluator, name)

        def counted(*args, name=name, original=original, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(whole.evaluator, name, counted)
    tiers = []
    original_best = plain_module.best_of_two

    def best_of_two(first, second, common, limit):
        tiers.append(len(common))
        return original_best(first, second, common, limit)

    monkeypatch.setattr(plain_module, "best_of_two", best_of_two)
    for text in ["port ville", "ministre gouvernement", "haïfa port", "port zzzqqq",
                 "zzzqqq port", "port port", "attaque haïfa"]:
        for options in ({"per_page": 1}, {"per_page": 2}, {"per_page": 50},
                        {"page": 2, "per_page": 3}, {"snippets": False}):
            asked = SearchRequest(text, facets=False, **options)
            calls.clear()
            whole.evaluator.kept.clear()
            whole.search(asked)
            assert calls == [], (text, options)
            fast, general = _both(whole, asked, monkeypatch)
            assert fast == general, (text, options)
    assert any(n == 0 for n in tiers) and any(n > 0 for n in tiers)
    # words whose sets are large beside the index: the Or's arrays the size of the index
    monkeypatch.setattr(evaluate, "DENSE_SHARE", 64)
    tiers.clear()
    asked = SearchRequest("port ville", facets=False, per_page=3)
    calls.clear()
    whole.evaluator.kept.clear()
    whole.search(asked)
    assert calls and tiers == []
    fast, general = _both(whole, asked, monkeypatch)
    assert fast == general


def test_the_plain_query_says_what_it_matches():
    assert plain_query(SearchRequest("Haïfa attaque")) == plain_module.PlainQuery(
        words=(("haif", "haifa"), ("attaqu", "attaque")))
    assert plain_query(SearchRequest('"Ville portuaire"')) == plain_module.PlainQuery(
        phrase=("ville", "portuaire"))
    # an elided word is its one word
    assert plain_query(SearchRequest("l'attaque")) == plain_module.PlainQuery(
        words=(("attaqu", "attaque"),))
    assert plain_query(SearchRequest("a b c d e f")) is None  # stop words
    assert plain_query(SearchRequest("port ville mer quai rade")) is None  # five words


QUESTIONS = ["quel port", "port quand", "quoi", "combien port", "de quoi port", "à qui port",
             "qui port", "que port", "où port", "ou port", "Pourquoi", "port ?", "port ？",
             "qu'elle port", "Qu’elle port", "de qu'elle port", "comment", "port t"]


def test_a_plain_query_is_never_a_question():
    """Words the plain path takes are no question and weigh 1 each (`query_shape`)."""
    from search.questions import query_shape

    plain = 0
    for text in PLAIN + QUESTIONS + GENERAL:
        asked = SearchRequest(text)
        found = plain_query(asked)
        shape = query_shape(asked.parsed, asked.ranking, asked.query)
        if text in QUESTIONS:
            assert found is None and shape.question, text
        if found is not None and found.words:
            plain += 1
            assert not shape.question and set(shape.weights) == {1.0}, text
    assert plain > 20


WORDS = ["port", "ville", "haïfa", "Haifa", "ministre", "gouvernement", "zzzqqq", "le", "de",
         "quel", "qui", "qu'il", "l'attaque", "états-unis", "élection", '"', "?", "OR", "-",
         "titre:", "port*", "depuis:2020", "2024", "19e", "XIXe", "Ville", "d'Haïfa"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
       st.sampled_from(OPTIONS))
def test_any_mix_of_words_answers_as_the_general_path(segmented, parts, options):
    """Whatever is typed, the plain path (when it is taken) answers as the general one."""
    asked = SearchRequest(" ".join(parts), **options)
    with pytest.MonkeyPatch.context() as patch:
        fast, general = _both(segmented, asked, patch)
    assert fast == general
