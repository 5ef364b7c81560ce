"""Site tag lists (« Mots-clés : … ») are tags, not text: out of bodies and snippets, kept
in the article's tags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.html import parse_page
from indexer.sources import read_articles, walk_sources
from search import open_backend

ROOT = Path(__file__).resolve().parent.parent
LABEL = re.compile(r"(?im)^\W*(mots[- ]cl[ée]s|tags|th[èe]mes|sujets)\s*:")


def _page(article: str) -> str:
    return (f"<html><head><title>Le titre</title></head><body><article><h1>Le titre</h1>"
            f"<p>{'Un paragraphe du texte de cet article, assez long pour en être un. ' * 3}"
            f"</p>{article}</article></body></html>")


def test_no_sample_body_holds_a_tag_list():
    articles = [a for source in walk_sources([ROOT / "samples"])
                for a in read_articles(source) if not isinstance(a, Exception)]
    assert len(articles) >= 42
    assert [a.id for a in articles if LABEL.search(a.body) or LABEL.search(a.lead)] == []
    listed = [a for a in articles if "/html/" in (a.source or "") and a.tags]
    assert len(listed) >= 6  # the pages that listed their tags keep them


@pytest.mark.parametrize(("html", "tags"), [
    ('<p class="mots-cles">Mots-clés : <a href="/s/a">athlétisme</a> <a href="/s/b">sprint'
     '</a> <a href="/s/c">record de France</a></p>', ["athlétisme", "sprint", "record de France"]),
    ('<div class="tags"><strong>Tags :</strong> <ul><li><a href="/t/1">climat</a></li>'
     '<li><a href="/t/2">COP29</a></li></ul></div>', ["climat", "COP29"]),
    ("<p>Thèmes : énergie, gaz naturel, inflation</p>", ["énergie", "gaz naturel", "inflation"]),
])
def test_a_tag_list_becomes_tags(html, tags):
    draft = parse_page(_page(html).encode(), location="page.html")
    assert draft["tags"] == tags
    assert not LABEL.search(draft["body"]) and tags[-1] not in draft["body"]


def test_a_paragraph_starting_like_a_label_stays():
    text = ("Sujets : les élèves de terminale ont planché ce matin sur la liberté, dont "
            "chacun a pensé ce qu’il voulait.")
    draft = parse_page(_page(f"<p>{text}</p>").encode(), location="page.html")
    assert text in draft["body"] and "tags" not in draft


def test_tags_already_known_are_not_repeated():
    page = _page('<p>Mots-clés : <a href="/a">Climat</a> <a href="/b">Bakou</a></p>')
    page = page.replace("<head>", '<head><meta name="keywords" content="climat, COP29">')
    assert parse_page(page.encode(), location="p.html")["tags"] == ["climat", "COP29", "Bakou"]


def test_snippets_never_show_a_tag_list(samples_index):
    backend = open_backend(index_dir=samples_index)
    for query in ("athlétisme", "finance climat", "transport maritime", "dépistage",
                  "solidarité", "pouvoir d'achat"):
        for hit in backend.search(query, per_page=50).hits:
            assert not LABEL.search(hit.snippet_html.replace("<mark>", "").replace(
                "</mark>", "")), (query, hit.snippet_html)
            assert "Mots-clés" not in hit.snippet_html, (query, hit.id)
    backend.close()
