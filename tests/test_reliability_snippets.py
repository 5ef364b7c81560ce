"""Snippets and highlighted titles, for any text and any query (hypothesis).

- Well-formed: escaped text whose only markup is <mark>…</mark>, never nested.
- Faithful: without the marks and unescaped, a title is its original text exactly; a
  snippet is pieces of the original text in order, joined with "…".
- Sound: <mark> surrounds only a word (or a phrase) that matches the query's terms.
- Complete, for titles: every word of the text that matches a word of the query is marked.
(Folding and analyzer properties are in tests/test_analysis.py.)
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.analysis import FoldingTokenizer, FrenchFilter, words
from search.query import parse_query
from search.snippets import Terms, highlight, highlight_terms, mark_all, snippet

pytestmark = pytest.mark.reliability

STEMMER = FrenchFilter(stem=True, stop=True)
VOCABULARY = ["Haïfa", "haifa", "HAÏFA", "l’attaque", "L'ATTAQUE", "attaques", "attaquer",
              "États-Unis", "etats", "unis", "ville", "portuaire", "de", "la", "le", "les",
              "Gaza", "gaz", "œuvre", "Œuvres", "cœur", "ﬁn", "straße", "aujourd’hui",
              "jusqu’à", "qu’il", "1er", "2024", "Ⅻ", "İstanbul", "Mᵐᵉ", "naïve", "NAÏVE",
              "fusionnées", "fusionné", "a<b", "x>y", "&amp;", "<mark>", "</mark>", "<b>",
              '"', "'", "«", "»", "—", "-", ",", ".", ";", ":", "!", "?", "…", "\u00a0",
              "\u202f", "\t", "\n", "\n\n", "é", "e\u0301", "\U0001f600", "ǅ", "0", "ss"]
QUERY_WORDS = ["haifa", "Haïfa", "attaque", "attaq*", "etats-unis", "ville", "gaz", "gaza",
               "oeuvre", "coeur", "fin", "strasse", "naive", "fusionnees", "istanbul", "xii",
               "2024", "de", "la", "le", "qu", "aujourd'hui", "a", "b", "ss", "e"]
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)

tokens = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6))
texts = st.lists(tokens, max_size=120).map(lambda parts: " ".join(parts))
long_texts = st.lists(tokens, min_size=60, max_size=400).map(lambda parts: " ".join(parts))
clauses = st.one_of(
    st.sampled_from(QUERY_WORDS),
    st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3).map(
        lambda ws: '"' + " ".join(ws) + '"'),
    st.sampled_from(QUERY_WORDS).map(lambda w: "titre:" + w),
    st.sampled_from(QUERY_WORDS).map(lambda w: "-" + w),
    st.text(max_size=8),
)
queries = st.lists(clauses, min_size=1, max_size=4).map(" ".join)

_TAG = re.compile(r"</?mark>")


def terms_of(query: str) -> Terms:
    return highlight_terms(parse_query(query))


def marked_spans(html: str) -> list[str]:
    """The marked texts (unescaped); asserts the markup is well formed."""
    assert "<mark></mark>" not in html
    spans, inside, start = [], False, 0
    for tag in _TAG.finditer(html):
        if tag.group() == "<mark>":
            assert not inside, html  # never nested
            inside, start = True, tag.end()
        else:
            assert inside, html  # never a closing tag alone
            inside = False
            spans.append(unescape(html[start:tag.start()]))
    assert not inside, html
    bare = _TAG.sub("", html)
    assert "<" not in bare and ">" not in bare, html  # the only markup is <mark>
    assert not re.search(r"&(?!(?:amp|lt|gt);)", bare), html  # every & is an entity
    return spans


def plain(html: str) -> str:
    return unescape(_TAG.sub("", html))


def marked_intervals(html: str) -> list[tuple[int, int]]:
    """(start, end) of each marked text in the unescaped text."""
    found, pos, start = [], 0, 0
    for part in re.split(r"(</?mark>)", html):
        if part == "<mark>":
            start = pos
        elif part == "</mark>":
            found.append((start, pos))
        else:
            pos += len(unescape(part))
    return found


def word_matches(word: str, terms: Terms) -> bool:
    """True when a folded word is a query word: its exact form, a prefix, or its stem."""
    low = word.lower()
    return (low in terms.exact or any(low.startswith(p) for p in terms.prefixes)
            or STEMMER.term(word) in terms.stems)


def matches(span: str, terms: Terms) -> bool:
    """True when a marked text is a query word or a query phrase."""
    found = words(span)
    if tuple(w.lower() for w in found) in terms.phrases:
        return True
    return len(found) == 1 and word_matches(found[0], terms)


def assert_pieces_of(text: str, html: str, sources: list[str]) -> None:
    """The snippet's text is pieces of one of `sources`, in order, joined with "…"."""
    # Passages are joined by " … "; headings by " — " in an opening.
    pieces = [p.strip() for p in re.split(r"…| — ", plain(html))]
    for source in sources:
        pos, ok = 0, True
        for piece in filter(None, pieces):
            pos = source.find(piece, pos)
            if pos < 0:
                ok = False
                break
            pos += len(piece)
        if ok:
            return
    pytest.fail(f"{html!r} is not made of pieces of {sources!r}")


@SETTINGS
@given(text=texts, query=queries)
@example(text="Haïfa, l’attaque de Haïfa", query="haifa attaq*")
@example(text="a<b & x>y « Haïfa »", query='"a b" haifa')
@example(text="ﬁn de l’ﬁn İstanbul", query="fin istanbul")
@example(text="¼ et ½ de 1", query="1")  # a character folded into several words
def test_titles_are_marked_faithfully(text, query):
    terms = terms_of(query)
    html = mark_all(text, terms)
    spans = marked_spans(html)
    assert plain(html) == text
    assert all(matches(span, terms) for span in spans), (spans, terms)


@SETTINGS
@given(text=texts, query=st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3)
       .map(" ".join))
@example(text="Ⅻ et ﬁn, l’attaque", query="xii fin attaque")
def test_titles_mark_every_matching_word(text, query):
    terms = terms_of(query)
    intervals = marked_intervals(mark_all(text, terms))
    for token in FoldingTokenizer()(text, chars=True):
        if word_matches(token.text, terms):
            assert any(s <= token.startchar and token.endchar <= e for s, e in intervals), \
                (token.text, text[token.startchar:token.endchar], text, terms)


@pytest.mark.slow
@SETTINGS
@given(text=long_texts, query=queries, size=st.sampled_from([60, 200, 300]),
       fragments=st.integers(min_value=1, max_value=3))
def test_passages_are_pieces_of_the_text(text, query, size, fragments):
    terms = terms_of(query)
    html = highlight(text, terms, size=size, fragments=fragments)
    spans = marked_spans(html)
    if not html:
        return
    assert spans, html  # a passage is only chosen around a match
    assert all(matches(span, terms) for span in spans), (spans, terms)
    assert_pieces_of(text, html, [text])
    # A passage starting mid-sentence says so; else it starts a sentence or a paragraph.
    first = plain(html).split(" … ")[0].strip("…")
    at = text.find(first)
    assert html.startswith("…") or at == 0 or re.search(r"(?:[.!?…][»”)]?[ \t]+|\n)$",
                                                       text[:at]), (html, text[:at][-20:])


@pytest.mark.slow
@SETTINGS
@given(lead=texts, body=long_texts, query=queries)
def test_snippets_are_pieces_of_the_lead_and_body(lead, body, query):
    terms = terms_of(query)
    html = snippet(lead, body, terms)
    spans = marked_spans(html)
    assert all(matches(span, terms) for span in spans), (spans, terms)

    def flat(value: str) -> str:
        return re.sub(r"\s*\n\s*", " ", value.strip())

    assert_pieces_of(body, html, [flat(f"{lead} {body}"), flat(body or lead)])
