"""Building and updating test indexes in one call (a write session around the planner)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from indexer import planner
from search import open_index, open_writer

Sources = Sequence[str | os.PathLike[str]]


def build(index_dir: str | os.PathLike[str], sources: Sources, *, wait: float = 0.0,
          **options: Any) -> planner.Report:
    """`furet-index build` of `sources` into the Whoosh folder `index_dir`."""
    with open_writer(index_dir=index_dir, wait=wait) as writer:
        return planner.build(writer, sources, **options)


def update(index_dir: str | os.PathLike[str], sources: Sources, *, wait: float = 0.0,
           **options: Any) -> planner.Report:
    """`furet-index update` of the Whoosh folder `index_dir` from `sources`."""
    with open_writer(index_dir=index_dir, wait=wait) as writer:
        return planner.update(writer, sources, **options)


def pg_build(url: str, sources: Sources, **options: Any) -> planner.Report:
    """`furet-index build --backend postgresql` of `sources` into the database at `url`."""
    with open_writer(backend="postgresql", database_url=url) as writer:
        return planner.build(writer, sources, **options)


@contextmanager
def opened_generation(index_dir: str | os.PathLike[str]) -> Iterator[Any]:
    """The live generation of the Whoosh folder `index_dir` (its searcher and evaluator),
    the index closed afterwards."""
    index = open_index(index_dir)
    try:
        with index.view() as found:
            yield found
    finally:
        index.close()


def build_in_small_segments(index_dir: str | os.PathLike[str], sources: Sources) -> None:
    """`build` of `sources` in one process, a segment cut every 3,000 words: many small
    segments (a word's postings and positions spread over them)."""
    from search.whoosh import writer as whoosh_writer

    original = whoosh_writer.segment_words_limit
    whoosh_writer.segment_words_limit = lambda processes: 3000
    try:
        build(index_dir, sources, jobs=1)
    finally:
        whoosh_writer.segment_words_limit = original


def exact_forms_by_position(generation: Any) -> dict[int, dict[int, str]]:
    """Each document's exact forms by position, from Whoosh's own postings of an opened
    generation (`opened_generation`): what phrase tests draw their phrases from."""
    reader = generation.searcher.reader()
    words: dict[int, dict[int, str]] = {}
    for term in reader.lexicon("exact"):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        for docnum, positions in reader.postings("exact", term).items_as("positions"):
            for position in positions:
                words.setdefault(docnum, {})[position] = text
    return words


def random_phrases(texts: dict[int, dict[int, str]], count: int, rng: random.Random,
                   lengths: Sequence[int]) -> tuple[list[list[str]], list[str]]:
    """`count` phrases taken at random positions of the documents (`exact_forms_by_position`'s
    `texts`; each matches somewhere, its length drawn from `lengths`), then as many pairs of
    random words (side by side nowhere, perhaps); and the vocabulary, sorted, for more."""
    docs = sorted(texts)
    found: list[list[str]] = []
    while len(found) < count:
        words = texts[rng.choice(docs)]
        start = rng.choice(sorted(words))
        phrase = [words.get(start + i) for i in range(rng.choice(lengths))]
        if all(phrase):
            found.append(phrase)  # type: ignore[arg-type]
    vocabulary = sorted({w for words in texts.values() for w in words.values()})
    found += [[rng.choice(vocabulary), rng.choice(vocabulary)] for _ in range(count)]
    return found, vocabulary


@contextmanager
def opened_in_small_segments(index_dir: str | os.PathLike[str], sources: Sources
                             ) -> Iterator[Any]:
    """`build_in_small_segments` of `sources` into `index_dir`, then its live generation
    (`opened_generation`)."""
    build_in_small_segments(index_dir, sources)
    with opened_generation(index_dir) as found:
        yield found


@contextmanager
def evaluator_afresh(generation: Any) -> Iterator[Any]:
    """The generation's evaluator with no term kept, and as it was once used: its kept
    terms emptied and every document live again (a test may delete some)."""
    found = generation.evaluator
    found.kept.clear()
    try:
        yield found
    finally:
        found.kept.clear()
        found.live[:] = True
        found.deletions_changed()
