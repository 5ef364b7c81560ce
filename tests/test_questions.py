"""search/questions.py: what makes a query a question, and how much each word counts."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import words
from search.feedback import (
    FEEDBACK_STEMS,
    FEEDBACK_WORDS,
    article_stems,
    expansion,
    grouped_expansion,
    pack_stems,
    text_stems,
    unpack_grouped,
    unpack_stems,
)
from search.query import parse_query
from search.questions import is_variant, query_shape, ranked_stems
from search.ranking import Ranking

RANKING = Ranking(answer_weight=0.5, name_weight=2.0)


def weights(text: str) -> dict[str, float]:
    parsed = parse_query(text)
    shape = query_shape(parsed, RANKING, text)
    return {group[0].text: w for group, w in zip(parsed.groups, shape.weights, strict=True)}


@pytest.mark.parametrize("text", [
    "Quelle ville les Portugais conquièrent-ils au début du XVe siècle ?",
    "quand a eu lieu l'attaque de Haïfa",
    "Qui a gagné le Tour de France en 1989",
    "à qui profite le crime",
    "Qu'utilisent les artisans algériens",
    "Qu’utilisent les artisans algériens",
    "de Qu'utilisent les artisans",
    "Stablinski faisait-il du vélo",
    "le SSM a t il été commandé par Massoud",
    "Origine de la prospérité de Lyon ?",
    "comment",
])
def test_questions(text):
    assert query_shape(parse_query(text), RANKING, text).question


@pytest.mark.parametrize("text", [
    "haïfa attaque", "Gaza", "ce que dit Macron", "elle-même", "Emmanuel Macron Berlin",
    '"comment faire"', "prix du gaz ou de l'électricité", "titre:quand",
])
def test_news_queries_are_not_questions(text):
    parsed = parse_query(text)
    shape = query_shape(parsed, RANKING, text)
    assert not shape.question
    assert set(shape.weights) <= {1.0}  # every word counts the same


def test_interrogatives_are_left_out_of_ranking_but_not_out_of_phrases():
    found = weights('Quelle ville les Portugais conquièrent-ils ?')
    assert found["Quelle"] == 0.0
    assert weights('"comment faire" pourquoi') == {"comment faire": 1.0, "pourquoi": 0.0}


def test_a_query_of_interrogatives_only_is_searched_for_them():
    assert weights("comment") == {"comment": 1.0}
    assert weights("pourquoi comment") == {"pourquoi": 1.0, "comment": 1.0}


def test_the_word_asked_about_and_names():
    found = weights("Quelle ville les Portugais conquièrent-ils au début du XVe siècle ?")
    assert found["ville"] == 0.5  # asked about, past the stop words
    assert found["Portugais"] == 2.0  # a name
    assert found["conquièrent-ils"] == found["début"] == 1.0
    found = weights("Qui était le maire de Shanghai en 2010 ?")
    assert found["maire"] == 0.5 and found["Shanghai"] == 2.0 and found["2010"] == 1.0
    assert weights("Shanghai a-t-elle un maire ?")["Shanghai"] == 1.0  # first: maybe no name


@pytest.mark.parametrize("stem, other, expected", [
    ("rapatri", "rapatr", True),  # an ending less
    ("rapatr", "rapatri", True),  # an ending more
    ("judok", "judo", True),
    ("electrif", "electrifi", True),
    ("electrif", "electrifiqu", False),  # three letters more
    ("electrif", "elect", False),  # three letters less
    ("gaz", "gaza", False),  # too short to have variants
    ("rapatri", "rapatri", False),  # itself
    ("2010", "20100", False),  # not letters
])
def test_variants(stem, other, expected):
    assert is_variant(stem, other) is expected


def test_ranked_stems_leave_out_interrogatives_and_stop_words():
    text = "Quelle ville les Portugais conquièrent-ils ?"
    parsed = parse_query(text)
    shape = query_shape(parsed, RANKING, text)
    assert ranked_stems(parsed, shape) == ["vill", "portug", "conquierent"]


def test_feedback_words_come_from_the_best_articles():
    best = [(2.0, Counter({"siege": 3, "general": 1, "guerr": 1}), 5),
            (1.0, Counter({"siege": 1, "canon": 1}), 2), (0.0, Counter({"ignore": 5}), 5)]
    chosen = expansion(best, terms=2, exclude=["guerr"], documents=100,
                       doc_frequency=lambda word: 50 if word == "general" else 1)
    assert [word for word, _ in chosen] == ["siege", "canon"]  # general: in half the articles
    assert sum(weight for _, weight in chosen) == pytest.approx(1.0)
    assert expansion(best, terms=0, exclude=[], documents=100, doc_frequency=len) == []
    wider = expansion(best, terms=3, exclude=["guerr"], documents=100, share=0.5,
                      doc_frequency=lambda word: 50 if word == "general" else 1)
    assert [word for word, _ in wider] == ["siege", "canon", "general"]  # half: not more
    tied = expansion([(1.0, {"bac": 1, "abc": 1, "cab": 2, "aab": 1}, 5)], terms=3,
                     exclude=["aab"], documents=100, doc_frequency=lambda word: 1)
    assert [word for word, _ in tied] == ["cab", "abc", "bac"]  # equal weights: by word


def test_grouped_stems_read_as_unpack_stems():
    """`unpack_grouped` gives the words and counts `unpack_stems` gives, each word once,
    for packed texts as written and for damaged ones (a word packed twice keeps its last
    count; an unreadable count or length reads as no words)."""
    packed = pack_stems(words("Le siège de Paris Le siège dura. Les canons du siège."))
    for text in (packed, "12 x:siege", "7 3:a,b 2:c", "7 3:a,b 2:a,c", "7 2:a,a", "7",
                 "x 3:a", "5 3:", "5 3", "5 3:a,,b", "4 -1:a 0:b"):
        length, groups = unpack_grouped(text)
        flat = [(word, count) for count, found in groups for word in found]
        assert len(flat) == len({word for word, _ in flat})
        assert (length, dict(flat)) == unpack_stems(text)


def _expansion_bits(chosen: list[tuple[str, float]]) -> list[tuple[str, str]]:
    return [(word, weight.hex()) for word, weight in chosen]


def test_grouped_expansion_is_expansion_to_the_last_bit():
    """Feedback's words weighed from the packed groups: the same words and the same
    weights bit for bit as from each article's dictionary of counts."""
    import random

    chosen = random.Random(5)
    vocabulary = [f"w{n}" for n in range(120)]
    for _ in range(300):
        packed = []
        for _ in range(chosen.randint(0, 6)):
            counts = {w: chosen.choice([1, 1, 2, 3, 7]) for w in
                      chosen.sample(vocabulary, chosen.randint(0, 64))}
            ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
            groups: dict[int, list[str]] = {}
            for word, count in ranked:
                groups.setdefault(count, []).append(word)
            text = " ".join([str(chosen.randint(0, 350)),
                             *(f"{c}:{','.join(g)}" for c, g in groups.items())])
            packed.append((chosen.choice([0.0, chosen.random() * 20]), text))
        options = {"terms": chosen.randint(0, 25),
                   "exclude": chosen.sample(vocabulary, 4), "documents": 1000,
                   "share": chosen.choice([0.05, 0.5]),
                   "doc_frequency": lambda word: int(word[1:]) * 3}
        by_counts = [(score, *reversed(unpack_stems(text))) for score, text in packed]
        by_groups = [(score, *reversed(unpack_grouped(text))) for score, text in packed]
        assert _expansion_bits(grouped_expansion(by_groups, **options)) == \
            _expansion_bits(expansion(by_counts, **options))


def test_feedback_leaves_out_the_questions_own_words(samples_index, monkeypatch):
    import search.whoosh.feedback as whoosh_feedback
    from search import open_index, search

    seen = []

    def spy(best, **kwargs):
        seen.append(list(kwargs["exclude"]))
        return grouped_expansion(best, **kwargs)

    monkeypatch.setattr(whoosh_feedback, "grouped_expansion", spy)
    index = open_index(samples_index)
    try:
        question = "Quand les convois humanitaires arrivent-ils à Rafah ?"
        found = search(index, question)
        plain = search(index, question, ranking=Ranking(feedback_weight=0))
        later = search(index, question, ranking=Ranking(feedback_after=10))
    finally:
        index.close()
    assert seen[0] == ["convois", "humanitair", "arrivent", "rafah"]
    assert found.total > plain.total  # feedback adds articles after the first ones
    first = Ranking().feedback_after
    assert [h.id for h in found.hits[:first]] == [h.id for h in plain.hits[:first]]
    assert [h.id for h in later.hits[:plain.total]] == [h.id for h in plain.hits]


def test_article_stems_are_packed_for_the_index():
    length, counts = text_stems("Le siège de Paris", "Le siège dura.", "Les canons du siège.")
    assert counts["sieg"] == 3 and length == sum(counts.values())
    packed = pack_stems(words("Le siège de Paris Le siège dura. Les canons du siège."))
    assert unpack_stems(packed) == (length, counts)
    assert unpack_stems("12 x:siege") == (0, {})  # damaged: no words, no error
    assert pack_stems(["siège", "siège", "canon"]).split() == ["3", "2:sieg", "1:canon"]
    many = [f"mot{n}" for n in range(200) for _ in range(n % 3 + 1)]
    assert len(article_stems(many)[1]) == FEEDBACK_STEMS
    assert article_stems(["guerre"] * (FEEDBACK_WORDS + 10))[0] == FEEDBACK_WORDS


def test_an_index_without_the_stems_column_gives_the_same_feedback(tmp_path, monkeypatch):
    """An index built before the `stems` column: searched (and updated) as before, feedback
    analyses the stored text again and finds the same articles."""
    import search.whoosh.writer as whoosh_writer
    from search import open_index, search
    from search.schema import build_schema
    from tests.conftest import SAMPLES
    from tests.indexing import build, update

    def without_stems():
        schema = build_schema()
        schema.remove("stems")
        return schema

    question = "Quand les convois humanitaires arrivent-ils à Rafah ?"
    found = {}
    for name in ("old", "new"):
        with monkeypatch.context() as patch:
            if name == "old":
                patch.setattr(whoosh_writer, "build_schema", without_stems)
            build(tmp_path / name, [SAMPLES])
        index = open_index(tmp_path / name)
        try:
            column = index.current().evaluator.column("stems")
            assert (column is not None) == (name == "new")
            if column is not None:
                assert column[0].decode().split()[0].isdigit()  # "length stem:count ..."
            results = search(index, question, per_page=50)
            found[name] = (results.total, [hit.id for hit in results.hits])
        finally:
            index.close()
    assert found["old"] == found["new"]
    article = tmp_path / "more" / "new.txt"
    article.parent.mkdir()
    article.write_text("Convois à Rafah\n\nLes convois humanitaires sont arrivés à Rafah.\n",
                       encoding="utf-8")
    report = update(tmp_path / "old", [SAMPLES, article.parent])
    assert report.rejected == 0 and report.added == 1


def _two_segments(tmp_path):
    """An open index of two segments where an article was replaced (a deleted document)."""
    from search import open_index
    from tests.indexing import build, update

    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(6):
        (articles / f"a{n}.txt").write_text(
            f"Convoi {n}\n\nLes convois humanitaires et le siège de Rafah, jour {n}.\n",
            encoding="utf-8")
    build(tmp_path / "index", [articles])
    (articles / "a2.txt").write_text("Convoi\n\nUn convoi arrive enfin à Rafah.\n",
                                     encoding="utf-8")
    update(tmp_path / "index", [articles])
    return open_index(tmp_path / "index")


def test_terms_score_as_their_words_summed_across_segments_and_deletions(tmp_path):
    """Evaluator.terms (feedback's query) equals the sum of each word's own scores, over
    an index of two segments where an article was replaced (a deleted document)."""
    import numpy as np

    index = _two_segments(tmp_path)
    try:
        evaluator = index.current().evaluator
        assert len(evaluator.leaves) == 2 and not evaluator.all_live
        weighted = [("convoi", 2.0), ("rafah", 0.5), ("sieg", 1.0), ("absent", 3.0)]
        together = evaluator.terms("text", weighted)
        alone = [evaluator.term("text", word, boost) for word, boost in weighted]
        docs = np.unique(np.concatenate([node.docs for node in alone]))
        assert together.docs.tolist() == docs.tolist()
        assert np.allclose(together.scores, sum(node.restrict(docs) for node in alone))
    finally:
        index.close()


def test_feedback_scores_in_one_array_as_its_query_would(tmp_path):
    """The Whoosh store's feedback scores the expansion into one array the size of the
    index and merges it there: the same scores as Evaluator.terms (bit for bit, two
    segments, a deleted document, another k1 and b), and the same documents and scores as
    merging the expansion's own matches, filtered, with the question's."""
    import numpy as np

    from search.whoosh.feedback import expanded, feedback_words

    ranking = Ranking(k1=0.9, b=0.4, feedback_share=1.0)
    index = _two_segments(tmp_path)
    try:
        evaluator = index.current().evaluator
        weighted = [("convoi", 2.0), ("rafah", 0.5), ("sieg", 1.0), ("absent", 3.0)]
        dense, held = evaluator.summed_terms("text", weighted, ranking)
        node = evaluator.terms("text", weighted, ranking)
        assert held is None and len(dense) == evaluator.size
        assert np.flatnonzero(dense).tolist() == node.docs.tolist()
        assert dense[node.docs].tolist() == node.scores.tolist()
        assert evaluator.summed_terms("text", [("absent", 1.0)], ranking) is None

        question = evaluator.term("text", "enfin", 1.0, ranking)  # the replaced article only
        assert len(question.docs) == 1
        stems = ["enfin"]
        others = [d for d in range(evaluator.size) if evaluator.live[d]
                  and d not in question.docs.tolist()]
        allowed = np.ones(evaluator.size, dtype=bool)
        allowed[others[0]] = False
        banned = np.array([others[1]])
        for mask, ban in ((None, None), (allowed, banned)):
            every, own, later, first = expanded(evaluator, question.docs,
                                                question.scores, stems=stems,
                                                ranking=ranking, allowed=mask, banned=ban)
            assert first is None  # one match: the search ranks the first ones itself
            words = feedback_words(evaluator, question.docs, question.scores, stems=stems,
                                   ranking=ranking)
            scale = ranking.feedback_weight * len(stems)
            added = evaluator.terms("text", [(w, x * scale) for w, x in words], ranking)
            keep = np.ones(len(added.docs), dtype=bool) if mask is None else mask[added.docs]
            if ban is not None:
                keep &= ~np.isin(added.docs, ban)
            new, extra = added.docs[keep], added.scores[keep]
            expected = np.union1d(question.docs, new)
            assert every.tolist() == expected.tolist()
            assert own.tolist() == question.restrict(expected).tolist()
            more = np.zeros(evaluator.size)
            more[new] = extra
            assert later.tolist() == (own + more[expected]).tolist()
            assert len(every) == (len(others) + 1 if mask is None else len(others) - 1)
    finally:
        index.close()



def test_feedback_merged_from_the_questions_summing_array(tmp_path):
    """A question's Or summed in an array the size of the index keeps that array
    (Node.dense: its scores at its documents, 0 elsewhere; not with a boost, nor for a
    single child), and feedback merged from it gives what merging its documents and
    scores gives, bit for bit (two segments, a deleted document)."""
    import numpy as np
    from whoosh import query as wq

    from search.whoosh.feedback import expanded

    ranking = Ranking(k1=0.9, b=0.4, feedback_share=1.0)
    index = _two_segments(tmp_path)
    try:
        evaluator = index.current().evaluator
        parts = [wq.AndMaybe(wq.Term("text", "rafah"), wq.Term("exact", "rafah", boost=0.5)),
                 wq.Term("text", "enfin"), wq.Term("text", "convoi", boost=0.7)]
        question = evaluator.evaluate(wq.Or(parts), {}, ranking)
        assert question.dense is not None and len(question.dense) == evaluator.size
        assert np.flatnonzero(question.dense).tolist() == question.docs.tolist()
        assert question.dense[question.docs].tolist() == question.scores.tolist()
        assert evaluator.evaluate(wq.Or(parts, boost=2.0), {}, ranking).dense is None
        assert evaluator.evaluate(wq.Or(parts[:1]), {}, ranking).dense is None
        stems = ["rafah", "enfin", "convoi"]
        for feedback_after in (0, 2):
            tuned = Ranking(k1=0.9, b=0.4, feedback_share=1.0, feedback_after=feedback_after)
            plain, merged = (expanded(evaluator, question.docs, question.scores, stems=stems,
                                      ranking=tuned, allowed=None, banned=None, dense=dense)
                             for dense in (None, question.dense))
            assert plain is not None and merged is not None
            assert (plain.own is None) == (merged.own is None)
            assert plain.docs.tolist() == merged.docs.tolist()
            assert plain.later.tobytes() == merged.later.tobytes()
            if plain.own is not None:
                assert plain.own.tobytes() == merged.own.tobytes()
            assert plain.first == merged.first
        assert question.dense[question.docs].tolist() == question.scores.tolist()  # unchanged
    finally:
        index.close()


def test_variants_are_the_walk_over_the_prefix_found_by_bisection():
    """A question's word matches the variants of its stem that the first MAX_SCANNED terms
    of its prefix hold, in sorted order: found by bisecting the term directory's sorted
    terms, they are what walking those terms finds (more than MAX_SCANNED terms share a
    prefix here, and some terms are not made of letters)."""
    import random

    import numpy as np
    from whoosh import query as wq

    from search.analysis import stem
    from search.questions import variant_prefix
    from search.whoosh.compile import MAX_SCANNED, WhooshClauses
    from search.whoosh.directory import FieldDirectory

    chosen = random.Random(15)
    vocabulary = {"".join(chosen.choice("aeinrst") for _ in range(chosen.randint(3, 9)))
                  for _ in range(3000)}
    vocabulary |= {f"cons{n:04d}" for n in range(MAX_SCANNED + 50)}  # digits: no variant
    vocabulary |= {"const", "consti", "constitu", "constitua", "constitue", "constitue2"}
    terms = sorted(vocabulary)
    count = len(terms)
    listed = FieldDirectory(terms, np.arange(count), np.zeros(count, dtype=np.int32),
                            np.arange(count, dtype=np.int32), np.ones(count))

    class Directory:
        def field(self, fieldname: str) -> FieldDirectory | None:
            return listed if fieldname == "text" else None

    clauses = WhooshClauses(None, question=True, directory=Directory())  # type: ignore[arg-type]

    def walked(stemmed: str) -> list[str]:
        found = list(listed.starting(variant_prefix(stemmed) or ""))[:MAX_SCANNED]
        return [t for t in found if is_variant(stemmed, t)]

    checked = with_variants = 0
    for word in [*terms[::5], "constituer", "constitua", "const", "consti"]:
        stemmed = stem(word)
        if stemmed is None or variant_prefix(stemmed) is None:
            continue
        query = list(clauses.words([word], title=False).children())[0]
        found = [q.text for q in query.subqueries[1:]] if isinstance(
            query, wq.DisjunctionMax) else []
        assert found == walked(stemmed), word
        checked += 1
        with_variants += bool(found)
    assert checked > 400 and with_variants > 100
    assert walked("constitu") == ["consti", "constitua", "constitue"]
    assert walked("const") == []  # its variants come after the 2,050 cons0000…: not read


def test_the_best_articles_give_the_first_results_unless_zero_at_the_cut():
    """`leading` reads the first feedback_after documents from the feedback's best
    articles exactly when Evaluator.top over the results (the added ones scoring 0) would
    give those: always, ties at the cut included (both take them in document order),
    unless the last of them scores 0 (an added article could come first) or too few."""
    import random

    import numpy as np

    from search.whoosh.evaluate import Evaluator
    from search.whoosh.feedback import leading

    chosen = random.Random(2)
    known = unknown = 0
    for _ in range(300):
        size = chosen.randint(1, 40)
        docs = np.array(sorted(chosen.sample(range(200), size)))
        scores = np.array([float(chosen.choice([0, 1, 2, 3, 3.5, 4])) for _ in docs])
        added = np.setdiff1d(np.arange(0, 200, 3), docs)
        every = np.union1d(docs, added)
        own = np.zeros(200)
        own[docs] = scores
        for after in (1, 2, 3):
            best = Evaluator.top(docs, scores, 5)
            first = leading(best, after)
            if first is not None:
                known += 1
                assert first == Evaluator.top(every, own[every], after)
            else:
                unknown += 1
                assert len(best) < after or best[after - 1][1] == 0.0
    assert known > 500 and unknown > 10
    assert leading([(4, 3.0), (1, 2.0), (9, 2.0)], 2) == [(4, 3.0), (1, 2.0)]  # tied
    assert leading([(4, 3.0), (9, 2.0), (1, 1.0)], 2) == [(4, 3.0), (9, 2.0)]
    assert leading([(4, 3.0), (9, 2.0)], 2) == [(4, 3.0), (9, 2.0)]  # the added score 0
    assert leading([(4, 3.0)], 2) is None  # too few: added articles follow
    assert leading([(4, 3.0), (9, 0.0), (1, 0.0)], 1) == [(4, 3.0)]
    assert leading([(4, 3.0), (9, 0.0), (1, 0.0)], 2) is None
    assert leading([(4, 0.0), (9, 0.0)], 1) is None


def test_without_takes_items_out_as_np_delete():
    import numpy as np

    from search.whoosh.feedback import without

    values = np.arange(10, 20)
    for at in ([], [0], [9], [0, 1], [3, 7], [0, 9], [2, 3, 4]):
        assert without(values, at).tolist() == np.delete(values, at).tolist()
    assert without(values[:1], [0]).tolist() == []


def test_summed_terms_is_the_sum_of_its_weighed_terms(tmp_path):
    """Evaluator.summed_terms (feedback's scores) is each word's `term()` times its weight,
    summed, and holds the documents holding any: two segments, a replaced article (a
    deleted document), a weight too large for its byte (listed apart), words absent or
    repeated, another k1 and b, a word weighed 0."""
    import random

    import numpy as np

    from search import open_index
    from tests.indexing import build, update

    chosen = random.Random(4)
    vocabulary = ["convoi", "rafah", "siège", "frontière", "camion", "blessé", "hôpital",
                  "médecin", "route", "nuit", "aide", "eau", "farine", "colonne", "port"]
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(150):
        body = " ".join(chosen.choice(vocabulary) for _ in range(chosen.randint(3, 40)))
        (articles / f"a{n}.txt").write_text(f"Article {n}\n\n{body}.\n", encoding="utf-8")
    (articles / "a7.txt").write_text("Siège\n\n" + "siège " * 400 + "\n", encoding="utf-8")
    build(tmp_path / "index", [articles])
    (articles / "a3.txt").write_text("Convoi\n\nUn convoi arrive enfin à Rafah.\n",
                                     encoding="utf-8")
    (articles / "b.txt").write_text("Port\n\nLe port, la nuit, l'eau.\n", encoding="utf-8")
    update(tmp_path / "index", [articles])
    index = open_index(tmp_path / "index")
    try:
        evaluator = index.current().evaluator
        assert len(evaluator.leaves) == 2 and not evaluator.all_live
        assert any(("text", "weights") in p._overflow for p in evaluator.postings)
        stems = ["convoi", "rafah", "sieg", "frontier", "camion", "bless", "hôpital",
                 "médecin", "rout", "nuit", "aid", "eau", "farin", "colon", "port"]

        def expected(weighted, ranking):
            summed, held = np.zeros(evaluator.size), np.zeros(evaluator.size, dtype=bool)
            for text, weight in weighted:
                node = evaluator.term("text", text, weight, ranking)
                summed[node.docs] += node.scores
                held[node.docs] = True
            return summed, held

        for ranking in (Ranking(), Ranking(k1=0.9, b=0.4)):
            for _ in range(40):
                weighted = [(chosen.choice(stems + ["absent"]), chosen.random() * 5)
                            for _ in range(chosen.randint(1, 20))]
                summed, held = expected(weighted, ranking)
                found = evaluator.summed_terms("text", weighted, ranking)
                if not held.any():
                    assert found is None
                    continue
                np.testing.assert_allclose(found[0], summed, rtol=1e-12)
                assert found[1] is None
            weighted = [("sieg", 1.0), ("convoi", 0.0), ("sieg", 2.0)]
            summed, held = expected(weighted, ranking)
            found = evaluator.summed_terms("text", weighted, ranking)
            np.testing.assert_allclose(found[0], summed, rtol=1e-12)
            assert found[1].tolist() == held.tolist()
        assert evaluator.summed_terms("text", [("absent", 1.0)], Ranking()) is None
        assert evaluator.summed_terms("nofield", [("sieg", 1.0)], Ranking()) is None
    finally:
        index.close()


def test_feedback_words_chosen_with_the_common_words_known(samples_index):
    """The Whoosh store hands `expansion` the words too common for feedback (known once
    per generation and share) instead of their frequencies: the same words, and the same
    words as frequencies give for random articles and shares."""
    import random

    from search import open_index
    from search.whoosh.feedback import common_words

    chosen = random.Random(9)
    index = open_index(samples_index)
    try:
        evaluator = index.current().evaluator
        listed = evaluator.directory.field("text")
        for share in (0.0, 0.01, 0.1, 0.3, 1.0):
            common = common_words(evaluator, "text", share)
            assert bool(common) == (share < 1.0)
            assert common is common_words(evaluator, "text", share)  # made once
            assert common == {w for w in listed.terms
                              if evaluator.doc_frequency("text", w) > share * evaluator.size}
            for _ in range(30):
                best = [(chosen.random() * 9, {w: chosen.randint(1, 5) for w in
                                               chosen.sample(listed.terms, 40) + ["absent"]},
                         chosen.randint(40, 300)) for _ in range(chosen.randint(1, 5))]
                exclude = chosen.sample(listed.terms, 5)
                options = {"terms": chosen.randint(1, 25), "exclude": exclude,
                           "doc_frequency": lambda w: evaluator.doc_frequency("text", w),
                           "documents": evaluator.size, "share": share}
                assert expansion(best, common=common, **options) == expansion(best, **options)
        assert common_words(evaluator, "nofield", 0.1) == frozenset()
    finally:
        index.close()


def test_top_with_positions_set_apart_is_evaluator_top_without_them():
    """search/whoosh/feedback.py's `top` gives Evaluator.top's answer, with or without
    positions set apart (set to -inf in place, then put back): distinct scores, scores
    tied at the cut, many equal scores, zeros and negatives, -inf, limits from 0 to past
    the length."""
    import numpy as np

    from search.whoosh import feedback
    from search.whoosh.evaluate import Evaluator
    from search.whoosh.feedback import without

    chosen = np.random.default_rng(21)
    whole = Evaluator.top
    for n in range(300):
        size = int(chosen.choice([0, 3, 50, 3000, 8000, 8000]))
        docs = np.sort(chosen.choice(size * 2, size, replace=False)).astype(np.int64)
        scores = [chosen.random(size) * 20, chosen.integers(0, 40, size).astype(float),
                  chosen.choice([0.0, 1.5, 2.0], size), chosen.normal(0, 3, size),
                  chosen.choice([-np.inf, 0.0, 1.0], size)][n % 5]
        limit = int(chosen.choice([0, 1, 2, 5, 8, 18, 28, 60, min(size + 1, 99)]))
        found = feedback.top(docs, scores, limit)
        assert found == whole(docs, scores, limit), (n, size, limit)
        apart = sorted(chosen.choice(size, min(size, n % 3), replace=False).tolist())
        before = scores.copy()
        found = feedback.top(docs, scores, limit, apart=apart)
        assert np.array_equal(scores, before)  # put back
        assert found == whole(without(docs, apart), without(scores, apart), limit)


def test_default_feedback_reads_words_of_at_most_a_twentieth_of_the_articles(samples_index):
    """The default ranking's feedback chooses no word found in more than 5 % of the
    articles (`feedback_share` 0.05): fewer postings read than with 0.1, which picks
    commoner words for the same questions."""
    from search import open_index
    from search.request import SearchRequest
    from search.whoosh.compile import compile_query
    from search.whoosh.feedback import feedback_words

    assert Ranking().feedback_share == 0.05
    index = open_index(samples_index)
    try:
        generation = index.current()
        evaluator = generation.evaluator
        read = {0.05: 0, 0.1: 0}
        for text in ("Où se trouve Gaza ?", "Comment fonctionne le vote ?",
                     "Qui est le président ?", "Quelle est la capitale ?"):
            for share in read:
                ranking = Ranking() if share == 0.05 else Ranking(feedback_share=share)
                request = SearchRequest(text, ranking=ranking)
                compiled = compile_query(request.parsed, generation.searcher.reader(),
                                         typed=request.typed, ranking=ranking,
                                         text=request.query, directory=evaluator.directory)
                question = evaluator.evaluate(compiled.match, {}, ranking)
                chosen = feedback_words(evaluator, question.docs, question.scores,
                                        stems=list(compiled.stems), ranking=ranking)
                found = [evaluator.doc_frequency("text", word) for word, _ in chosen]
                assert chosen and max(found) <= share * evaluator.size
                read[share] += sum(found)
        assert read[0.05] < read[0.1]
    finally:
        index.close()


@pytest.mark.parametrize("word", ["qu'il", "Qu'est", "QU'A", "qu’il", "Qu’à", "quand", "qu",
                                  "q'u", "quoi", "qu'", "'qu'", "ǫu'il", "ｑu'il", "Qu‘il",
                                  "qüest", "quʼil", "éqr", "", "préjudicier", "q’é",
                                  "Qʼé", "pʼé", "éqʼ", "ŒIL", "ǭu’x"])
def test_an_elided_qu_is_told_alike_with_or_without_folding(word):
    from search import questions
    from search.analysis import fold

    folded = fold(word).lower().replace("\u2019", "'")
    assert questions._opens_with_qu(word) == folded.startswith("qu'")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("qQuU'’ʼ‘ｑǫéèaœŒ pzÉ-") + ["\u0301"]),
               max_size=6))
def test_an_elided_qu_is_told_as_folding_tells_it(word):
    """Whatever the characters (a non-ASCII word starting with an ASCII character other
    than q is told without folding it: folding goes character by character)."""
    from search import questions
    from search.analysis import fold

    folded = fold(word).lower().replace("\u2019", "'")
    assert questions._opens_with_qu(word) == folded.startswith("qu'")
