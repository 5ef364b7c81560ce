"""What opening a generation needs, written once when the generation is committed.

Opening a generation built, in every process, tables of the whole index: the term
directory (search/whoosh/directory.py: every term of every segment), the facet table
(search/whoosh/facets.py: every document's section, dates and authors) and the hyphenated
words (search/whoosh/spelling.py). At a million articles in 37 segments that was 10 to 18
seconds before a new `furet-serve` worker answered, and each worker held its own copy.
They depend only on the generation's segments, so the writer makes them once, after each
commit, into one file in the build folder:

    _<indexname>_<generation>.prepared
    b"FURETPR1", header length (uint64), header (JSON: the generation, its segments' ids
    and document counts, each array's offset, type and length, the compressed arrays'
    lengths, the CRC-32 of the arrays), then the arrays, 8-byte aligned, little-endian

written to a temporary file, fsynced, renamed into place and the folder fsynced, like the
rest of the index; older generations' files are removed then (a process still reading one
keeps its map). A reader maps the file of the generation it opens and checks that its
segments are the generation's: the arrays are used in place (shared by every process),
strings through MappedStrings. When the file is missing, damaged or of other segments (an
index written before it existed, a writer killed before it was renamed), the tables are
built in memory as before: nothing depends on the file but the time to open.

An update's generation shares most of its segments with the previous one: its file is
made from the previous generation's (search/whoosh/carried.py: the kept segments' parts
carried over, only the new segments read, the same bytes as from scratch), which holds
for that which segments hold each author and each hyphenated word. A previous file that
is missing, damaged (its checksum is verified then; readers do not), written before
these arrays or of no shared segment gives tables made from scratch.

The facet names (legi-fr's 22,293 section paths: 6.3 MB, whatever the index's size) are
stored zlib-compressed (0.5 MB) and decompressed when the file is opened (20 ms): every
other array is used in place.

The file is written for generations that open slowly without it: at least
`FURET_PREPARED_SEGMENTS` segments (default 8; 0: always) or PREPARED_DOCUMENTS documents.
A smaller index opens in a fraction of a second anyway (90,078 articles in 4 segments:
about 0.3 s), and the file would add about 6 % to its size (15 MB of 257).
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from search.faults import checkpoint
from search.settings import int_setting
from search.whoosh.carried import carried_tables, narrow, open_old, release_leaf
from search.whoosh.directory import FieldDirectory, TermDirectory, memberships
from search.whoosh.layout import TMP_SUFFIX, fsync_dir
from search.whoosh.postings import segment_postings
from search.whoosh.private import leaves_of, segments_of
from search.whoosh.private.lexicon import field_terms
from search.whoosh.strings import MappedStrings, joined

if TYPE_CHECKING:
    from search.whoosh.facets import FacetTable

__all__ = ["EXTENSION", "PREPARED_DOCUMENTS", "PREPARED_SEGMENTS", "Prepared", "prepared_name",
           "prepared_segments", "read_prepared", "write_prepared"]

PREPARED_SEGMENTS = 8  # a generation of at least this many segments gets its file...
PREPARED_DOCUMENTS = 500_000  # ...and one of at least this many documents

EXTENSION = ".prepared"
_MAGIC = b"FURETPR1"
_DIRECTORY = ("segments", "numbers", "begins", "frequencies")
_FACETS = ("section", "year", "month", "dates", "author_docs", "author_codes")
_NAMES = ("section_names", "author_names")
_COMPRESSED = frozenset(f"facet:{name}" for name in _NAMES)
_CRC_PLACEHOLDER = "--------"  # 8 characters, replaced by the arrays' CRC-32 in hex

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A generation's tables, read from its prepared file (arrays over the file's map)."""

    fields: dict[str, FieldDirectory]
    facets: FacetTable
    compounds: MappedStrings


def prepared_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}{EXTENSION}"


def _segments(reader: Any) -> list[list[Any]]:
    """[segment id, documents] of each segment of a reader, in order."""
    leaves = leaves_of(reader)
    return [[leaf.segment().segment_id(), leaf.doc_count_all()] for leaf, _ in leaves]


def toc_segments(ix: Any) -> list[list[Any]]:
    """[segment id, documents] of each segment of the index's latest generation, read from
    its table of contents (what `_segments` reads from a reader of it, without opening one)."""
    return [[segment.segment_id(), segment.doc_count_all()] for segment in segments_of(ix)]


def _tables(searcher: Any, storage: Any) -> dict[str, Any]:
    """Every array of the prepared file, by name, made as a reader makes them in memory.

    Each pass reads a part of every segment through its map: each segment's pages are
    released once read (the term tables, columns and hyphenated words of 160 segments
    were 830 MB of mapped pages counted in the process's memory at once)."""
    # (the facets' and the spelling's modules load the query code: imported when a
    # generation is large enough to get its file, never by a writer that only builds)
    from search.whoosh.facets import FacetTable

    reader = searcher.reader()
    leaves = leaves_of(reader)

    def walk() -> Iterator[tuple[Any, int]]:
        for leaf, offset in leaves:
            yield leaf, offset
            release_leaf(storage, leaf)

    directory = TermDirectory(segment_postings(leaf) for leaf, _ in walk())
    arrays: dict[str, Any] = {}
    for fieldname, field in directory.fields.items():
        found = field.arrays()
        arrays[f"terms:{fieldname}"], arrays[f"terms_at:{fieldname}"] = joined(found["terms"])
        for name in _DIRECTORY:
            arrays[f"{name}:{fieldname}"] = found[name]
    del directory
    facets = FacetTable.load(reader, walk())
    for name in _FACETS:
        arrays[f"facet:{name}"] = getattr(facets, name)
    for name in _NAMES:
        arrays[f"facet:{name}"], arrays[f"facet:{name}_at"] = joined(getattr(facets, name))
    compounds, authors = [], []
    for leaf, _ in walk():
        compounds.append(field_terms(leaf, "compound"))
        authors.append(field_terms(leaf, "author"))
    # Which segments hold each author and each hyphenated word: what the next
    # generation's tables are carried over with (search/whoosh/carried.py).
    names, segments, begins = memberships(authors)
    if names != list(facets.author_names):
        raise ValueError("the authors' lexicons are not the facet table's")
    arrays["facet:author_segments"] = narrow(segments, len(leaves))
    arrays["facet:author_begins"] = begins
    words, segments, begins = memberships(compounds)
    arrays["compounds"], arrays["compounds_at"] = joined(words)
    arrays["compound_segments"] = narrow(segments, len(leaves))
    arrays["compound_begins"] = begins
    return arrays


def prepared_segments() -> int:
    """FURET_PREPARED_SEGMENTS, else PREPARED_SEGMENTS (ConfigurationError if not a number)."""
    return int_setting("FURET_PREPARED_SEGMENTS", PREPARED_SEGMENTS, 0,
                       f"a number of segments, such as {PREPARED_SEGMENTS} (0: always write "
                       "the prepared tables)")


def _worth_it(segments: list[list[Any]]) -> bool:
    """Whether a generation of these [id, documents] segments opens slowly enough without
    its file to be given one."""
    return (len(segments) >= prepared_segments()
            or sum(count for _, count in segments) >= PREPARED_DOCUMENTS)


def write_prepared(ix: Any) -> Path | None:
    """Write the prepared file of the index's latest generation (if it has none and is
    large enough to want one, see the module's doc) and remove the other generations'; its
    path, or None when there is none (a small generation, or no space: the index still
    opens, building the tables in memory)."""
    folder = Path(ix.storage.folder)
    generation = ix.latest_generation()
    path: Path | None = folder / prepared_name(ix.indexname, generation)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        if not path.exists():
            # Whether the generation wants a file is read from its table of contents: a
            # small one opens no searcher here (a build's last step would import Whoosh's
            # query modules for it, after its workers, with nothing else running).
            if _worth_it(toc_segments(ix)):
                with ix.searcher() as searcher:
                    segments = _segments(searcher.reader())
                    arrays = _carried(folder, ix.indexname, generation, searcher,
                                      ix.storage)
                    if arrays is None:
                        arrays = _tables(searcher, ix.storage)
                _write(tmp, generation, segments, arrays)
                os.replace(tmp, path)
                fsync_dir(folder)
            else:
                path = None
    except (OSError, MemoryError) as err:
        tmp.unlink(missing_ok=True)
        log.warning("%s: the tables of generation %d were not written (%s); the index "
                    "opens without them, more slowly", folder, generation, err)
        return None
    for old in folder.glob(f"_{ix.indexname}_*{EXTENSION}"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


def _carried(folder: Path, indexname: str, generation: int, searcher: Any,
             storage: Any) -> dict[str, Any] | None:
    """The arrays of `generation` made from the newest older generation's file
    (search/whoosh/carried.py), or None when there is none that can be used."""
    older = []
    for found in folder.glob(f"_{indexname}_*{EXTENSION}"):
        number = found.name[len(indexname) + 2:-len(EXTENSION)]
        if number.isdigit() and int(number) < generation:
            older.append((int(number), found))
    if not older:
        return None
    old = open_old(max(older)[1], _MAGIC)
    if old is None:
        return None
    try:
        return carried_tables(old, searcher, storage)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError,
            zlib.error) as err:
        log.warning("%s: generation %d's tables are made from scratch, the older ones "
                    "could not be carried over (%s)", folder, generation, err)
        return None
    finally:
        old.close()


def _write(path: Path, generation: int, segments: list[list[Any]],
           arrays: dict[str, Any]) -> None:
    header: dict[str, Any] = {"generation": generation, "segments": segments, "arrays": {},
                              "compressed": {}, "crc32": _CRC_PLACEHOLDER}
    arrays = dict(arrays)
    for name in [name for name in arrays if name in _COMPRESSED]:  # in the arrays' order
        raw = np.ascontiguousarray(arrays[name], dtype=np.uint8).tobytes()
        header["compressed"][name] = len(raw)
        arrays[name] = np.frombuffer(zlib.compress(raw, 6), dtype=np.uint8)
    position = 0
    for name, array in arrays.items():
        dtype = np.dtype(array.dtype).newbyteorder("<")
        header["arrays"][name] = [position, dtype.str, len(array)]
        position += len(array) * dtype.itemsize
        position += -position % 8
    header["size"] = position
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    crc_at = 16 + head.index(_CRC_PLACEHOLDER.encode("ascii"))
    crc = 0
    with open(path, "wb") as out:
        out.write(_MAGIC + struct.pack("<Q", len(head)) + head)
        for n, (name, array) in enumerate(arrays.items()):
            data = np.ascontiguousarray(array, dtype=header["arrays"][name][1]).tobytes()
            data += b"\0" * (-len(data) % 8)
            crc = zlib.crc32(data, crc)
            out.write(data)
            if n == 0:
                checkpoint("prepared-writing")
        out.seek(crc_at)  # the arrays' checksum, in the placeholder's place
        out.write(f"{crc:08x}".encode("ascii"))
        out.flush()
        os.fsync(out.fileno())


def read_prepared(folder: str | os.PathLike[str], indexname: str, generation: int,
                  reader: Any) -> Prepared | None:
    """The prepared tables of `generation`, if its file is there, whole, and of the
    reader's segments; else None (the caller builds them in memory)."""
    path = Path(folder) / prepared_name(indexname, generation)
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size < 16:
                return None
            mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError:
        return None
    try:
        found = _read(memoryview(mapping), generation, _segments(reader))
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError,
            zlib.error) as err:
        log.warning("%s cannot be read (%s); the tables are built in memory", path, err)
        return None
    if found is None:
        mapping.close()
    return found


def _read(buffer: memoryview, generation: int, segments: list[list[Any]]) -> Prepared | None:
    from search.whoosh.facets import FacetTable

    if bytes(buffer[:8]) != _MAGIC:
        raise ValueError("not a prepared file")
    (length,) = struct.unpack("<Q", buffer[8:16])
    header = json.loads(bytes(buffer[16:16 + length]))
    base = 16 + length
    if header["generation"] != generation or header["segments"] != segments:
        return None  # another generation's segments
    if len(buffer) != base + header["size"]:
        raise ValueError(f"{len(buffer)} bytes, not {base + header['size']}")

    compressed = header.get("compressed", {})

    def array(name: str) -> Any:
        offset, dtype, count = header["arrays"][name]
        if name in compressed:
            start = base + offset
            raw = zlib.decompress(buffer[start:start + count])
            if len(raw) != compressed[name]:
                raise ValueError(f"{name}: {len(raw)} bytes, not {compressed[name]}")
            return np.frombuffer(raw, dtype=np.uint8)
        return np.frombuffer(buffer, dtype=dtype, count=count, offset=base + offset)

    def strings(name: str, offsets: str) -> MappedStrings:
        return MappedStrings(array(name), array(offsets))

    fields = {}
    for key in header["arrays"]:
        if key.startswith("terms:"):
            fieldname = key.split(":", 1)[1]
            fields[fieldname] = FieldDirectory.of_arrays(
                strings(key, f"terms_at:{fieldname}"),
                *(array(f"{name}:{fieldname}") for name in _DIRECTORY))
    facets = FacetTable(
        section=array("facet:section"),
        section_names=strings("facet:section_names", "facet:section_names_at"),
        year=array("facet:year"), month=array("facet:month"), dates=array("facet:dates"),
        author_docs=array("facet:author_docs"), author_codes=array("facet:author_codes"),
        author_names=strings("facet:author_names", "facet:author_names_at"))
    return Prepared(fields, facets, strings("compounds", "compounds_at"))
