"""Small files that cost a lot: the work they cause is bounded before it is done.

The attacks: a 72 KB `<title>` of separators (`mot - mot - …`, `a|a|…`) and a 121 KB
og:title cost 30 to 40 s of title clean-up while the write lock was held; a `.jsonl.gz` of
64 MiB of newlines (65 KB on disk) cost 72 s of CPU and was indexed as nothing, silently.
The tests count the work done (calls, reads), never time it: bench/hostile.py times it.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import indexer.pagemeta
from indexer import jsonfiles
from indexer.html import parse_page
from indexer.jsonfiles import read_lines
from indexer.sources import GZIP_RATIO, GZIP_SLACK, read_records, walk_sources
from search.errors import ArticleError
from tests.stores import WhooshStore

pytestmark = pytest.mark.reliability

MIB = 1024 * 1024
BODY = "<p>" + "Le conseil municipal de Rennes a voté le budget primitif. " * 10 + "</p>"


def page(head: str, h1: str = "Budget de Rennes") -> str:
    return (f"<html><head>{head}</head><body><article><h1>{h1}</h1>{BODY}</article>"
            "</body></html>")


@pytest.fixture
def squash_calls(monkeypatch) -> list[int]:
    """Count the passes of title clean-up (each is a pass over a title)."""
    calls = [0]
    squash = indexer.pagemeta.squash

    def counting(text: str) -> str:
        calls[0] += 1
        return squash(text)

    monkeypatch.setattr(indexer.pagemeta, "squash", counting)
    return calls


# ------------------------------------------------------------------ titles (point 4)


@pytest.mark.parametrize("head", [
    "<title>" + " - ".join(["mot"] * 18_000) + "</title>",  # 72 KB
    "<title>" + "|".join(["a"] * 36_000) + "</title>",  # 72 KB
    '<meta property="og:title" content="' + " - ".join(["mot"] * 30_000) + '">',  # 120 KB
    '<meta property="og:title" content="' + " — ".join(["Le Monde"] * 12_000) + '">'
    '<meta property="og:site_name" content="Le Monde">',
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "'
    + " · ".join(["x"] * 30_000) + '"}</script>',
])
def test_a_title_of_separators_is_refused_without_quadratic_work(head, squash_calls):
    with pytest.raises(ArticleError, match=r"title: [\d,]+ characters, more than the limit"):
        from indexer.records import make_article

        make_article(parse_page(page(head), location="bombe.html"), location="bombe.html",
                     default_id="bombe.html")
    assert squash_calls[0] <= 10  # a pass per separator would be 12,000 to 36,000


def test_a_long_h1_is_squashed_once_whatever_the_separators(squash_calls):
    title = "<title>" + " - ".join(["Budget"] * 300) + "</title>"  # 2,700 characters: too long
    short = "<title>" + " - ".join(["Rennes"] * 100) + "</title>"  # 900: cleaned up
    parse_page(page(title, h1="Rennes " * 20_000), location="a.html")
    parse_page(page(short, h1="Rennes " * 20_000), location="b.html")
    assert squash_calls[0] <= 2 * 100 + 10  # one pass per separator of the short title


def test_titles_under_the_limit_still_lose_the_site_name():
    head = ('<title>Budget de Rennes - Ouest-France</title>'
            '<meta property="og:site_name" content="Ouest-France">')
    assert parse_page(page(head, h1=""), location="a.html")["title"] == "Budget de Rennes"


# ------------------------------------------------------------------ JSON Lines (point 5)


def gzipped(path: Path, data: bytes) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(data)
    return path


def test_a_gzipped_newline_bomb_is_refused(runner, tmp_path):
    src = tmp_path / "articles"
    src.mkdir()
    bomb = gzipped(src / "vide.jsonl.gz", b"\n" * (64 * MIB))  # 65 KB on disk
    (src / "bon.jsonl").write_text(json.dumps(
        {"id": "bon", "title": "Budget", "body": "Le budget est voté."}) + "\n", "utf-8")
    store = WhooshStore(tmp_path / "index")
    result = store.run(runner, "build", str(src))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{bomb}: more than ") and "once decompressed, 50 times its " \
        f"{bomb.stat().st_size:,} bytes (a decompression bomb?); stopped after line" in line
    assert store.ids() == {"bon"}


FILLER = b'{"texte": "' + b"a" * 1000 + b'"}\n'  # a kilobyte a record, no title


@pytest.mark.parametrize("name, data, reason", [
    ("remplissage.jsonl.gz", FILLER * 64 * 1024, "a decompression bomb?"),
    ("tableau.json.gz", b"[" + b"{}," * (20 * MIB) + b"{}]", "a decompression bomb?"),
    ("page.html.gz", b"<html><body>" + b"<p>a</p>" * (8 * MIB), "a decompression bomb?"),
    ("espaces.jsonl", b" \n\n\t\r\n" * 100_000, "no record in 300,000 blank lines"),
    ("vide.jsonl", b"", "empty file"),
    ("vide.jsonl.gz", b"", "empty file"),
])
def test_files_that_expand_or_hold_nothing_are_reported(tmp_path, name, data, reason):
    path = tmp_path / name
    if name.endswith(".gz"):
        gzipped(path, data)
    else:
        path.write_bytes(data)
    [source] = list(walk_sources([path]))
    items = [item for _, item in read_records(source)]
    assert items and all(isinstance(item, ArticleError) for item in items)
    assert reason in str(items[-1]), items[-1]
    if name.endswith(".jsonl.gz"):  # read a line at a time up to the limit, not 65,536 lines
        limit = GZIP_SLACK + GZIP_RATIO * path.stat().st_size
        assert len(items) <= limit // len(FILLER) + 2 < 65_536 // 4
    else:
        assert len(items) == 1


def test_a_real_export_is_read_whole(tmp_path):
    rng = random.Random(17)
    words = ("le conseil municipal de Rennes a voté budget primitif hier soir après un long "
             "débat sur les transports la culture et les écoles maire adjoint opposition "
             "quartier travaux ligne métro bus vélo piscine marché").split()
    records = [{"id": f"a{n}", "title": f"Article {n}",
                "body": " ".join(rng.choice(words) for _ in range(200))} for n in range(3_000)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    path = gzipped(tmp_path / "export.jsonl.gz", text)
    assert 3 < len(text) / path.stat().st_size < 12  # as real exports compress
    [source] = list(walk_sources([path]))
    read = [item for _, item in read_records(source)]
    assert len(read) == 3_000 and not any(isinstance(i, ArticleError) for i in read)


class CountingStream(io.BufferedReader):
    """A file whose reads are counted."""

    calls = 0

    def peek(self, size: int = 0) -> bytes:
        CountingStream.calls += 1
        return super().peek(size)

    def read(self, size: int | None = -1) -> bytes:
        CountingStream.calls += 1
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        CountingStream.calls += 1
        return super().readline(size)


def test_blank_lines_are_skipped_by_the_buffer_full():
    data = b'{"a": 1}\n' + b"\n" * (4 * MIB) + b"  \n\t\n" * 1000 + b'  {"b": 2}\n\n'
    CountingStream.calls = 0
    lines = list(read_lines(CountingStream(io.BytesIO(data))))
    assert lines == [(1, b'{"a": 1}\n'), (4 * MIB + 2002, b'  {"b": 2}\n'),
                     (4 * MIB + 2003, b"")]  # the last blank line, to count them
    assert CountingStream.calls < 10_000  # a few a buffer, not one a line: 4 million lines


def test_line_numbers_and_ids_count_the_blank_lines(tmp_path):
    path = tmp_path / "trous.jsonl"
    path.write_text('{"title": "Un", "body": "Texte."}\n\n\n \n'
                    '{"title": 2, "body": "Texte."}\n\n'
                    '{"title": "Trois", "body": "Texte."}\n', "utf-8")
    [source] = list(walk_sources([path]))
    read = [item for _, item in read_records(source)]
    assert read[0].id == "trous.jsonl"
    assert str(read[1]).startswith(f"{path}:5: title: expected a string")
    assert read[2].id == "trous.jsonl#7"


def _given(lines: list[tuple[int, bytes | None]]) -> tuple[list[tuple[int, bytes | None]], int]:
    """The lines that can be records (white space alone is not) and the last number."""
    kept = [(n, line) for n, line in lines if line is None or (line and not line.isspace())]
    return kept, max((n for n, _ in lines), default=0)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # (set once)
@example([b'{"a": 1}', b"", b"  ", b"x" * 9, b"\t", b"y"], b"\n", 4)
@example([b"x" * 8, b"ab"], b"", 3)
@example([b" " * 20, b"z"], b"\n", 5)
@given(st.lists(st.one_of(st.binary(max_size=12), st.sampled_from([b"", b" ", b"\r", b" \t\x0b\x0c",
                                                                  b"x" * 8, b'{"a": 1}'])),
                max_size=30),
       st.sampled_from([b"", b"\n", b"\r\n"]), st.integers(1, 11))
def test_lines_read_by_blocks_are_those_read_one_at_a_time(monkeypatch, parts, end, block):
    """A plain file read by blocks gives the lines a line at a time gave (numbers, lines too
    long, the blank lines counted), whatever the blocks' size against the lines'."""
    data = b"\n".join(parts) + end
    monkeypatch.setattr(jsonfiles, "MAX_LINE_BYTES", 8)
    one_at_a_time = list(jsonfiles._lines_in_limit(io.BufferedReader(io.BytesIO(data), 8),
                                                   None))
    by_block = list(jsonfiles._lines_by_block(io.BytesIO(data), block, 8))
    assert _given(by_block) == _given(one_at_a_time)
    assert not any(line is not None and line.isspace() and line.endswith(b"\n")
                   for _, line in by_block)


def test_a_plain_file_is_read_by_blocks_and_a_compressed_one_a_line_at_a_time(tmp_path):
    lines = [json.dumps({"id": f"a{n}", "title": f"T {n}", "body": "x " * n}) + "\n"
             for n in range(3_000)]
    data = "".join(lines).encode()
    CountingStream.calls = 0
    read = list(read_lines(CountingStream(io.BytesIO(data))))
    assert read == [(n + 1, line.encode()) for n, line in enumerate(lines)]
    assert CountingStream.calls <= len(data) // jsonfiles.READ_BLOCK + 2
    CountingStream.calls = 0
    assert list(read_lines(CountingStream(io.BytesIO(data)), limit=len(data))) == read
    assert CountingStream.calls >= 3_000
