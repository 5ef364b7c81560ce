"""The content hash put together from the string encoder is the hash of the JSON dump."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from search.article import Article, content_hash


def _hash_of_json(article: Article) -> str:
    """The hash as first written: the JSON dump of the article's fields."""
    data = {name: value.isoformat() if isinstance(value, datetime) else
            list(value) if isinstance(value, tuple) else value
            for name, value in vars(article).items() if name not in ("source", "hash")}
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ["", "\"quoted\" \\ back", "ligne\nnouvelle\t\x00", "L’été « Œuvre »", "\u2028\u2029"])
dates = st.none() | st.datetimes(timezones=st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]))
names = st.tuples() | st.lists(text, max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.builds(Article, id=text, title=text, body=text, url=text, lead=text,
                 published=dates, modified=dates, authors=names, section=text, tags=names,
                 lang=text, source=text))
def test_hash_is_the_hash_of_the_json_dump(article):
    assert content_hash(article) == _hash_of_json(article) == article.hash


def test_values_of_other_types_are_hashed_the_general_way():
    odd = Article(id="a", title="t", body="b", authors="Une, Deux",  # type: ignore[arg-type]
                  tags=["x"], published=datetime(2020, 1, 2, tzinfo=UTC))
    assert content_hash(odd) == _hash_of_json(odd)
    numbered = Article(id=3, title="t", body="b")  # type: ignore[arg-type]
    assert content_hash(numbered) == _hash_of_json(numbered)
    mapped = Article(id="m", title="t", body="b", authors={"A": 1})  # type: ignore[arg-type]
    assert content_hash(mapped) == _hash_of_json(mapped)


def test_hash_of_a_known_article_is_unchanged():
    # The hash older indexes hold for this article: `update` compares with it.
    article = Article(id="x", title="Titre", body="Corps « été »", authors=("A", "B"),
                      published=datetime(2024, 5, 1, tzinfo=UTC))
    assert article.hash == "676be97335d8bf62010d94438c525387"


def test_empty_values_of_other_types_are_hashed_the_general_way():
    for odd in (Article(id="a", title="t", body="b", lead=None, url=None),  # type: ignore[arg-type]
                Article(id="a", title="t", body="b", authors=[], tags=[]),  # type: ignore[arg-type]
                Article(id="a", title="t", body="b", published="", modified=0)):  # type: ignore[arg-type]
        assert content_hash(odd) == _hash_of_json(odd)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries(
    {"id": text, "title": text, "body": text},
    optional={"url": text, "lead": text, "published": dates, "modified": dates,
              "authors": names, "section": text, "tags": names, "lang": text, "source": text,
              "hash": st.sampled_from(["", "given"])}))
def test_article_of_checked_values_is_the_article(values):
    made, built = Article.of_checked(**values), Article(**values)
    assert made == built
    assert vars(made) == vars(built) and list(vars(made)) == list(vars(built))
    assert made.hash == built.hash and hash(made) == hash(built)


def test_article_of_checked_values_refuses_what_article_refuses():
    for values in ({"id": "a", "title": "t"}, {"id": "a", "title": "t", "body": "b", "x": 1}):
        try:
            Article(**values)
        except TypeError as err:
            expected = str(err)
        try:
            Article.of_checked(**values)
        except TypeError as err:
            assert str(err) == expected
        else:
            raise AssertionError(f"{values} made an article")
