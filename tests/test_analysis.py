"""French analysis: folding before stemming, elisions, stop words, offsets, pickling."""

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from search.analysis import (
    ELISIONS,
    STOP_WORDS,
    FoldingTokenizer,
    FrenchFilter,
    analyze,
    exact_analyzer,
    fold,
    french_analyzer,
    stem_all,
    words,
)
from search.schema import compounds


@pytest.mark.parametrize(
    "variants",
    [
        ["haifa", "HAÏFA", "Haifa", "Haïfa"],
        ["États-Unis", "etats-unis", "Etats Unis", "ETATS UNIS"],
        ["l’attaque", "l'attaque", "attaque", "L’ATTAQUE"],
        ["œuvre", "oeuvre", "OEUVRE", "Œuvre"],
        ["Ægypte", "aegypte"],
        ["Noël", "noel", "NOËL"],
        ["économiques", "economiques", "ÉCONOMIQUES"],
        ["straße", "strasse"],
    ],
)
def test_variants_give_the_same_terms(variants):
    for stem in (True, False):
        first = analyze(variants[0], stem=stem)
        assert first, variants[0]
        for other in variants[1:]:
            assert analyze(other, stem=stem) == first, (other, stem)


@pytest.mark.parametrize(
    "text, terms",
    [
        ("l’attaque d’Haïfa", ["attaque", "haifa"]),
        ("jusqu’à aujourd’hui", ["a", "aujourd'hui"]),
        ("qu'il lorsqu’elle puisqu'on quoiqu’il", ["il", "elle", "on", "il"]),
        ("israélo-américaine Jean-Luc", ["israelo", "americaine", "jean", "luc"]),
        ("néfaste.L'appréciation", ["nefaste", "appreciation"]),
        ("10 000 tonnes, 3,5 %", ["10", "000", "tonnes", "3", "5"]),
    ],
)
def test_exact_terms(text, terms):
    assert analyze(text, stem=False) == terms


def test_stop_words_are_dropped_and_folded():
    for word in ("les", "cette", "cet", "leurs", "dont", "ou", "ete", "a"):
        assert word in STOP_WORDS
    assert all(word == unidecode(word) for word in STOP_WORDS)
    assert analyze("le la les où dont cette") == []
    assert analyze("Où est Haïfa ?") == ["haif"]


def test_stemming_after_folding_joins_forms():
    assert analyze("économiques") == analyze("economique")
    assert analyze("attaques") == analyze("attaque")


def test_gaza_keeps_its_exact_form():
    assert analyze("Gaza") == analyze("gaz")  # the stem alone cannot tell them apart
    assert analyze("Gaza", stem=False) != analyze("gaz", stem=False)


def test_offsets_point_into_the_original_text():
    text = "À Haïfa, l’attaque — œuvre ﬁnale"
    tokens = [(t.text, text[t.startchar:t.endchar])
              for t in french_analyzer()(text, chars=True, removestops=False)]
    assert tokens == [
        ("a", "À"),
        ("haif", "Haïfa"),
        ("attaqu", "attaque"),
        ("oeuvr", "œuvre"),
        ("final", "ﬁnale"),
    ]


def test_positions_count_stop_words_in_exact_field():
    tokens = [(t.text, t.pos) for t in exact_analyzer()("l'honneur et la probité", positions=True)]
    assert tokens == [
        ("honneur", 0), ("et", 1), ("la", 2), ("probite", 3)]


def test_analyzers_pickle_and_compare_equal():
    for analyzer in (french_analyzer(), exact_analyzer()):
        copy = pickle.loads(pickle.dumps(analyzer))
        assert copy == analyzer
        assert [t.text for t in copy("Les œuvres d’Haïfa")] == [
            t.text for t in analyzer("Les œuvres d’Haïfa")]


def test_pickled_state_holds_no_cache():
    flt = FrenchFilter()
    flt.term("maisons")
    state = pickle.dumps(flt)
    assert b"maison" not in state
    assert len(state) < 200


def test_memo_cache_is_bounded():
    flt = FrenchFilter()
    for n in range(210_000):
        flt.term(f"w{n}")
    assert len(flt._cache) <= 200_000


# Any text at all, with a bias towards the characters French news is made of.
french_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aàâäeéèêëiîïoôöuùûüyÿcçœæAÀÉÈÊÎÔÙÇŒÆ’'-. ,«»\n")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(french_text)
def test_analysis_ignores_accents(text):
    for analyzer in (french_analyzer(), exact_analyzer()):
        plain = [(t.text, t.pos) for t in analyzer(unidecode(text), positions=True)]
        assert [(t.text, t.pos) for t in analyzer(text, positions=True)] == plain


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_fold_is_unidecode_and_idempotent(text):
    assert fold(text) == unidecode(text)
    assert fold(fold(text)) == fold(text)


@settings(max_examples=300, deadline=None)
@given(french_text)
def test_offsets_always_cover_a_word_of_the_original(text):
    for token in FoldingTokenizer()(text, chars=True):
        assert 0 <= token.startchar < token.endchar <= len(text)
        assert fold(text[token.startchar:token.endchar]).lower().find(token.text.lower()) != -1


def test_lone_surrogates_fold_to_nothing_without_warning():
    assert fold("Ha\ud800ïfa") == "Haifa"
    assert analyze("Ha\udfffïfa") == analyze("Haïfa")


def test_fold_of_usual_and_rare_characters_mixed_is_unidecode():
    # French text's usual characters are replaced one by one, the rest by runs: both at once.
    text = "L’été — « Œuvre » à 20 °C, ½ tasse, 東京, ｆｕｌｌ, naïve\u00a0café… ﬁn"
    assert fold(text) == unidecode(text)
    assert fold("été") == "ete" and fold("Ça ½") == unidecode("Ça ½")


# Text made of elisions, apostrophes and word characters: where finding runs first and
# cutting their elided articles afterwards could go wrong.
elided_text = st.lists(st.sampled_from([*"lLdjqusQUnt'’ -.aeiz0", "jusqu", "Lorsqu", "qu'", "l'",
                                         "d’"]), max_size=30).map("".join)


# Words as first found: elided articles skipped by the one pattern that finds the words.
_ELIDED = "|".join(sorted(ELISIONS, key=len, reverse=True))
_WORD = re.compile(rf"(?:(?i:{_ELIDED})')*([A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)")


@settings(max_examples=500, deadline=None)
@given(st.one_of(elided_text, french_text))
def test_words_are_the_tokenizers_words(text):
    assert words(text) == [t.text for t in FoldingTokenizer()(text)]
    assert words(text) == _WORD.findall(fold(text))


# Separators of every kind around apostrophes: where splitting on what is no letter, digit
# or apostrophe could differ from the pattern.
separated_text = st.lists(st.sampled_from([*"la'’ \t\n_\x1c\x1f-.,0é", "''", "qu'", "d'",
                                            "\u00a0", "jusqu'"]), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(separated_text, elided_text, french_text))
def test_words_split_from_spaced_text_are_the_pattern_runs(text):
    assert words(text) == _WORD.findall(fold(text))


@settings(max_examples=300, deadline=None)
@given(st.one_of(elided_text, french_text))
def test_stem_all_is_term_of_each_word(text):
    found = words(text)
    assert list(stem_all(found)) == [FrenchFilter().term(w) for w in found]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab0-- .'–\u2010_\t\n,", "é-à", "x-", "A1"]),
                max_size=30).map("".join))
def test_compounds_are_the_hyphenated_words(text):
    backtracking = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
    found = {m.lower() for m in backtracking.findall(fold(text))}
    assert compounds(text) == " ".join(sorted(found))


# Spaced text as `words` cuts it an apostrophe at a time: runs of pieces joined by inner
# apostrophes, elided articles (of any case) among the pieces, anywhere in a word.
spaced_word = st.lists(st.sampled_from(["l", "L", "d", "D", "qu", "Qu", "jusqu", "lorsqu",
                                        "aujourd", "hui", "a", "0", "s", "x", "ll", "dl"]),
                       min_size=1, max_size=5).map("'".join)
spaced_text = st.lists(spaced_word, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(spaced_text)
def test_elisions_cut_an_apostrophe_at_a_time_are_the_patterns(text):
    assert words(text) == _WORD.findall(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"ab0- .'_\t", "--", "x-y", " -", "- ", "A-1"]),
                max_size=40).map("".join))
def test_pieces_around_each_hyphen_hold_the_hyphenated_words(text):
    backtracking = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
    assert compounds(text) == " ".join(sorted({m.lower() for m in backtracking.findall(text)}))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*"ab0-- .'–\u2010_\n", "é-à", "x-", "A1", "B-c"]),
                         max_size=20).map("".join), max_size=4))
def test_compounds_of_several_texts_are_each_texts_hyphenated_words(texts):
    # The texts are read as one: no word spans two of them, each word once, lowercased.
    backtracking = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
    found = {m.lower() for text in texts for m in backtracking.findall(fold(text))}
    assert compounds(*texts) == " ".join(sorted(found))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab éœŒ«»¼°½\u0301\u200b’…Æ\n", max_size=60), st.integers(0, 80))
def test_an_offset_map_read_until_an_offset_maps_as_the_whole(text, until):
    from search.analysis import OffsetMap, fold

    whole, part = OffsetMap(text), OffsetMap(text, until=until)
    for folded_index in range(min(until, len(fold(text)) - 1) + 1):
        assert part.original(folded_index) == whole.original(folded_index)


def test_stemmer_keeps_no_memo_of_its_own():
    """FrenchFilter remembers every word's term; PyStemmer's own memo (pruned each time
    it fills) is off, and the stems are the same."""
    import Stemmer

    from search.analysis import FrenchFilter

    french = FrenchFilter()
    assert french._stemmer.maxCacheSize == 0
    plain = Stemmer.Stemmer("french")
    words = [f"{w}s" for w in ("maison", "continuer", "nationalite", "article")] * 3
    assert [french._stemmer.stemWord(w) for w in words] == plain.stemWords(words)
