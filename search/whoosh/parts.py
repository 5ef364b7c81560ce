"""The parts of a build written by worker processes, and the memory a build may use.

Each worker (indexer/parallel.py) opens a `Part`: a segment writer of the build being
written, which starts a new segment whenever its pooled words reach its share of
FURET_BUILD_MEMORY_MB, and hands the parent its segments (`Segments`) to commit at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.article import Article
from search.faults import checkpoint
from search.settings import int_setting
from search.whoosh.documents import to_document
from search.whoosh.layout import TMP_SUFFIX, open_build
from search.whoosh.private import abandon_part, finish_part, open_part_writer
from search.whoosh.writing_errors import WriteErrors
from search.writer import Part, PartMaker

__all__ = ["BUILD_MEMORY_MB", "LIMIT_MB", "Parts", "Segments", "build_memory_mb",
           "segment_words_limit"]

LIMIT_MB = 256  # memory of one segment writer before it spills postings to disk
# Memory a build may use, all its processes together (FURET_BUILD_MEMORY_MB): each process
# writes a segment whenever its pooled words reach its share. Writing one takes about 4.5
# times what its words take, on top of a process's own ~150 MB (six times before the
# searched fields' Whoosh postings were read from the flat ones instead of pickled, and
# grouping released the pooled words); the parent (~75 MB) and what each process keeps per
# article (on disk: indexer/spill.py) do not grow with the corpus, but a worker's peak
# creeps up a little with it. With 850 and 2 processes the whole tree peaked at 761 MB
# for 90,078 legi-fr articles (4 segments; 746 MB and 6 segments at six times). With
# six times and 900: 907 MB at 90,078 articles, 973 MB at 300,000 and 1,042 MB at
# 1,000,000 (workers 505 MB for a share of 450). Every segment costs each query a little
# (about 29,000 legi-fr articles a segment per process at 850).
BUILD_MEMORY_MB = 850
_PROCESS_MB = 150
_FLUSH_FACTOR = 4.5


def build_memory_mb() -> int:
    """FURET_BUILD_MEMORY_MB, else BUILD_MEMORY_MB (ConfigurationError if not a number)."""
    return int_setting("FURET_BUILD_MEMORY_MB", BUILD_MEMORY_MB, 1,
                       f"a number of megabytes, such as {BUILD_MEMORY_MB}")


def segment_words_limit(processes: int) -> int:
    """Bytes of pooled words after which a build process writes its segment."""
    share = build_memory_mb() / max(1, processes) - _PROCESS_MB
    return int(max(share / _FLUSH_FACTOR, 1) * 2**20)


class Segments:
    """The segments one worker wrote, in order: what the writer adopts (picklable)."""

    def __init__(self, segments: list[Any], sizes: list[int]) -> None:
        self.segments = segments
        self.sizes = sizes

    def delete_document(self, number: int) -> None:
        """Delete the `number`th article this worker added."""
        for segment, size in zip(self.segments, self.sizes, strict=True):
            if number < size:
                segment.delete_document(number)
                return
            number -= size
        raise IndexError(number)


class _Part(Part):
    def __init__(self, build: str, limitmb: int, processes: int) -> None:
        self.build = Path(build)
        self.limitmb = limitmb
        with WriteErrors(self.build):
            self.ix = open_build(self.build)
            self.writer = open_part_writer(self.ix, limitmb)
        self.words_limit = segment_words_limit(processes)
        self.count = 0
        self.in_segment = 0
        self.done: list[Any] = []
        self.sizes: list[int] = []

    def add(self, article: Article, path: str) -> int:
        with WriteErrors(self.build):
            self.writer.add_document(**to_document(article, path, pooled=True))
            self.in_segment += 1
            if self.writer.columns_nbytes() > self.words_limit:
                self._finish_segment()
                self.writer = open_part_writer(self.ix, self.limitmb)
        self.count += 1
        if self.count == 1:
            checkpoint("adding")
        return self.count - 1

    def _finish_segment(self) -> None:
        segment = finish_part(self.writer, empty=not self.in_segment)
        if segment is not None:
            self.done.append(segment)
            self.sizes.append(self.in_segment)
        self.in_segment = 0

    def finish(self) -> Any:
        with WriteErrors(self.build):
            self._finish_segment()
        return Segments(self.done, self.sizes) if self.done else None

    def abandon(self) -> None:
        abandon_part(self.writer)


class Parts(PartMaker):
    """Opens a segment of the build in a worker process."""

    def __init__(self, build: str, limitmb: int, processes: int) -> None:
        self.build = build
        self.limitmb = limitmb
        self.processes = processes

    def open(self) -> Part:
        return _Part(self.build, self.limitmb, self.processes)

    def scratch(self) -> str:
        # Beside the build, named so that clean_index_dir removes it after a crash.
        return self.build.removesuffix(TMP_SUFFIX) + ".rows" + TMP_SUFFIX
