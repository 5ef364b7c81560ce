"""Everything Furet does with Whoosh's private API, in one package, written for one version.

Whoosh keeps no promise about these names: they are checked against whoosh-reloaded
WRITTEN_FOR when the Whoosh store is opened (`check_version`), which is why setup.cfg pins
that exact version. Modules:

- `mapped`: segment files read through the memory map, without copies.
- `columns`: numeric and reference columns read as arrays (the facet table).
- `lengths`: a field's document lengths in a segment, read as an array.
- `lexicon`: a field's terms in a segment, read from Whoosh's term file in one pass.
- `codec`: Furet's codec, Whoosh's own with the exact fields' positions kept once, in the
  flat postings (search/whoosh/postings.py), and the lead and body stored apart
  (`StoredFields` reads a result's fields without them).
- `heads`: a result's stored head as a UTF-8 record, its sections and authors numbered in
  a front-coded table of the segment's names (the head column of PlainHeadCodec).
- `blocks`: Whoosh's posting blocks and term statistics written a field at a time.
- `writing`: the segment writer, field lengths, and the parts of a parallel build.
- `perdoc`: a segment's per-document values (stored fields, lengths, columns) handed to
  the codec's per-document writer a batch of documents at a time.
- here: the version check, and `segments_of`, the segments of a table of contents.
"""

from __future__ import annotations

from typing import Any

import whoosh

from search.errors import ConfigurationError
from search.whoosh.private.codec import StoredFields
from search.whoosh.private.heads import hit_fields
from search.whoosh.private.mapped import BufferStream, MappedFile, open_mapped
from search.whoosh.private.writing import (
    SegmentWriter,
    abandon_part,
    commit_segments,
    finish_part,
    length_column,
    open_part_writer,
)

__all__ = ["WRITTEN_FOR", "BufferStream", "MappedFile", "SegmentWriter", "StoredFields",
           "abandon_part",
           "check_version", "commit_segments", "finish_part", "hit_fields", "leaves_of",
           "length_column",
           "open_mapped", "open_part_writer", "segments_of"]

WRITTEN_FOR = "2.7.5"  # whoosh-reloaded


def check_version() -> None:
    """ConfigurationError unless the installed Whoosh is the one this module was written for."""
    found = whoosh.versionstring()
    if found != WRITTEN_FOR:
        raise ConfigurationError(
            f"whoosh-reloaded {found} is installed, and Furet's Whoosh store was written for "
            f"{WRITTEN_FOR} (it reads and writes Whoosh's segment files itself); install it "
            f"with: pip install 'whoosh-reloaded=={WRITTEN_FOR}'")


def leaves_of(reader: Any) -> list[tuple[Any, int]]:
    """A reader's (segment reader, first document number) pairs, in order: itself and 0
    when it reads one segment."""
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


def segments_of(ix: Any) -> list[Any]:
    """The segments of the index's current table of contents."""
    return list(ix._segments())
