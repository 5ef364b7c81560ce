"""What every search pays besides its own work, made cheaper without changing an answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search import open_index, search


def test_timed_results_are_replace_with_took_ms(samples_index):
    index = open_index(samples_index)
    found = search(index, "haifa")
    again = found.timed(12.5)
    assert again == replace(found, took_ms=12.5)
    assert again.to_json() == replace(found, took_ms=12.5).to_json()
    assert again.took_ms == 12.5 and found.took_ms != 12.5  # a copy: the cached one unchanged
    assert type(again) is type(found)


def test_hits_made_without_init_are_hits():
    from search.results import Hit

    fields = dict(id="a", url=None, title="T", title_html="T", snippet_html="", published=None,
                  section="s", authors=["x"], score=1.5)
    made = Hit.made(**fields)
    assert made == Hit(**fields) and type(made) is Hit
    assert made.__dict__ == Hit(**fields).__dict__
    with pytest.raises(TypeError):
        Hit.made(**{k: v for k, v in fields.items() if k != "score"})
    with pytest.raises(TypeError):
        Hit.made(**fields, extra=1)


def test_hits_of_fields_in_order_are_hits():
    from dataclasses import fields as dataclass_fields

    from search.results import Hit

    values = dict(id="a", url=None, title="T", title_html="T", snippet_html="",
                  published="2001-01-01", section="s", authors=["x"], score=1.5)
    # in the dataclass's order, each field where `Hit(...)` puts it
    made = Hit.of(*(values[f.name] for f in dataclass_fields(Hit)))
    assert made == Hit(**values) and type(made) is Hit
    assert made.__dict__ == Hit(**values).__dict__
    assert list(made.__dict__) == list(Hit(**values).__dict__)


def test_a_page_without_snippets_has_the_hits_one_by_one_gives(samples_index, monkeypatch):
    """`_plain_hits` (a page without snippets, in one loop) makes the hits `_hit` makes
    one at a time, field for field; searching uses it for pages without snippets."""
    from search.whoosh.backend import Generation

    index = open_index(samples_index)
    with index.view() as generation:
        ranked = [(docnum, 1.23456789 * (docnum + 1))
                  for docnum in range(min(25, generation.evaluator.size))]
        plain = generation._plain_hits(ranked)
        assert [h.__dict__ for h in plain] == \
            [generation._hit(d, s, None).__dict__ for d, s in ranked]
        assert all(h.snippet_html == "" and h.title_html for h in plain)
    called = []
    original = Generation._plain_hits

    def counted(self, ranked):
        called.append(len(ranked))
        return original(self, ranked)

    monkeypatch.setattr(Generation, "_plain_hits", counted)
    found = search(index, "haifa", snippets=False)
    snippets = search(index, "haifa", snippets=True)
    assert called == [len(found.hits)] and found.hits
    assert [h.title for h in found.hits] == [h.title for h in snippets.hits]
    index.close()


def test_a_page_with_snippets_made_in_passes_has_the_hits_one_by_one_gives(
        samples_index, monkeypatch):
    """`_snippet_hits` (every hit read, then every title and snippet made) makes the hits
    `_hit` makes one at a time, field for field, and searching with snippets uses it; a
    deadline passed stops it before a read and before a snippet."""
    from search.deadline import within
    from search.errors import SearchTimeoutError
    from search.query import parse_query
    from search.snippets import Highlighter, highlight_terms
    from search.whoosh.backend import Generation

    index = open_index(samples_index)
    with index.view() as generation:
        ranked = [(docnum, 1.23456789 * (docnum + 1))
                  for docnum in range(min(25, generation.evaluator.size))]
        for query in ("haifa", "gaz attaque", '"ville portuaire"', "zzz"):
            marks = Highlighter(highlight_terms(parse_query(query)))
            made = generation._snippet_hits(ranked, marks)
            assert [h.__dict__ for h in made] == \
                [generation._hit(d, s, marks).__dict__ for d, s in ranked]
        assert any("<mark>" in h.snippet_html for h in
                   generation._snippet_hits(ranked, Highlighter(highlight_terms(
                       parse_query("haifa")))))
        with within(1e-9), pytest.raises(SearchTimeoutError):
            generation._snippet_hits(ranked, marks)
    called = []
    original = Generation._snippet_hits

    def counted(self, ranked, marks):
        called.append(len(ranked))
        return original(self, ranked, marks)

    monkeypatch.setattr(Generation, "_snippet_hits", counted)
    found = search(index, "haifa", snippets=True)
    assert called == [len(found.hits)] and found.hits
    index.close()


def test_the_shrink_check_follows_the_mapped_files_still_open(tmp_path):
    import gc

    from search.errors import IndexCorruptError
    from search.whoosh.layout import DurableFileStorage

    storage = DurableFileStorage(str(tmp_path))
    (tmp_path / "a.seg").write_bytes(b"x" * 100)
    (tmp_path / "b.seg").write_bytes(b"y" * 100)
    first, second = storage.open_file("a.seg"), storage.open_file("b.seg")
    storage.check_mapped()
    with open(tmp_path / "b.seg", "r+b") as f:
        f.truncate(50)
    with pytest.raises(IndexCorruptError, match="shrank from 100 to 50"):
        storage.check_mapped()
    second.close()
    storage.check_mapped()  # a closed map is no longer read
    del second
    gc.collect()
    (tmp_path / "c.seg").write_bytes(b"z" * 10)
    third = storage.open_file("c.seg")
    assert len(storage._mapped) == 2  # the collected one's reference dropped
    first.close()
    third.close()


def test_facets_of_few_documents_are_counted_as_of_many(samples_index, monkeypatch):
    import numpy as np

    from search.whoosh import facets

    index = open_index(samples_index)
    with index.view() as generation:
        table = generation.facets
        size = generation.evaluator.size
        rng = np.random.default_rng(3)
        sets = [np.arange(size), np.arange(0), np.array([0]), np.arange(0, size, 2)]
        sets += [np.sort(rng.choice(size, k, replace=False)) for k in (1, 3, 7, 15, 30)
                 for _ in range(5)]
        for docs in sets:
            found = {}
            for share in (0, 10**9):  # always by distinct values; always in full arrays
                monkeypatch.setattr(facets, "SPARSE_SHARE", share)
                found[share] = [facets.count_facets(table, docs, months_of=year)
                                for year in (None, 2024)]
            assert found[0] == found[10**9]
        assert facets.count_facets(table, np.arange(size))["author"]  # authors are counted


def test_facet_values_made_without_init_are_facet_values():
    from search.results import FacetValue

    made = FacetValue.made("2024", 3)
    assert made == FacetValue("2024", 3) and made.__dict__ == FacetValue("2024", 3).__dict__
    assert type(made) is FacetValue


def test_literal_starts_are_the_regex_scans():
    """The snippet scanner's literals found with str.find: the starts re.finditer gives."""
    import random
    import re

    from search.snippets import literal_starts

    rng = random.Random(7)
    cases = [("abc", ("ab", "bc")), ("aaaa", ("aa",)), ("aaaa", ("aaa", "a")),
             ("cheval chevaux", ("chevaux", "cheval", "che")), ("", ("a",)), ("xyz", ("q",))]
    for _ in range(2000):
        text = "".join(rng.choice("ab c") for _ in range(rng.randint(0, 40)))
        words = {"".join(rng.choice("abc") for _ in range(rng.randint(1, 4)))
                 for _ in range(rng.randint(1, 4))}
        cases.append((text, tuple(sorted(words, key=lambda w: (-len(w), w)))))
    for text, literals in cases:
        pattern = re.compile("|".join(re.escape(w) for w in literals))
        assert literal_starts(text, literals) == [m.start() for m in pattern.finditer(text)], \
            (text, literals)


def test_snippets_of_plain_words_match_as_with_the_regex(samples_index, monkeypatch):
    import re

    from search import snippets
    from search.snippets import Terms, find_matches

    index = open_index(samples_index)
    with index.view() as generation:
        texts = [generation.stored.whole(d).get("body", "")
                 for d in range(generation.evaluator.size)]
    every = [Terms(stems=frozenset({"attaqu", "port"}), exact=frozenset({"haifa"})),
             Terms(exact=frozenset({"de", "la"}), phrases=(("de", "la"),)),
             Terms(prefixes=("gouv",)), Terms(stems=frozenset({"a", "e"}))]
    found = [[find_matches(text, terms) for text in texts] for terms in every]
    assert sum(map(len, found[0])) > 3

    def regex_starts(scanned, groups):  # the literals' alternation, longest first
        literals = {short for short, _ in groups} | {w for _, longer in groups for w, _ in longer}
        ordered = sorted(literals, key=lambda w: (-len(w), w))
        return [m.start() for m in re.compile("|".join(map(re.escape, ordered))).finditer(scanned)]

    monkeypatch.setattr(snippets, "_starts", regex_starts)
    assert found == [[find_matches(text, terms) for text in texts] for terms in every]


def test_a_deadline_entered_by_hand_is_the_same_deadline():
    from search.deadline import check, remaining, within

    scope = within(30)
    assert remaining() is None
    scope.__enter__()
    try:
        assert 29 < remaining() <= 30
        check()
    finally:
        scope.__exit__(None, None, None)
    assert remaining() is None
    with within(None):
        assert remaining() is None


def test_a_query_asked_again_with_other_options_compiles_once(samples_index, monkeypatch):
    """The compiled plan of a generation is kept: page 2, another sort or a filter of the
    same words compile nothing, and answer as a fresh compile does."""
    from search.whoosh import backend as whoosh_backend

    compiled = []
    original = whoosh_backend.compile_query

    def counted(*args, **kwargs):
        compiled.append(args[0].text())
        return original(*args, **kwargs)

    monkeypatch.setattr(whoosh_backend, "compile_query", counted)
    index = open_index(samples_index)
    options = [{}, {"page": 2, "per_page": 3}, {"sort": "newest"}, {"facets": False},
               {"filters": {"year": 2023}}]
    kept = [search(index, "port ville", **o).to_json() for o in options]
    assert compiled == ["port ville"]
    search(index, '"port de" haifa')
    # the same words, typed otherwise: compiled again (sorted by date: plain words of the
    # default order are ranked without compiling, search/whoosh/plain.py)
    search(index, "Port ville", sort="newest")
    assert len(compiled) == 3
    index.clear_caches()  # empties the plans too
    fresh = [search(index, "port ville", **o).to_json() for o in options]
    assert len(compiled) == 4
    for a, b in zip(kept, fresh, strict=True):
        a.pop("took_ms"), b.pop("took_ms")
        assert a == b
    index.close()


def test_the_plans_kept_are_bounded(samples_index, monkeypatch):
    from search.whoosh import backend as whoosh_backend

    monkeypatch.setattr(whoosh_backend, "PLANS_KEPT", 3)
    index = open_index(samples_index)
    for word in ["port", "ville", "haifa", "gaza", "nuit"]:
        search(index, word, sort="newest")  # compiled (not the plain path's)
    with index.view() as generation:
        assert len(generation._plans) == 3
    index.close()


def test_a_page_of_results_made_without_init_is_results():
    from search.results import FacetValue, Hit, Results

    hit = Hit.of("a", None, "T", "T", "", None, "s", ["x"], 1.5)
    facets = {"section": [FacetValue("s", 1)]}
    timeline = [FacetValue("2020", 1)]
    made = Results.page_of("haifa", 3, 2, 5, [hit], facets, timeline)
    expected = Results(query="haifa", total=3, total_is_exact=True, page=2, per_page=5,
                       took_ms=0.0, hits=[hit], facets=facets, timeline=timeline)
    assert made == expected and type(made) is Results
    assert made.__dict__ == expected.__dict__
    assert list(made.__dict__) == list(expected.__dict__)  # the fields in order
    assert made.to_json() == expected.to_json()
    other = Results.page_of("x", 0, 1, 10, [], {}, [])
    assert other.synonyms is not made.synonyms and other.pinned is not made.pinned


def test_a_request_without_filters_keeps_none():
    from types import MappingProxyType

    from search import SearchRequest

    for given in ({}, MappingProxyType({}), None):
        request = SearchRequest("haifa", filters=given)
        assert request.filters == {} and type(request.filters) is dict
        assert not request.parsed_filters
    assert SearchRequest("haifa", filters={"section": []}).filters == {}
    assert SearchRequest("haifa", filters={"section": "Monde"}).filters == {"section": ("Monde",)}


@pytest.mark.parametrize("title", ["", "Code civil — Article 17-1", "R&D", "a < b", "b > a",
                                   "<mark>x</mark> & co", "\"cité\" l'été", "&amp;"])
def test_a_title_is_escaped_only_when_it_needs_it(title):
    """A hit's title without a snippet: `escape(title, quote=False)`, skipped for titles
    without & < > (quotes are left as they are, as before)."""
    from html import escape

    from search.snippets import escaped

    assert escaped(title) == escape(title, quote=False)


def test_a_hit_made_by_of_has_its_own_fields_dict():
    from search.results import Hit

    first = Hit.of("a", None, "T", "T", "", None, "s", ["x"], 1.5)
    second = Hit.of("b", "u", "U", "U", "", "2001", None, [], 2.5)
    assert first.__dict__ is not second.__dict__
    assert first.id == "a" and second.id == "b" and first.authors == ["x"]
    assert hash(first.id) and first != second
    with pytest.raises(AttributeError):
        first.id = "c"  # still frozen


def _same_float(a: float, b: float) -> bool:
    import math

    return type(a) is float and (a == b and math.copysign(1, a) == math.copysign(1, b)
                                 or a != a and b != b)


@pytest.mark.parametrize("value", [
    0.0, -0.0, 1e-300, -1e-300, 5e-5, -5e-5, 4.9999e-5, 0.03125, 2.5, 1.00005, 0.00015,
    12.34565, 16.28616144098624, -3.999950000000001, 2.0 ** 30, 2.0 ** 30 / 1e4, 1e30,
    -1e30, float("inf"), float("-inf"), float("nan"), 123456.78905, 1 << 40])
@pytest.mark.parametrize("digits", [0, 1, 2, 3, 4])
def test_rounded_is_round(value, digits):
    """A hit's score and a search's time are `round(float(value), digits)` to the last bit
    and sign, whatever the value (half-way points, zeros, NaN, infinities, large values,
    numpy scalars)."""
    import numpy as np

    from search.results import rounded

    assert _same_float(rounded(value, digits), round(float(value), digits))
    assert _same_float(rounded(np.float64(value), digits), round(float(value), digits))
    assert _same_float(rounded(np.float32(value), digits),
                       round(float(np.float32(value)), digits))


def test_rounded_is_round_near_half_way_points():
    """Values at, just below and just above the half-way points of every scale (where a
    scaled value's error could cross one), and random values and bit patterns."""
    import math
    import random
    import struct

    from search.results import rounded

    rng = random.Random(7)
    for _ in range(20000):
        digits = rng.randrange(5)
        half = (rng.randrange(-10 ** 7, 10 ** 7) + 0.5) / 10 ** digits
        for value in (half, math.nextafter(half, 0), math.nextafter(half, math.inf),
                      math.nextafter(half, -math.inf), rng.random() * 30,
                      rng.uniform(-1e6, 1e6),
                      struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]):
            assert _same_float(rounded(value, digits), round(value, digits)), (value, digits)


def test_a_hit_s_score_and_the_time_are_rounded_by_rounded(samples_index, monkeypatch):
    """Hits' scores (with and without snippets) and `took_ms` go through `rounded`."""
    from search import backend as backend_module
    from search.results import rounded
    from search.whoosh import backend as whoosh_backend

    asked = []

    def counted(value, digits):
        asked.append(digits)
        return rounded(value, digits)

    monkeypatch.setattr(whoosh_backend, "rounded", counted)
    monkeypatch.setattr(backend_module, "rounded", counted)
    index = open_index(samples_index)
    try:
        for snippets in (False, True):
            asked.clear()
            index.clear_caches()
            found = search(index, "haifa", snippets=snippets, facets=False)
            # without snippets, `plain_hits` rounds with `rounded`'s steps inline
            # (test_plain_hits_are_hit_of_each_head)
            assert found.hits and asked.count(4) == (len(found.hits) if snippets else 0)
            assert asked.count(2) == 1
    finally:
        index.close()


def test_did_you_mean_is_not_asked_where_it_has_nothing_to_say(samples_index, monkeypatch):
    """A plain phrase, or one plain word that matched, is answered without did-you-mean
    (it corrects words only, and a word that matched is known): the same answers as with
    it asked, over the samples' words, their misspellings, pairs and phrases; other plain
    queries (a word that matched nothing, a pair) still ask it."""
    import random
    import re

    from search import SearchRequest
    from search import backend as backend_module
    from search.whoosh.backend import Generation
    from search.whoosh.plain import plain_query

    index = open_index(samples_index)
    try:
        with index.view() as generation:
            reader = generation.searcher.reader()
            texts = [generation.stored.with_texts(d) for d in range(reader.doc_count_all())]
        words = sorted({w.lower() for fields in texts for w in re.findall(
            r"[^\W\d_]{4,}", fields.get("title", "") + " " + fields.get("lead", ""))})
        rng = random.Random(5)
        words = rng.sample(words, min(len(words), 80))
        queries = words + [w[:-1] + "x" for w in words[:30]] + [w[1:] for w in words[:20]]
        queries += [f"{a} {b}" for a, b in zip(words[::2], words[1::2], strict=False)][:20]
        queries += [f'"{a} {b}"' for a, b in zip(words[::3], words[1::3], strict=False)][:20]
        queries += ["haifa", "haïfa", "hayfa", '"port de haifa"', "zzqxw"]

        asked = []
        original = backend_module.correct

        def counted(vocabulary, parsed):
            asked.append(parsed.text())
            return original(vocabulary, parsed)

        monkeypatch.setattr(backend_module, "correct", counted)
        answers = {}
        for q in queries:
            index.clear_caches()
            answers[q] = search(index, q, snippets=False, facets=False).to_json()
        skipped = {q for q in queries if q not in asked}
        searched = Generation.search

        def always_asked(self, request):  # the code before: a plain query always asks
            found, _ = searched(self, request)
            return found, True

        monkeypatch.setattr(Generation, "search", always_asked)
        asked.clear()
        for q in queries:
            index.clear_caches()
            again = search(index, q, snippets=False, facets=False).to_json()
            assert {**again, "took_ms": 0} == {**answers[q], "took_ms": 0}, q
        assert set(asked) == set(queries)
        plain = {q: plain_query(SearchRequest(q)) for q in queries}
        phrases = {q for q in queries if plain[q] is not None and plain[q].phrase}
        found_words = {q for q in queries if plain[q] is not None
                       and len(plain[q].words) == 1 and answers[q]["total"]
                       and not answers[q]["corrected"]}
        assert skipped == phrases | found_words
        assert any(answers[q]["suggestion"] for q in queries if q not in skipped)
        assert len(found_words) > 50 and len(phrases) > 10
    finally:
        index.close()


def test_a_plain_query_made_without_init_is_a_plain_query():
    from dataclasses import FrozenInstanceError

    from search import SearchRequest
    from search.whoosh.plain import PlainQuery, plain_query

    for text in ("port", "port ville haïfa", '"ville portuaire"', "l'attaque"):
        made = plain_query(SearchRequest(text))
        assert made is not None and type(made) is PlainQuery, text
        again = PlainQuery(words=made.words, phrase=made.phrase)
        assert made == again and made.__dict__ == again.__dict__, text
        assert list(made.__dict__) == list(again.__dict__)
        with pytest.raises(FrozenInstanceError):
            made.words = ()  # type: ignore[misc]


@pytest.mark.parametrize("given", [
    {}, {"sections": ("Monde",)}, {"authors": ("x",)}, {"tags": ("t",)}, {"years": (2024,)},
    {"months": (202401,)}, {"since": "2024-01-01"}, {"until": "2024-02-01"}])
def test_filters_are_true_when_any_is_given(given):
    """No filters (the one object every request without them shares, or one made alike) is
    false, any filter true."""
    from datetime import date

    from search import SearchRequest
    from search.request import Filters

    values = {k: date.fromisoformat(v) if k in ("since", "until") else v
              for k, v in given.items()}
    assert bool(Filters(**values)) is bool(given)
    assert not SearchRequest("x").parsed_filters and not Filters()


def test_whole_numbers_of_another_int_type_are_still_a_page():
    """The page and page size checked inline when they are ints in range; other ints (a
    subclass) and values out of range go through the same check as before."""
    from enum import IntEnum

    from search import SearchRequest
    from search.errors import QueryError

    class Size(IntEnum):
        SMALL = 5

    request = SearchRequest("x", page=Size.SMALL, per_page=Size.SMALL)
    assert request.page == 5 and request.per_page == 5
    for bad in (-1, 0, 10 ** 30, 2.0, True, None):
        with pytest.raises(QueryError):
            SearchRequest("x", per_page=bad)


@pytest.mark.parametrize("title", ["Plain", "A & B", "x < y > z", "", "é&<>\"'"])
def test_plain_hits_are_hit_of_each_head(title):
    """`plain_hits` (a page without snippets in one loop, `rounded` and the escaping
    inline) makes the hits `Hit.of` makes of each head, with the title escaped by
    `escaped` and the score rounded by `rounded`, to the last bit and sign of the score."""
    import math
    import random

    import numpy as np

    from search.results import Hit, plain_hits, rounded
    from search.snippets import escaped

    rng = random.Random(3)
    scores = [0.0, -0.0, 5e-5, -5e-5, 0.00015, 12.34565, 16.28616144098624, 2.0 ** 30 / 1e4,
              1e30, float("inf"), float("-inf"), float("nan"), np.float64(1.00005)]
    for _ in range(2000):
        half = (rng.randrange(-10 ** 7, 10 ** 7) + 0.5) / 10 ** 4
        scores += [half, math.nextafter(half, 0), math.nextafter(half, math.inf),
                   rng.random() * 30]
    heads = [(f"id{n}", None if n % 2 else f"u{n}", title, "2024-01-01" if n % 3 else None,
              None if n % 5 else "s", ["a"] if n % 7 else []) for n in range(len(scores))]
    made = plain_hits(heads, scores)
    expected = [Hit.of(id_, url, t, escaped(t), "", published, section, authors,
                       rounded(score, 4))
                for (id_, url, t, published, section, authors), score in zip(heads, scores,
                                                                             strict=True)]
    assert [type(h) for h in made] == [Hit] * len(scores)
    for got, want in zip(made, expected, strict=True):
        assert {k: v for k, v in got.__dict__.items() if k != "score"} == \
            {k: v for k, v in want.__dict__.items() if k != "score"}
        assert list(got.__dict__) == list(want.__dict__)
        assert _same_float(got.score, want.score), (got.score, want.score)


def test_words_ask_is_is_question():
    """`words_ask` of plain words of one term each is `is_question` of their clauses, for
    every interrogative, opener, word before an opener, elided qu' (straight, curly, folded
    from a full-width apostrophe) and other word, at every place, with and without a
    question mark."""
    import itertools

    from search.query import Clause
    from search.questions import INTERROGATIVES, is_question, words_ask

    typed = sorted(INTERROGATIVES) + ["t", "qui", "que", "ou", "qu", "a", "de", "pour", "d",
                                      "qu'avocat", "Qu’avocat", "qu＇avocat", "quota",
                                      "Quartier", "équipe", "Ézé", "avocat", "tribunal",
                                      "il", "sont", "quel"]
    for length in (1, 2, 3):
        for words in itertools.product(typed, repeat=length):
            clauses = [Clause("word", w) for w in words]
            terms = [c.terms() for c in clauses]
            if any(len(t) != 1 for t in terms):
                continue
            for text in (" ".join(words), " ".join(words) + " ?", " ".join(words) + "？ "):
                assert words_ask(text, [(w, t[0]) for w, t in zip(words, terms,
                                                                   strict=True)]) == \
                    is_question(text, clauses, terms), (text, terms)


def test_a_word_and_its_exact_form_are_aligned_without_all(monkeypatch):
    """`with_optional` (an exact form's documents among its stem's) and `Node.restrict`
    (the same documents) compare documents by their bytes, not by `==` and `all()` (whose
    Python code a search meets cold): the same scores, and where the documents differ, or
    are of another integer type, the general way's same values."""
    import numpy as np

    from search.whoosh.evaluate import Evaluator, Node

    class Watched(np.ndarray):  # documents whose compares are not reduced by all()
        def all(self, *args, **kwargs):
            pytest.fail("all()")

    rng = np.random.default_rng(4)
    docs = np.sort(rng.choice(90_000, 300, replace=False)).astype(np.int64)
    scores = rng.random(300)
    cases = [(docs, docs[::3]), (docs, docs), (docs, np.array([docs[0], 90_001])),
             (docs, docs.astype(np.int32)), (docs[:50], docs[:50] + 1)]
    evaluator = object.__new__(Evaluator)
    evaluator.size = 100_000
    monkeypatch.setattr(Evaluator, "large", lambda self, count: False)
    for first, second in cases:
        required = Node(first.view(Watched), scores[:len(first)])
        optional = Node(second.view(Watched), rng.random(len(second)))
        general = required.scores + Node(second, optional.scores).restrict(first, 100_000)
        found = evaluator.with_optional(required, optional)
        assert found.docs is required.docs
        assert found.scores.tobytes() == general.tobytes()
    same = Node(docs.view(Watched), scores)
    assert same.restrict(docs.view(Watched)) is scores
    assert same.restrict(docs.astype(np.int32)).tobytes() == scores.tobytes()
