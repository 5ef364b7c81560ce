"""What an article brings that a terminal, a reader or a link could misread.

The attacks: file names holding escape codes (`ESC[2J` clears the cron log's terminal, an OSC
sequence retitles the window) reached stderr and stayed in ids; right-to-left overrides
(U+202E) reordered titles, authors, sections and ids ("Facture ‮fdp.exe"); URLs such as
`https:alert(1)` and `http://x/"><script>` were indexed, then refused by the site and
returned verbatim by the API.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from indexer.feeds import parse_feed
from indexer.html import parse_page
from indexer.records import make_article
from indexer.terminal import printable
from tests.stores import WhooshStore

pytestmark = pytest.mark.reliability

# What must never be printed as it is: C0 and C1 controls but newline, bidi controls.
UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                         "\u2066-\u2069\u2028\u2029]")
TEXT = "{title}\n\nLe conseil municipal a voté le budget primitif hier soir.\n"


# ------------------------------------------------------------------ terminal (point 6)


@pytest.mark.parametrize("text, shown", [
    ("\x1b[2J\x1b[Hvide.html", "\\x1b[2J\\x1b[Hvide.html"),
    ("\x1b]0;pwned\x07titre.txt", "\\x1b]0;pwned\\x07titre.txt"),
    ("\x9b31mrouge.txt", "\\x9b31mrouge.txt"),  # the 8-bit CSI
    ("Facture \u202efdp.exe.txt", "Facture \\u202efdp.exe.txt"),
    ("a\u2066b\u2069\u200f\u061c.txt", "a\\u2066b\\u2069\\u200f\\u061c.txt"),
    ("saut\nde\rligne\tet\u2028fin", "saut\\nde\\rligne\\tet\\u2028fin"),
    ("nul\x00 et suppr\x7f", "nul\\x00 et suppr\\x7f"),
    ("octet-\udcff-invalide", "octet-\\udcff-invalide"),
    ("Été à Besançon – « ok » 😀", "Été à Besançon – « ok » 😀"),
])
def test_printable_escapes_every_control_character(text, shown):
    assert printable(text) == shown
    assert not UNPRINTABLE.search(printable(text))


@pytest.fixture
def hostile_names(tmp_path: Path) -> Path:
    src = tmp_path / "articles"
    src.mkdir()
    (src / "\x1b[2J\x1b[Hvide.html").write_bytes(b"")  # rejected: its name is printed
    (src / "\x1b]0;pwned\x07titre.txt").write_text(TEXT.format(title="Titre"), "utf-8")
    (src / "Facture \u202efdp.exe.txt").write_text(TEXT.format(title="Facture"), "utf-8")
    (src / "\x9b31mrouge.txt").write_text(TEXT.format(title="Rouge"), "utf-8")
    return src


def test_escape_codes_in_file_names_never_reach_the_terminal(runner, hostile_names, tmp_path):
    store = WhooshStore(tmp_path / "index")
    result = store.run(runner, "build", str(hostile_names), "--verbose")
    assert result.exit_code == 1, result.output
    assert not UNPRINTABLE.search(result.stdout + result.stderr), result.stderr
    assert f"{hostile_names}/\\x1b[2J\\x1b[Hvide.html: empty file" in result.stderr
    assert "added \\x1b]0;pwned\\x07titre.txt (" in result.stderr
    # An id made from a file name is its name as printed: what the log shows is what to type.
    assert store.ids() == {"\\x1b]0;pwned\\x07titre.txt", "Facture \\u202efdp.exe.txt",
                           "\\x9b31mrouge.txt"}
    result = store.run(runner, "delete", "\x1b]0;pwned\x07titre.txt", "\\x9b31mrouge.txt")
    assert result.exit_code == 1 and "deleted 1" in result.stdout
    assert result.stderr == "\\x1b]0;pwned\\x07titre.txt: no article with this id or URL\n"


def test_show_and_failures_print_escaped_names(runner, hostile_names, tmp_path):
    from indexer.cli import main

    result = runner.invoke(main, ["show", str(hostile_names / "\x9b31mrouge.txt")])
    assert result.exit_code == 0 and "id         \\x9b31mrouge.txt" in result.stdout
    (hostile_names / "\x9b31mrouge.txt").unlink()
    (hostile_names / "\x1b]0;pwned\x07titre.txt").unlink()
    (hostile_names / "Facture \u202efdp.exe.txt").unlink()
    result = WhooshStore(tmp_path / "index").run(runner, "build", str(hostile_names))
    assert result.exit_code == 1
    assert not UNPRINTABLE.search(result.stdout + result.stderr), result.stderr
    assert f"Error: no article found in {hostile_names}" in result.stderr


# ------------------------------------------------------------------ bidi (point 11)


BIDI = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_stripped_from_every_field():
    article = make_article({
        "id": "id-\u202e1", "title": "Facture \u202efdp.exe", "lead": "Chapô \u2067x\u2069",
        "body": "Corps \u200fdu texte.\n\nSecond \u202bparagraphe\u202c.",
        "authors": ["Jean \u2066Dupont\u2069", "\u202eMarie"], "section": "\u202bSport\u202c",
        "tags": ["\u200eeurope", "ville\u061c"], "lang": "f\u202er",
    }, location="a.jsonl:1", default_id="a.jsonl")
    for value in article.to_json().values():
        assert not any(c in BIDI for c in json.dumps(value, ensure_ascii=False)), value
    assert article.id == "id-1" and article.title == "Facture fdp.exe"
    assert article.authors == ("Jean Dupont", "Marie") and article.section == "Sport"
    assert article.tags == ("europe", "ville") and article.lang == "fr"


def test_bidi_controls_are_stripped_from_pages_and_feeds():
    html = ("<html lang=fr><head><title>Facture \u202efdp.exe</title>"
            "<meta name=author content='Jean \u2067Dupont'></head><body><article>"
            "<h1>Facture \u202efdp.exe</h1><p>" + "Le texte \u202ede la facture. " * 20
            + "</p></article></body></html>")
    page = make_article(parse_page(html, location="p.html"), location="p.html",
                        default_id="p.html")
    assert page.title == "Facture fdp.exe" and page.authors == ("Jean Dupont",)
    assert not any(c in BIDI for c in page.body)
    feed = ("<rss version='2.0'><channel><title>F</title><item><title>Facture \u202efdp.exe"
            "</title><guid>g\u202e1</guid><category>\u202bSport</category><description>"
            "Le texte.</description></item></channel></rss>")
    [item] = parse_feed(feed.encode(), location="f.rss")
    article = make_article(item, location="f.rss", default_id="f.rss")
    assert (article.title, article.id, article.section) == ("Facture fdp.exe", "g1", "Sport")


# ------------------------------------------------------------------ URLs (point 12)


def record(url: str) -> dict[str, str]:
    return {"title": "Budget", "body": "Le budget est voté.", "url": url}


@pytest.mark.parametrize("url, reason", [
    ("https:alert(1)", "no host"),
    ('http://x/"><script>alert(1)</script>', "it holds '\"'"),
    ("javascript:alert(1)", "not an http(s) address"),
    ("https://x/'onmouseover='alert(1)'", "it holds \"'\""),
    ("https://x/a`b", "it holds '`'"),
    ("https://x/a\\b", "it holds '\\\\'"),
    ("https://exa mple.fr/", "it holds ' '"),
    ("https://x/a\u200bb", "it holds '\\u200b'"),  # a zero-width space, invisible in a link
    ("https://x/a\u00adb", "it holds '\\xad'"),  # an invisible soft hyphen
    ("http://x:99999/", "not a valid address"),
    ("http://[::1/", "not a valid address"),
    ("//exemple.fr/a", "not an http(s) address"),
    ("ftp://exemple.fr/a", "not an http(s) address"),
    ("http:///a", "no host"),
    ("https://exemple.fr/" + "a" * 2_000, "longer than 2,000 characters"),
])
def test_urls_a_link_could_not_carry_are_left_out(url, reason, caplog):
    with caplog.at_level(logging.INFO, logger="furet.indexer"):
        article = make_article(record(url), location="a.jsonl:3", default_id="a.jsonl#3")
    assert article.url == "" and article.id == "a.jsonl#3"  # still indexed, without its link
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith("a.jsonl:3: url ") and f"left out: {reason}" in message


@pytest.mark.parametrize("url", [
    "https://fr.wikipedia.org/wiki/Élysée", "HTTP://EXEMPLE.FR/a?b=1&c=2#suite",
    "https://exemple.fr/a%20b%22", "http://127.0.0.1:8080/a", "http://[::1]:80/a",
    "https://user@exemple.fr/a;b,c(d)*e!f$g+h",
])
def test_urls_a_link_can_carry_are_kept(url, caplog):
    with caplog.at_level(logging.INFO, logger="furet.indexer"):
        article = make_article(record(url), location="a.jsonl:3", default_id="a.jsonl#3")
    assert article.url == url and article.id == url and not caplog.records


def test_a_bad_url_is_said_with_verbose_and_the_article_indexed(runner, tmp_path):
    src = tmp_path / "articles"
    src.mkdir()
    (src / "a.jsonl").write_text(json.dumps({"id": "a", **record("https:alert(1)")}) + "\n"
                                 + json.dumps({"id": "b", **record('http://x/"><b>')}) + "\n",
                                 "utf-8")
    store = WhooshStore(tmp_path / "index")
    quiet = store.run(runner, "build", str(src))
    assert quiet.exit_code == 0 and quiet.stderr == "", quiet.output
    verbose = store.run(runner, "build", str(src), "--verbose")
    assert verbose.exit_code == 0
    assert f"{src}/a.jsonl:1: url 'https:alert(1)' left out: no host" in verbose.stderr
    assert f"{src}/a.jsonl:2: url 'http://x/\"><b>' left out: it holds" in verbose.stderr
    with store.opened() as backend:
        assert {hit.id: hit.url for hit in backend.search("budget").hits} == \
            {"a": None, "b": None}


def test_pages_and_feeds_take_the_first_address_that_can_be_kept():
    html = ('<html><head><title>Budget</title><link rel="canonical" href="http://x/&quot;>">'
            '<meta property="og:url" content="https://exemple.fr/budget"></head><body>'
            "<article><h1>Budget</h1><p>" + "Le budget est voté. " * 20 + "</p></article>"
            "</body></html>")
    assert parse_page(html, location="p.html")["url"] == "https://exemple.fr/budget"
    feed = ("<rss version='2.0'><channel><title>F</title><item><title>Budget</title>"
            "<link>javascript:alert(1)</link><guid>https://exemple.fr/b</guid>"
            "<description>Le budget.</description></item></channel></rss>")
    [item] = parse_feed(feed.encode(), location="f.rss")
    assert item["url"] == "https://exemple.fr/b"
