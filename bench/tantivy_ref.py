"""The speed limit to aim at: tantivy (Rust, through its Python package), when installed.

Configured like Furet where it can be: lowercase, ASCII folding, French stop words and
Snowball French stemming; title and body fields; top-10 by BM25, snippets from the body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.corpus import text_of

try:
    import tantivy
except ImportError:  # an optional column of the benchmark
    tantivy = None

__all__ = ["available", "build", "Searcher"]


def available() -> bool:
    return tantivy is not None


def _schema() -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=True, tokenizer_name="fr")
    builder.add_text_field("body", stored=True, tokenizer_name="fr")
    return builder.build()


def _open(path: Path) -> Any:
    index = tantivy.Index(_schema(), path=str(path))
    analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.ascii_fold())
                .filter(tantivy.Filter.stopword("french"))
                .filter(tantivy.Filter.stemmer("french"))
                .build())
    index.register_tokenizer("fr", analyzer)
    return index


def build(records: list[dict[str, Any]], path: Path) -> None:
    """Index `records` into a new tantivy index in the folder `path`."""
    path.mkdir(parents=True, exist_ok=True)
    index = _open(path)
    writer = index.writer(heap_size=200_000_000, num_threads=2)
    for r in records:
        writer.add_document(tantivy.Document(id=r["id"], title=r.get("title", ""),
                                             body=text_of(r)))
    writer.commit()
    writer.wait_merging_threads()


class Searcher:
    """Top-10 queries on a tantivy index, with or without snippets."""

    def __init__(self, path: Path) -> None:
        self.index = _open(path)
        self.index.reload()
        self.searcher = self.index.searcher()
        self.schema = _schema()

    def search(self, query: str, *, snippets: bool = False) -> list[Any]:
        try:
            parsed = self.index.parse_query(query, ["title", "body"])
        except ValueError:
            return []
        hits = self.searcher.search(parsed, 10).hits
        if not snippets:
            return hits
        generator = tantivy.SnippetGenerator.create(self.searcher, parsed, self.schema, "body")
        return [generator.snippet_from_doc(self.searcher.doc(address)).to_html()
                for _, address in hits]
