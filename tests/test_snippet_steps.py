"""A page's snippets made a step at a time, and the steps made cheaper, give what the code
before them gave (tests/snippets_before.py), byte for byte: the page's texts matched, then
their passages chosen, then joined (`Highlighter.snippets`); a phrase of plain words found
by one `startswith`; a passage's cut without its sentence patterns where no mark is near;
the ellipses' checks on the characters at a passage's ends; a passage scored without
bisecting when it holds no other match; no third passage cut when two are kept; a long
text with many matches made one line a break only as far as its chunks are read."""

from __future__ import annotations

import pytest
import snippets_before as before
from hypothesis import example, given, settings
from hypothesis import strategies as st
from snippet_texts import queries_of, terms_of, texts_of

from bench.queries import generate, generate_rare
from search import open_index, snippets
from search.snippets import CHUNK_CHARS, ENOUGH_MATCHES, Highlighter

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)

# French text's pieces: accents, characters folding to several (œ « » ¼ ° …), apostrophes,
# blank space of every kind around line breaks, sentence and clause marks, & < >.
PIECES = ["Haïfa", "HAÏFA", "l’Œuvre", "L'ŒUVRE", "œuvres", "oeuvre de", "Œuvre  De",
          "œuvre-de", "oeuvre de'", "oeuvre de'la", "d'oeuvre", "ÉTÉ", "été", "À", "Ça",
          "«", "»", "« ", " »", "…", "—", "―", "°", "n°", "¼", "§", "€", "’", "'", " ",
          "\u00a0", "\u202f", "\t", "\n", "\n\n", " \n ", "\t\n\n \n", ".", ". ", "! ",
          "? ", "… ", ".» ", ".) ", ",", ", ", "; ", " : ", "&", "<b>", "gaz", "GAZ",
          "Article", "de", "la", "12", "abcdefghijklmnopqrstuvwxyz"]
WORDS = ["haifa", "oeuvre", "ete", "ca", "gaz", "article", "de", "la", "12", "oeuv*",
         "gaz*"]

THIRD_KEPT = ('abcdefghij   klmnopqx Il dit. Haïfa; gaz: œuvre.\nx'
              'Il dit. xIl dit. l’œuvre, gazabcdefghij\nIl dit. ga'
              'zx klmnopq\nxgaz\nxLe gaz de Haïfa.gazklmnopq« gaz »'
              'Le gaz de Haïfa.abcdefghij Haïfa; gaz: œuvre.x« ga'
              'z »Haïfa; gaz: œuvre.l’œuvre, gazgazabcdefghij\nklm'
              'nopqx\nabcdefghijHaïfa; gaz: œuvre.\nxabcdefghij\nLe '
              'gaz de Haïfa.gaz\n« gaz »\nabcdefghij\nx« gaz »Haïfa;'
              ' gaz: œuvre.klmnopq\ngazHaïfa; gaz: œuvre.\nabcdefgh'
              'ijLe gaz de Haïfa.')
THIRD_CUT_BACK = ('Le gaz de Haïfa.Le gaz de Haïfa.\n« gaz » klmnopqkl'
                  'mnopq\nklmnopq« gaz »gazklmnopqxLe gaz de Haïfa.abc'
                  'defghijIl dit.\nIl dit. l’œuvre, gaz\nIl dit. Le gaz'
                  ' de Haïfa.gaz\nabcdefghij\nLe gaz de Haïfa. Haïfa; g'
                  'az: œuvre.\nklmnopq\nklmnopqabcdefghijl’œuvre, gaz\nk'
                  'lmnopq\n« gaz »gazklmnopq« gaz » xklmnopqHaïfa; gaz'
                  ': œuvre.gazklmnopqHaïfa; gaz: œuvre.\nklmnopql’œuvr'
                  'e, gazabcdefghij\nl’œuvre, gazabcdefghijabcdefghij '
                  'klmnopq« gaz »\nklmnopqabcdefghij')
TEXTS = texts_of(PIECES, 140)
QUERIES = queries_of(WORDS)
HITS = st.lists(st.tuples(st.sampled_from(["", "Haïfa \n", "Le gaz", "L’Œuvre."]), TEXTS),
                max_size=6)


def _before(hits: list[tuple[str, str]], query: str, size: int) -> list[str]:
    terms = terms_of(query)
    return [before.snippet(lead, body, terms, size=size) for lead, body in hits]


@SETTINGS
@given(hits=HITS, query=QUERIES, size=st.sampled_from([40, 100, 200]))
@example(hits=[("", "Le gaz. Haïfa, gaz\n\n l’œuvre de la ville"), ("Le gaz", "")],
         query='haifa "oeuvre de" gaz', size=200)
def test_a_page_s_snippets_made_a_step_at_a_time_are_those_before(hits, query, size):
    assert Highlighter(terms_of(query)).snippets(hits, size=size) == \
        _before(hits, query, size)


@SETTINGS
@given(text=TEXTS, query=QUERIES)
@example(text="l’œuvre de'la ville, oeuvre de' quartier", query='"oeuvre de"')
@example(text="Œuvre  De et œuvre-de, oeuvre de", query='"oeuvre de"')
@example(text="l'oeuvre d'oeuvre, oeuvre d' autre", query='"oeuvre d"')
def test_phrases_of_plain_words_match_where_they_did(text, query):
    """A phrase's words one space apart are found by one `startswith`, and match only where
    the last word ends (not before an apostrophe and a letter)."""
    terms = terms_of(query)
    marks = Highlighter(terms)
    assert marks.matches(text) == before.find_matches(text, terms)
    assert marks.snippet("", text) == before.snippet("", text, terms)


@st.composite
def _passage(draw):
    """A text, a line of it (its paragraph) and a passage inside: start <= first <= last
    <= end, as `_windows` gives `_cut`."""
    text = draw(TEXTS.filter(bool))
    at = draw(st.integers(0, len(text) - 1))
    top = text.rfind("\n", 0, at) + 1
    bottom = text.find("\n", at)
    bottom = len(text) if bottom == -1 else bottom
    start, first, last, end = sorted(draw(st.lists(st.integers(top, bottom), min_size=4,
                                                   max_size=4)))
    return text, start, end, first, last, (top, bottom)


@SETTINGS
@given(passage=_passage())
@example(passage=("Le gaz. Haïfa et la ville", 2, 20, 12, 17, (0, 25)))
@example(passage=("x" * 70 + "! Haïfa, gaz et l’œuvre", 65, 90, 80, 85, (0, 93)))
@example(passage=("x" * 30 + ", " + "y" * 40 + " Haïfa gaz", 70, 81, 73, 78, (0, 82)))
def test_a_passage_is_cut_where_it_was(passage):
    """Without a sentence mark from a little before a passage to its first match, its cut
    tries none of the sentence patterns: the same bounds."""
    assert snippets._cut(*passage) == before._cut(*passage)


@st.composite
def _passages(draw):
    """A text, one to three passages in order inside its paragraphs, and spans inside."""
    text = draw(TEXTS.filter(lambda t: len(t) > 2))
    bounds = sorted(set(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=6))))
    passages = []
    for start, end in zip(bounds[::2], bounds[1::2], strict=False):
        top = text.rfind("\n", 0, start) + 1
        bottom = text.find("\n", max(start, end - 1))
        passages.append((start, end, (top, len(text) if bottom == -1 else bottom)))
    if not passages:
        passages = [(0, len(text), (0, len(text)))]
    spans = [(start, start + 1) for start, end, _ in passages if end > start]
    return text, passages, spans


@SETTINGS
@given(drawn=_passages())
@example(drawn=("Le gaz.\t\nHaïfa", [(9, 14, (0, 14))], [(9, 10)]))
@example(drawn=("Le gaz.»\nHaïfa", [(0, 7, (0, 14))], [(0, 1)]))
@example(drawn=("Le gaz » Haïfa", [(0, 8, (0, 14))], [(0, 1)]))
def test_a_snippet_s_ellipses_are_those_before(drawn):
    """The ellipsis opening a passage mid-sentence and the one after a passage ending
    mid-sentence: checked on the characters at its ends first."""
    text, passages, spans = drawn
    assert snippets._join(text, passages, spans) == \
        before._join(text, passages, lambda start, end: before._render(text, start, end,
                                                                        spans))


@SETTINGS
@given(text=TEXTS, query=QUERIES, size=st.sampled_from([30, 60, 200]),
       keep=st.sampled_from([1, 2, 3, 4]))
@example(text="gaz. " * 40 + "Haïfa gaz " * 3 + "x " * 80 + "gaz Haïfa",
         query="gaz haifa", size=60, keep=2)
# Three passages chosen, the third after the first two: all three kept when three are.
@example(text=THIRD_KEPT, query="oeuvre", size=60, keep=3)
# The third passage's window starts after the first two, its cut before the second's end.
@example(text=THIRD_CUT_BACK, query="gaz*", size=30, keep=2)
def test_the_passages_kept_are_those_before(text, query, size, keep):
    """Passages holding no other match scored without bisecting; with two kept, no
    passage cut once one would be chosen third after them."""
    text = before.one_line_break(text)
    spans = before.find_matches(text, terms_of(query))
    if spans:
        assert snippets._windows(text, spans, size, keep=keep) == \
            before._windows(text, spans, size)[:keep]


LONG_PIECES = ["Le gaz de Haïfa.", "gaz", "l’œuvre, gaz", " ", " ", "\n", "\n\n \t",
               " \n", "abcdefghij", "klmnopq", "Haïfa; gaz: œuvre.", "« gaz »"]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(text=texts_of(LONG_PIECES, 200), query=st.sampled_from(["gaz", "haifa gaz",
                                                                 "oeuvre", "gaz*"]),
       chunk=st.sampled_from([40, 100, 300]), size=st.sampled_from([100, 200]))
@example(text=("gaz gaz\n" * 20) + "Haïfa " * 50, query="gaz", chunk=40, size=100)
def test_a_long_text_of_many_matches_is_made_from_its_first_lines_as_before(
        text, query, chunk, size):
    """A long text whose chunks hold ENOUGH_MATCHES: its first lines made one line a
    break, read as the whole was, whatever the blank space and chunk size."""
    terms = terms_of(query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snippets, "CHUNK_CHARS", chunk)
        patch.setattr(before, "CHUNK_CHARS", chunk)
        assert Highlighter(terms).snippet("", text, size=size) == \
            before.snippet("", text, terms, size=size)


def test_a_long_article_of_a_frequent_word_is_not_made_one_line_a_break_whole(
        monkeypatch):
    lines = [f"Le gaz {n} de la ville.\n\n \t" for n in range(40)] + \
        ["Haïfa et l’œuvre de la ville, sans lui.\n"] * 4000
    text = "".join(lines)
    assert len(text) > 10 * CHUNK_CHARS
    terms = terms_of("gaz")
    made = []
    breaking = snippets.one_line_break
    monkeypatch.setattr(snippets, "one_line_break",
                        lambda text: made.append(len(text)) or breaking(text))
    shown = Highlighter(terms).snippet("", text)
    assert shown == before.snippet("", text, terms)
    assert shown.count("<mark>") >= 2
    assert made and max(made) < 3 * CHUNK_CHARS  # its first lines only
    assert len(before.find_matches(text, terms, enough=ENOUGH_MATCHES)) >= ENOUGH_MATCHES


def test_every_sample_page_made_a_step_at_a_time_is_the_one_before(samples_index):
    """Each page of the samples (every article a hit) for the rare words, pairs and
    phrases bench/run.py would ask of them, and its main set: the snippets of the code
    before, article for article."""
    index = open_index(samples_index)
    with index.view() as generation:
        articles = [generation.stored.whole(docnum)
                    for docnum in range(generation.evaluator.size)]
    records = [{"title": a.get("title", ""),
                "text": f"{a.get('lead', '')}\n{a.get('body', '')}"} for a in articles]
    queries = [q["text"] for q in generate_rare(records, count=60)] + \
        [q["text"] for q in generate(records, count=30)]
    hits = [(a.get("lead", ""), a.get("body", "")) for a in articles]
    marked = 0
    for query in queries:
        shown = Highlighter(terms_of(query)).snippets(hits)
        assert shown == _before(hits, query, 200), query
        marked += sum("<mark>" in snippet for snippet in shown)
    assert len(articles) > 30 and marked > 100
