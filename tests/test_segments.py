"""Furet's segment writer writes what Whoosh's own writer writes."""

from __future__ import annotations

import tempfile

import pytest
from whoosh.filedb.filestore import RamStorage
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from indexer.sources import read_articles, walk_sources
from search.schema import Parts, build_schema
from search.whoosh.documents import to_document
from search.whoosh.postings import FIELDS as FLAT_FIELDS
from search.whoosh.private import SegmentWriter
from search.whoosh.private.codec import CompactCodec
from tests.conftest import SAMPLES


@pytest.fixture(autouse=True)
def _own_temp_folder(tmp_path, monkeypatch):
    """Whoosh's writer pools in <temp folder>/MAIN.tmp, a name every process shares: a test
    run beside another on the same machine would remove the other's files."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _contents(ix) -> tuple:
    with ix.reader() as reader:
        items = {}
        for fieldname, term in reader.all_terms():
            m = reader.postings(fieldname, term)
            rows = []
            info = reader.term_info(fieldname, term)
            while m.is_active():
                if fieldname in FLAT_FIELDS:
                    # Read from the flat postings (CompactCodec) as one block, as Whoosh
                    # reads postings inlined in the term index: its bounds are the term's.
                    rows.append((m.id(), m.weight(), m.value()))
                    if isinstance(reader.codec(), CompactCodec):
                        assert (m.block_max_weight(), m.block_min_length(),
                                m.block_max_length(), m.block_max_id()) == (
                            info.max_weight(), info.min_length(), info.max_length(),
                            info.max_id())
                    else:
                        assert m.block_max_weight() >= m.weight()
                else:
                    # the posting, and the statistics of its block (used to skip blocks)
                    rows.append((m.id(), m.weight(), m.value(), m.block_max_weight(),
                                 m.block_min_length(), m.block_max_length(), m.block_max_id()))
                m.next()
            items[(fieldname, term)] = (rows, info.weight(), info.doc_frequency(),
                                        info.min_length(), info.max_length(),
                                        info.max_weight(), info.min_id(), info.max_id())
        stored = list(reader.all_stored_fields())
        lengths = {(f, n): reader.doc_field_length(n, f)
                   for f in ("text", "exact", "title") for n in range(reader.doc_count_all())}
    return items, stored, lengths


def _build(writer_class) -> tuple:
    ix = RamStorage().create_index(build_schema())
    writer = writer_class(ix)
    for source in walk_sources([SAMPLES]):
        for article in read_articles(source):
            writer.add_document(**to_document(article, source.path))
    # Enough articles sharing words for posting lists of several blocks (128 postings each).
    for n in range(400):
        parts = Parts([(f"Dépêche {n % 7}", 3.0), ("La ville et le port " * (n % 5 + 1), 1.0)])
        writer.add_document(id=f"d{n}", title=f"Dépêche {n % 7}", text=parts, exact=parts)
    writer.commit()
    return _contents(ix)


def test_same_postings_stored_fields_and_lengths_as_whoosh():
    assert _build(SegmentWriter) == _build(WhooshSegmentWriter)


def test_same_postings_when_fields_are_written_in_small_batches(monkeypatch):
    from search.whoosh.private import blocks

    monkeypatch.setattr(blocks, "BATCH_POSTINGS", 50)  # many batches, terms of many blocks
    monkeypatch.setattr(blocks, "STATISTICS_POSTINGS", 60)  # term statistics in pieces
    assert _build(SegmentWriter) == _build(WhooshSegmentWriter)


def test_flat_postings_narrow_counts_and_positions_and_read_them_back():
    import io
    from array import array

    from search.whoosh.postings import SegmentPostings, write_postings

    def term(name, docs, positions):
        flat = array("I", [p for ps in positions for p in ps])
        return (name, array("I", docs), array("f", [1.0] * len(docs)), flat,
                array("I", [len(ps) for ps in positions]))

    for many, counts_type, positions_type in ((list(range(1000, 1300)), "H", "H"),
                                              ([9, 70_000], "B", "I")):
        fields = [("exact", [term("port", [0, 3], [[1, 5], many]),
                             term("ville", [3], [[2]])])]
        out = io.BytesIO()
        write_postings(out, fields)
        data = out.getvalue()
        assert data.startswith(b"FURETPO4")
        assert f'"counts_type":"{counts_type}","positions_type":"{positions_type}"' in \
            data.decode("utf-8", "replace")
        postings = SegmentPostings(memoryview(data))
        docs, counts, positions = postings.positions("exact", "port")
        assert docs.tolist() == [0, 3] and counts.tolist() == [2, len(many)]
        assert positions.tolist() == [1, 5, *many]
        assert postings.postings("exact", "ville")[0].tolist() == [3]
        assert postings.postings("exact", "port")[1].tolist() == [1.0, 1.0]


def test_flat_postings_store_weights_in_halves_when_they_are_and_read_them_back():
    import io
    from array import array

    from search.whoosh.postings import SegmentPostings, write_postings

    for weights, weights_type in (([1.5, 3.0, 4.5], "B"), ([1.0, 200.5, 1000.0], "H"),
                                  ([0.3, 1.0, 2.0], None)):
        out = io.BytesIO()
        write_postings(out, [("text", [("port", array("I", [0, 1, 2]),
                                        array("f", weights), None, None)])])
        header = out.getvalue().decode("utf-8", "replace")
        if weights_type:
            assert f'"weights_type":"{weights_type}","weights_scale":0.5' in header
        else:
            assert "weights_type" not in header
        docs, found = SegmentPostings(memoryview(out.getvalue())).postings("text", "port")
        assert found.dtype.name == "float32"
        assert found.tolist() == array("f", weights).tolist()


def test_flat_postings_store_document_numbers_in_16_bits_when_they_fit():
    import io
    from array import array

    from search.whoosh.postings import SegmentPostings, write_postings

    for docs, narrow in (([0, 7, 65_535], True), ([3, 65_536], False)):
        out = io.BytesIO()
        write_postings(out, [("text", [("port", array("I", docs), array("f", [1.0] * len(docs)),
                                        None, None)])])
        assert ('"docs_type":"H"' in out.getvalue().decode("utf-8", "replace")) == narrow
        found, _ = SegmentPostings(memoryview(out.getvalue())).postings("text", "port")
        assert found.dtype.name == "uint32" and found.tolist() == docs


def _documents() -> list[dict]:
    found = [to_document(article, source.path) for source in walk_sources([SAMPLES])
             for article in read_articles(source)]
    for n in range(300):
        parts = Parts([(f"Dépêche {n % 7}", 3.0), ("La ville et le port " * (n % 5 + 1), 1.0)])
        found.append(dict(id=f"d{n}", title=f"Dépêche {n % 7}", text=parts, exact=parts))
    return found


def _flat(ix) -> dict:
    from search.whoosh.postings import segment_postings

    with ix.reader() as reader:
        (leaf, _), = reader.leaf_readers() if hasattr(reader, "leaf_readers") else [(reader, 0)]
        postings = segment_postings(leaf)
        return {(f, t): [a.tolist() if a is not None else None for a in postings.whole(f, t)]
                for f in FLAT_FIELDS for t in postings.terms(f)}


def test_merging_segments_read_from_the_flat_postings_keeps_every_posting():
    """Whoosh merges segments (on `update`) by reading their postings through the codec:
    those of the flat fields come from the flat postings, values (frequencies, positions)
    included, and the merged segment holds what a segment written at once holds."""
    documents = _documents()
    whole = RamStorage().create_index(build_schema())
    writer = SegmentWriter(whole)
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    merged = RamStorage().create_index(build_schema())
    for part in (documents[:150], documents[150:]):
        writer = SegmentWriter(merged)
        for document in part:
            writer.add_document(**document)
        writer.commit(merge=False)
    assert len(merged.reader().leaf_readers()) == 2
    SegmentWriter(merged).commit(optimize=True)
    assert _contents(merged) == _contents(whole)
    assert _flat(merged) == _flat(whole)


def test_flat_postings_list_the_few_large_counts_and_weights_apart():
    """Counts and weights are one byte each when over 254 is rare: those are listed apart and
    put back when read, in any term of the field."""
    import io
    from array import array

    from search.whoosh.postings import SegmentPostings, write_postings

    docs = list(range(400))
    counts = [1] * 400
    counts[7], counts[300] = 1000, 70_000
    weights = [1.5] * 400
    weights[299] = 500.0
    fields = [("text", [("port", array("I", docs[:250]), array("f", weights[:250]), None,
                         array("I", counts[:250])),
                        ("ville", array("I", docs[250:]), array("f", weights[250:]), None,
                         array("I", counts[250:]))])]
    out = io.BytesIO()
    write_postings(out, fields)
    header = out.getvalue().decode("utf-8", "replace")
    assert '"weights_type":"B"' in header and '"counts_type":"B"' in header
    assert '"weights_overflow_count":1' in header and '"counts_overflow_count":2' in header
    postings = SegmentPostings(memoryview(out.getvalue()))
    for term, a, b in (("port", 0, 250), ("ville", 250, 400)):
        found_docs, found_weights, found_counts, positions = postings.whole("text", term)
        assert found_docs.tolist() == docs[a:b] and positions is None
        assert found_weights.tolist() == weights[a:b]
        assert found_counts.tolist() == counts[a:b]
    # Positional fields: their counts too, through `positions`.
    many = list(range(300))
    out = io.BytesIO()
    write_postings(out, [("exact", [("port", array("I", docs), array("f", [1.0] * 400),
                                     array("I", many + list(range(399))),
                                     array("I", [300] + [1] * 399))])])
    assert '"counts_overflow_count":1' in out.getvalue().decode("utf-8", "replace")
    found_docs, found_counts, positions = SegmentPostings(
        memoryview(out.getvalue())).positions("exact", "port")
    assert found_counts.tolist() == [300] + [1] * 399
    assert positions.tolist() == many + list(range(399))
    # Many large values: the narrowest type that holds them all, as before.
    out = io.BytesIO()
    write_postings(out, [("text", [("port", array("I", docs), array("f", [300.0] * 400),
                                    None, array("I", [300] * 400))])])
    header = out.getvalue().decode("utf-8", "replace")
    assert '"weights_type":"H"' in header and '"counts_type":"H"' in header
    assert "overflow" not in header
    assert SegmentPostings(memoryview(out.getvalue())).whole("text", "port")[2].tolist() == \
        [300] * 400


def test_flat_postings_are_the_same_from_grouped_arrays_and_from_single_postings():
    """A field pooled as grouped arrays (one call) writes the flat postings that the same
    postings added one at a time write (Whoosh's path, used when merging segments)."""
    import io
    import struct

    import numpy as np

    from search.whoosh.columns import Grouped
    from search.whoosh.postings import write_postings
    from search.whoosh.segments import TermPool

    terms = [b"port", b"ville", b"\xc3\xa9t\xc3\xa9"]
    rows = {b"port": [(0, 1.5, [1, 4]), (3, 3.0, [2])], b"ville": [(1, 1.0, [7])],
            b"\xc3\xa9t\xc3\xa9": [(0, 1.0, [9, 10, 11]), (2, 2.5, [0]), (5, 1.0, [3])]}
    order = sorted(terms)

    def grouped(positional: bool) -> Grouped:
        docs, weights, counts, positions, starts = [], [], [], [], [0]
        for t in order:
            for doc, weight, ps in rows[t]:
                docs.append(doc)
                weights.append(weight)
                counts.append(len(ps))
                positions += ps
            starts.append(len(docs))
        return Grouped(terms=order, starts=np.array(starts, dtype=np.int64),
                       docs=np.array(docs, dtype=np.uint32),
                       weights=np.array(weights, dtype=np.float32),
                       counts=np.array(counts, dtype=np.uint32),
                       positions=np.array(positions, dtype=np.uint32) if positional else None)

    def written(pool: TermPool) -> bytes:
        out = io.BytesIO()
        write_postings(out, pool.by_field(["text", "exact"]))
        return out.getvalue()

    whole, single = TermPool(["exact"]), TermPool(["exact"])
    whole.add_grouped("text", grouped(False))
    whole.add_grouped("exact", grouped(True))
    for t in terms:
        for doc, weight, ps in rows[t]:
            single.add(("text", t, doc, weight, struct.pack("!I", len(ps))))
            single.add(("exact", t, doc, weight, struct.pack(f"<{len(ps)}I", *ps)))
    assert written(whole) == written(single)
    assert [name for name, _ in whole.fields()] == ["exact", "text"]


def test_flat_postings_terms_decoded_at_once_are_decoded_one_by_one():
    from search.whoosh import postings

    for terms in ([], [b""], [b"", b""], [b"mot", "\u00e9t\u00e9".encode(), b"x"],
                  [b"a\x00b", b"c"], [b"\x00"]):
        assert postings._decoded(terms) == [t.decode("utf-8") for t in terms]
