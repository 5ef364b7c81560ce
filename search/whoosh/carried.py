"""A generation's prepared tables made from the previous generation's, not from scratch.

An update adds one segment (and may merge a few small ones into it); the other segments
are the previous generation's, at most with more of their documents deleted. Their part
of every prepared table (search/whoosh/prepared.py) is already in the previous
generation's file: only the new segments are read, and the tables are merged, giving the
arrays a from-scratch `_tables` gives, to the byte (a test compares them after updates
that add, merge and delete).

What a segment kept over gives, and why deletions do not change it:

- the term directory (search/whoosh/directory.py): its (segment, term number) pairs are in
  the old file; a term's frequency counts deleted documents (as Whoosh does), so it is
  summed again from each segment's flat postings' term starts (no term names read);
- the facet table (search/whoosh/facets.py): its documents' section, year, month and date
  (columns keep deleted documents' values); its section names are those its documents'
  codes use; its authors' documents are the old ones less those deleted since (Whoosh's
  postings leave deleted documents out); its author names are its lexicon's, kept in the
  file as which segments hold each name (`facet:author_segments`);
- the hyphenated words: the segment's lexicon, kept as which segments hold each word
  (`compound_segments`).

Segments are matched by id and document count (a segment's files never change, only its
deleted documents grow), and kept segments must keep their order. Anything else (no
older file, one damaged — its checksum is verified here —, of another layout, or sharing
no segment with the new generation) returns None: the caller builds the tables from
scratch.
"""

from __future__ import annotations

import json
import mmap
import struct
import zlib
from bisect import bisect_left
from pathlib import Path
from typing import Any

import numpy as np

from search.whoosh.directory import FieldDirectory
from search.whoosh.postings import segment_postings
from search.whoosh.private import leaves_of
from search.whoosh.private.lexicon import field_terms
from search.whoosh.strings import split

__all__ = ["Old", "carried_tables", "narrow", "open_old", "release_leaf"]

_DIRECTORY = ("segments", "numbers", "begins", "frequencies")


def narrow(segments: Any, count: int) -> Any:
    """Segment numbers (of `count` segments) in the narrowest type used for them."""
    return segments.astype(np.uint16 if count <= 1 << 16 else np.int32)


def release_leaf(storage: Any, leaf: Any) -> None:
    """Unmap the pages of `leaf`'s segment file read so far, when `storage` maps them."""
    if hasattr(storage, "release_pages"):
        storage.release_pages(leaf.segment())


class Old:
    """The arrays of an older generation's prepared file, verified (see `open_old`)."""

    def __init__(self, buffer: memoryview, header: dict[str, Any], base: int,
                 mapping: mmap.mmap | None = None) -> None:
        self.buffer, self.header, self.base = buffer, header, base
        self.segments: list[list[Any]] = header["segments"]
        self._mapping = mapping

    def release(self) -> None:
        """Drop the pages read so far from the process (they stay in the page cache and
        are read again if needed): the file's 48 MB at a million articles would add to
        the update's peak."""
        if self._mapping is not None and hasattr(self._mapping, "madvise") \
                and hasattr(mmap, "MADV_DONTNEED"):
            self._mapping.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        """Close the file's map (left to the collector while an array still points into
        it)."""
        try:
            self.buffer.release()
            if self._mapping is not None:
                self._mapping.close()
        except BufferError:  # an array still points into it: the map goes with it
            pass

    def has(self, name: str) -> bool:
        return name in self.header["arrays"]

    def array(self, name: str) -> Any:
        offset, dtype, count = self.header["arrays"][name]
        compressed = self.header.get("compressed", {})
        if name in compressed:
            start = self.base + offset
            raw = zlib.decompress(self.buffer[start:start + count])
            if len(raw) != compressed[name]:
                raise ValueError(f"{name}: {len(raw)} bytes, not {compressed[name]}")
            return np.frombuffer(raw, dtype=np.uint8)
        return np.frombuffer(self.buffer, dtype=dtype, count=count, offset=self.base + offset)

    def strings(self, name: str, offsets: str) -> list[str]:
        return split(self.array(name), self.array(offsets))


def open_old(path: Path, magic: bytes) -> Old | None:
    """The prepared file at `path` mapped, its header read and its checksum verified; None
    when it cannot be used (the caller builds the tables from scratch)."""
    try:
        with open(path, "rb") as handle:
            mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            crc, size = _checksum(handle, mapping)
    except (OSError, ValueError):
        return None
    buffer = memoryview(mapping)
    try:
        if bytes(buffer[:8]) != magic:
            raise ValueError("not a prepared file")
        (length,) = struct.unpack("<Q", buffer[8:16])
        header = json.loads(bytes(buffer[16:16 + length]))
        base = 16 + length
        if len(buffer) != base + header["size"] or "crc32" not in header \
                or size != header["size"] or crc != int(header["crc32"], 16):
            raise ValueError("damaged, or written before the tables were carried over")
        return Old(buffer, header, base, mapping)
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
        buffer.release()
        mapping.close()
        return None


def _checksum(handle: Any, mapping: mmap.mmap) -> tuple[int, int]:
    """(CRC-32 of the arrays, their size) of an open prepared file, read in chunks (not
    through the map: its pages would all count in the process at once)."""
    if len(mapping) < 16:
        raise ValueError("too short")
    (length,) = struct.unpack("<Q", mapping[8:16])
    handle.seek(16 + length)
    crc, size = 0, 0
    while chunk := handle.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
    return crc, size


def _merged(old_terms: list[str], old_segments: Any, old_begins: Any, segmap: Any,
            new: list[tuple[int, list[str]]], segment_count: int, old_numbers: Any = None
            ) -> tuple[list[str], Any, tuple[Any, Any], Any]:
    """Merge a sorted names' membership (which segments hold each name, in the old
    generation's numbering) with the new segments' sorted names: (the names, the new
    generation's segment of each pair, (each pair's name, its term number — the old ones
    carried, the new ones 0..n-1 in each new segment —), each name's first pair), as
    `_Builder` makes them from every segment.

    The kept pairs stay in order (by name, then segment: names and kept segments keep
    their order), the new segments' pairs are put among them: no sort of every pair, and
    int32 arrays (the exact forms' 1.2 million pairs at a million articles)."""
    count = len(old_begins) - 1
    pair_segment = segmap[old_segments]  # int32, -1 for a segment gone
    keep = pair_segment >= 0
    pair_term = np.repeat(np.arange(count, dtype=np.int32), np.diff(old_begins))[keep]
    kept_segments = pair_segment[keep]
    del pair_segment
    kept_numbers = old_numbers[keep].astype(np.int32) if old_numbers is not None else None
    del keep
    held = np.bincount(pair_term, minlength=count)
    kept = np.flatnonzero(held)
    terms = old_terms if len(kept) == count else [old_terms[n] for n in kept.tolist()]
    if len(new) == 1:
        names = new[0][1]
    else:
        names = sorted(set().union(*(names for _, names in new)))
    at = [bisect_left(terms, name) for name in names]
    size = len(terms)
    dup = np.fromiter((n < size and terms[n] == name for n, name in zip(at, names,
                                                                       strict=True)),
                      dtype=bool, count=len(names))
    at_array = np.array(at, dtype=np.int64)
    only = np.flatnonzero(~dup)
    only_at = at_array[only]
    name_final = np.empty(len(names), dtype=np.int64)
    name_final[only] = only_at + np.arange(len(only))
    kept_final = np.arange(size, dtype=np.int64) + np.searchsorted(only_at, np.arange(size),
                                                                   side="right")
    name_final[dup] = kept_final[at_array[dup]]
    merged = np.empty(size + len(only), dtype=object)
    merged[kept_final] = terms
    merged[only_at + np.arange(len(only))] = [names[n] for n in only.tolist()]
    total = len(merged)
    final_of_old = np.full(count, -1, dtype=np.int32)
    final_of_old[kept] = kept_final
    kept_ids = final_of_old[pair_term]
    del pair_term
    # The new segments' pairs, by name then segment.
    if len(new) == 1:
        finals = {new[0][0]: name_final}
    else:
        index = {name: int(n) for name, n in zip(names, name_final.tolist(), strict=True)}
        finals = {segment: np.fromiter(map(index.__getitem__, seg_names), dtype=np.int64,
                                       count=len(seg_names)) for segment, seg_names in new}
    new_ids = np.concatenate([finals[segment] for segment, _ in new]) if new else \
        np.zeros(0, dtype=np.int64)
    new_segments = np.concatenate([np.full(len(seg_names), segment, dtype=np.int64)
                                   for segment, seg_names in new]) if new else new_ids
    new_numbers = np.concatenate([np.arange(len(seg_names), dtype=np.int64)
                                  for _, seg_names in new]) if new else new_ids
    order = np.argsort(new_ids * segment_count + new_segments, kind="stable")
    new_ids, new_segments, new_numbers = new_ids[order], new_segments[order], \
        new_numbers[order]
    # Where each goes among the kept ones: (name, segment) pairs are distinct.
    keys = kept_ids.astype(np.int64)
    keys *= segment_count
    keys += kept_segments
    places = np.searchsorted(keys, new_ids * segment_count + new_segments)
    del keys
    places += np.arange(len(places))
    mine = np.ones(len(kept_ids) + len(places), dtype=bool)
    mine[places] = False

    def put(kept_values: Any, new_values: Any) -> Any:
        out = np.empty(len(mine), dtype=np.int32)
        out[mine] = kept_values
        out[places] = new_values
        return out

    ids = put(kept_ids, new_ids)
    del kept_ids
    segments = put(kept_segments, new_segments)
    del kept_segments
    numbers = put(kept_numbers, new_numbers) if kept_numbers is not None else None
    begins = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.bincount(ids, minlength=total), out=begins[1:])
    return merged.tolist(), segments, (ids, numbers), begins


def carried_tables(old: Old, searcher: Any, storage: Any) -> dict[str, Any] | None:
    """The prepared arrays of the searcher's generation, by name and in the order
    `prepared._tables` gives them, made from `old`; None when it cannot be done."""
    from search.whoosh.facets import FacetTable
    from search.whoosh.strings import joined

    reader = searcher.reader()
    leaves = leaves_of(reader)
    ours = [[leaf.segment().segment_id(), leaf.doc_count_all()] for leaf, _ in leaves]
    where = {(sid, count): n for n, (sid, count) in enumerate(old.segments)}
    segmap = np.full(len(old.segments), -1, dtype=np.int32)
    fresh: list[int] = []
    for n, (sid, count) in enumerate(ours):
        found = where.get((sid, count))
        if found is None:
            fresh.append(n)
        else:
            segmap[found] = n
    carried_old = np.flatnonzero(segmap >= 0)
    if not len(carried_old) or np.any(np.diff(segmap[carried_old]) <= 0):
        return None
    for name in ("compound_segments", "facet:author_segments"):
        if not old.has(name):
            return None
    count = len(ours)

    # One pass over the segments: what the new ones hold, the term sizes of all.
    fieldorder: dict[str, None] = {}
    sizes: dict[str, list[Any]] = {}
    new_names: dict[str, list[tuple[int, list[str]]]] = {}
    new_facets: dict[int, Any] = {}
    new_compounds: list[tuple[int, list[str]]] = []
    new_authors: list[tuple[int, list[str]]] = []
    for n, (leaf, _) in enumerate(leaves):
        postings = segment_postings(leaf)
        for fieldname in postings.fieldnames():
            fieldorder.setdefault(fieldname, None)
            sizes.setdefault(fieldname, [np.zeros(0, dtype=np.int32)] * count)[n] = \
                postings.sizes(fieldname).astype(np.int32)
        if n in fresh:
            for fieldname in postings.fieldnames():
                new_names.setdefault(fieldname, []).append((n, postings.names(fieldname)))
            new_facets[n] = FacetTable.load(leaf, [(leaf, 0)])
            new_compounds.append((n, field_terms(leaf, "compound")))
            new_authors.append((n, list(new_facets[n].author_names)))
        postings.release_names()
        release_leaf(storage, leaf)

    arrays: dict[str, Any] = {}
    for fieldname in fieldorder:
        if old.has(f"terms:{fieldname}"):
            terms = old.strings(f"terms:{fieldname}", f"terms_at:{fieldname}")
            segments = old.array(f"segments:{fieldname}")
            numbers = old.array(f"numbers:{fieldname}")
            begins = old.array(f"begins:{fieldname}")
        else:
            terms, begins = [], np.zeros(1, dtype=np.int64)
            segments = numbers = np.zeros(0, dtype=np.int32)
        names, pair_segments, (ids, pair_numbers), pair_begins = _merged(
            terms, segments, begins, segmap, new_names.get(fieldname, []), count, numbers)
        found_sizes = sizes[fieldname]
        bases = np.zeros(count + 1, dtype=np.int64)
        np.cumsum([len(s) for s in found_sizes], out=bases[1:])
        where = bases[pair_segments]
        where += pair_numbers
        pair_sizes = np.concatenate(found_sizes)[where]
        del where
        frequencies = np.bincount(ids, weights=pair_sizes, minlength=len(names)) \
            .astype(np.int64)
        del ids, pair_sizes
        field = FieldDirectory.of_arrays(names, pair_segments, pair_numbers, pair_begins,
                                         frequencies)
        found = field.arrays()
        arrays[f"terms:{fieldname}"], arrays[f"terms_at:{fieldname}"] = joined(found["terms"])
        for name in _DIRECTORY:
            arrays[f"{name}:{fieldname}"] = found[name]
        old.release()

    # The facets: each segment's documents in order, carried or read.
    old_offsets = np.zeros(len(old.segments) + 1, dtype=np.int64)
    np.cumsum([c for _, c in old.segments], out=old_offsets[1:])
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum([c for _, c in ours], out=offsets[1:])
    old_of = {int(segmap[o]): int(o) for o in carried_old}
    old_section = old.array("facet:section")
    old_names = old.strings("facet:section_names", "facet:section_names_at")
    carried_codes = np.concatenate([
        old_section[old_offsets[o]:old_offsets[o + 1]] for o in carried_old.tolist()])
    used = np.flatnonzero(np.bincount(carried_codes.astype(np.int64) + 1,
                                      minlength=len(old_names) + 1)[1:])
    section_names = sorted({old_names[c] for c in used.tolist()}.union(
        *(t.section_names for t in new_facets.values())))
    code = {name: n for n, name in enumerate(section_names)}
    old_map = np.full(len(old_names) + 1, -1, dtype=np.int32)  # code + 1 -> new code
    old_map[used + 1] = [code[old_names[c]] for c in used.tolist()]
    parts: dict[str, list[Any]] = {"section": [], "year": [], "month": [], "dates": []}
    for n in range(count):
        if n in old_of:
            o = old_of[n]
            start, end = old_offsets[o], old_offsets[o + 1]
            parts["section"].append(old_map[old_section[start:end].astype(np.int64) + 1])
            for name in ("year", "month", "dates"):
                parts[name].append(old.array(f"facet:{name}")[start:end])
        else:
            table = new_facets[n]
            local = np.array([code[name] for name in table.section_names] + [-1],
                             dtype=np.int32)
            parts["section"].append(local[table.section])  # -1 -> the last: -1
            for name in ("year", "month", "dates"):
                parts[name].append(getattr(table, name))
    for name, dtype in (("section", np.int32), ("year", np.int32), ("month", np.int32),
                        ("dates", np.int64)):
        arrays[f"facet:{name}"] = np.concatenate(parts[name]).astype(dtype) if count else \
            np.zeros(0, dtype=dtype)

    old.release()

    # Authors: the names every segment holds, and the documents not deleted since.
    author_names = old.strings("facet:author_names", "facet:author_names_at")
    names, author_segments, _, author_begins = _merged(
        author_names, old.array("facet:author_segments"),
        old.array("facet:author_begins"), segmap, new_authors, count)
    final_of_old = _final_of(author_names, names)
    old_docs = old.array("facet:author_docs")
    old_codes = old.array("facet:author_codes")
    docs_parts, codes_parts = [], []
    if len(old_docs):
        segment_of = np.searchsorted(old_offsets, old_docs, side="right") - 1
        moved = segmap[segment_of]
        keep = moved >= 0
        new_docs = old_docs - old_offsets[segment_of] + offsets[np.maximum(moved, 0)]
        deleted = _deleted(leaves, offsets)
        if len(deleted):
            keep &= ~np.isin(new_docs, deleted)
        docs_parts.append(new_docs[keep])
        codes_parts.append(final_of_old[old_codes[keep]])
    index = {name: n for n, name in enumerate(names)}
    for n, table in new_facets.items():
        if len(table.author_docs):
            local = np.array([index[name] for name in table.author_names], dtype=np.int64)
            docs_parts.append(table.author_docs + offsets[n])
            codes_parts.append(local[table.author_codes])
    if docs_parts:
        author_docs = np.concatenate(docs_parts).astype(np.int64)
        author_codes = np.concatenate(codes_parts).astype(np.int64)
        order = np.lexsort((author_docs, author_codes))
        author_docs, author_codes = author_docs[order], author_codes[order]
    else:
        author_docs = author_codes = np.zeros(0, dtype=np.int64)
    arrays["facet:author_docs"], arrays["facet:author_codes"] = author_docs, author_codes
    arrays["facet:section_names"], arrays["facet:section_names_at"] = joined(section_names)
    arrays["facet:author_names"], arrays["facet:author_names_at"] = joined(names)
    arrays["facet:author_segments"] = narrow(author_segments, count)
    arrays["facet:author_begins"] = author_begins

    old.release()
    compounds = old.strings("compounds", "compounds_at")
    words, compound_segments, _, compound_begins = _merged(
        compounds, old.array("compound_segments"),
        old.array("compound_begins"), segmap, new_compounds, count)
    arrays["compounds"], arrays["compounds_at"] = joined(words)
    arrays["compound_segments"] = narrow(compound_segments, count)
    arrays["compound_begins"] = compound_begins
    return arrays


def _final_of(old: list[str], new: list[str]) -> Any:
    """Each old name's number among the new names (-1 when gone)."""
    index = {name: n for n, name in enumerate(new)}
    return np.fromiter((index.get(name, -1) for name in old), dtype=np.int64,
                       count=len(old))


def _deleted(leaves: list[tuple[Any, int]], offsets: Any) -> Any:
    """The deleted documents of the generation, by their numbers in it, sorted."""
    found = [np.fromiter(sorted(leaf.deleted_docs_set), dtype=np.int64) + offsets[n]
             for n, (leaf, _) in enumerate(leaves) if leaf.has_deletions()]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
