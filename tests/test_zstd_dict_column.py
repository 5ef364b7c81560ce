"""Stored fields and feedback's stems of new segments are compressed with zstd and a
dictionary trained per segment (`ZstdDictColumn`): every value comes back (gaps, empty
values, segments smaller than the sample, samples too small to train on), the column is
smaller than SharedDictColumn's, Whoosh's own reader reads it, and an index written with
SharedDictColumn (CompactCodec) still reads and takes updates."""

from __future__ import annotations

import io
import random
import struct
import threading

import pytest
import zstandard
from click.testing import CliRunner
from whoosh.columns import CompressedBytesColumn
from whoosh.fields import COLUMN
from whoosh.filedb.compound import BufferFile
from whoosh.filedb.structfile import StructFile
from whoosh.index import open_dir

import search.schema as schema_module
from indexer.cli import main
from search import get_article, open_index, search
from search.schema import (
    NO_DICT,
    RAW_CONTENT_DICT,
    TRAINED_DICT,
    SharedDictColumn,
    ZstdDictColumn,
    build_schema,
    zstd_dictionary,
)
from search.whoosh.layout import current_build
from search.whoosh.private.codec import CompactCodec, StoredFields, ZstdCodec
from tests.test_shared_dict_column import article_bytes, column_round_trip


def _column_bytes(column, values: dict[int, bytes], doccount: int) -> bytes:
    data = io.BytesIO()
    writer = column.writer(StructFile(data))
    for docnum, value in sorted(values.items()):
        writer.add(docnum, value)
    writer.finish(doccount)
    return data.getvalue()


def _kind(raw: bytes) -> int:
    """The kind of dictionary a written column holds (its last byte)."""
    return raw[-1]


@pytest.mark.parametrize("doccount", [0, 1, 5, 40, ZstdDictColumn.SAMPLE_VALUES + 300])
def test_every_value_comes_back_gaps_and_empty_values_too(doccount):
    values = {n: article_bytes(n) if n % 3 else b"" for n in range(0, doccount, 2)}
    got, _ = column_round_trip(ZstdDictColumn(), values, doccount)
    assert got == [values.get(n, b"") for n in range(doccount)]


def test_only_empty_values_need_no_dictionary():
    values = dict.fromkeys(range(10), b"")
    raw = _column_bytes(ZstdDictColumn(), values, 12)
    assert _kind(raw) == NO_DICT
    got, _ = column_round_trip(ZstdDictColumn(), values, 12)
    assert got == [b""] * 12


def test_a_sample_of_many_values_trains_a_dictionary():
    values = {n: article_bytes(n) for n in range(ZstdDictColumn.SAMPLE_VALUES + 10)}
    raw = _column_bytes(ZstdDictColumn(), values, len(values))
    assert _kind(raw) == TRAINED_DICT
    (size,) = struct.unpack("<I", raw[-5:-1])
    assert 0 < size <= ZstdDictColumn.DICT_BYTES


def test_the_dictionary_is_made_once_the_sample_holds_enough_bytes(monkeypatch):
    monkeypatch.setattr(ZstdDictColumn, "SAMPLE_BYTES", 20_000)
    values = {n: article_bytes(n) * 3 for n in range(300)}
    writer = ZstdDictColumn().writer(StructFile(io.BytesIO()))
    held = 0
    for docnum, value in values.items():
        writer.add(docnum, value)
        held += len(value)
        assert (writer._pending is None) == (held >= 20_000)
    got, _ = column_round_trip(ZstdDictColumn(), values, 300)
    assert got == list(values.values())


def test_a_few_short_values_are_compressed_without_a_dictionary():
    values = {0: b"court", 1: b"bref"}
    assert _kind(_column_bytes(ZstdDictColumn(), values, 2)) == NO_DICT
    assert column_round_trip(ZstdDictColumn(), values, 2)[0] == [b"court", b"bref"]


def test_when_training_fails_the_sampled_values_are_the_dictionary():
    values = [b"abc" * 50] * 30  # enough bytes for a dictionary, too uniform to train one
    kind, zdict = zstd_dictionary(values)
    assert kind == RAW_CONTENT_DICT and zdict and len(zdict) <= 4500 // 16
    got, _ = column_round_trip(ZstdDictColumn(), dict(enumerate(values)), 31)
    assert got == [*values, b""]


def test_any_training_error_falls_back_to_the_sampled_values(monkeypatch):
    def fail(*args, **kwargs):
        raise zstandard.ZstdError("cannot train dict")

    monkeypatch.setattr(schema_module.zstandard, "train_dictionary", fail)
    values = {n: article_bytes(n) for n in range(200)}
    raw = _column_bytes(ZstdDictColumn(), values, 200)
    assert _kind(raw) == RAW_CONTENT_DICT
    got, _ = column_round_trip(ZstdDictColumn(), values, 200)
    assert got == [values[n] for n in range(200)]


def test_a_damaged_kind_of_dictionary_is_refused():
    raw = bytearray(_column_bytes(ZstdDictColumn(), {n: article_bytes(n) for n in range(50)}, 50))
    raw[-1] = 7
    with pytest.raises(ValueError, match="kind of dictionary"):
        ZstdDictColumn().reader(BufferFile(memoryview(bytes(raw))), 0, len(raw), 50)


def test_smaller_than_compressing_each_value_alone(monkeypatch):
    rng = random.Random(5)
    values = {n: article_bytes(rng.randrange(10**9)) for n in range(5000)}
    got, trained = column_round_trip(ZstdDictColumn(), values, 5000)
    assert got == [values[n] for n in range(5000)]
    _, alone = column_round_trip(CompressedBytesColumn(), values, 5000)
    assert trained < alone * 0.6
    monkeypatch.setattr(ZstdDictColumn, "MIN_DICT_BYTES", 10**9)  # no dictionary
    assert _kind(_column_bytes(ZstdDictColumn(), values, 5000)) == NO_DICT
    _, undictionaried = column_round_trip(ZstdDictColumn(), values, 5000)
    assert trained < undictionaried * 0.6


def test_threads_read_the_same_column_at_once():
    values = {n: article_bytes(n) * (1 + n % 5) for n in range(3000)}
    raw = _column_bytes(ZstdDictColumn(), values, 3000)
    reader = ZstdDictColumn().reader(BufferFile(memoryview(raw)), 0, len(raw), 3000)
    wrong = []

    def read(offset: int) -> None:
        for n in range(offset, 3000, 7):
            if reader[n] != values[n]:
                wrong.append(n)

    threads = [threading.Thread(target=read, args=(k,)) for k in range(7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_new_segments_use_it_and_whoosh_reads_them(tmp_path, articles):
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(main, ["build", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    with open_dir(str(current_build(index_dir))).searcher() as searcher:
        reader = searcher.reader()
        # (HitHeadCodec's segments since: ZstdCodec with the head split once more)
        assert all(isinstance(leaf.codec(), ZstdCodec) for leaf, _ in reader.leaf_readers())
        docnum = searcher.document_number(id="t-haifa")
        stored = searcher.stored_fields(docnum)
        assert stored["title"] == "Une attaque vise le port de Haïfa"
        assert stored["lead"] == "La ville portuaire de Haïfa a été visée dimanche."
        # Furet's own reader of the stored columns gives the same fields.
        assert StoredFields(reader).whole(docnum) == stored
        # Feedback's stems column is one too (an index's schema says which its columns are).
        assert isinstance(reader.schema["stems"].column_type, ZstdDictColumn)
        assert b"haif" in reader.column_reader("stems")[docnum]


def _shared_dict_schema():
    schema = build_schema()
    schema.remove("stems")
    schema.add("stems", COLUMN(SharedDictColumn()))
    return schema


def test_an_index_written_with_shared_dict_columns_reads_and_updates(tmp_path, articles,
                                                                     monkeypatch):
    index_dir = tmp_path / "index"
    runner = CliRunner()
    # Written as before ZstdCodec: CompactCodec's stored fields, SharedDictColumn's stems.
    with monkeypatch.context() as before:
        before.setattr("search.whoosh.private.writing.PlainHeadCodec", CompactCodec)
        before.setattr("search.whoosh.writer.build_schema", _shared_dict_schema)
        result = runner.invoke(main, ["build", str(articles), "--index-dir", str(index_dir),
                                      "--jobs", "1"])
        assert result.exit_code == 0, result.output
    with open_dir(str(current_build(index_dir))).searcher() as searcher:
        reader = searcher.reader()
        assert all(type(leaf.codec()) is CompactCodec for leaf, _ in reader.leaf_readers())
        assert isinstance(reader.schema["stems"].column_type, SharedDictColumn)
    index = open_index(index_dir)
    assert [h.id for h in search(index, "haifa").hits] == ["t-haifa"]
    assert get_article(index, "t-oeuvre").title == "Le chef-d’œuvre retrouvé"

    # Updated with today's code: a new article and a changed one.
    (articles / "new.json").write_text(
        '{"id": "n-neuf", "title": "Nouveau port", "body": "Un texte neuf sur le port."}')
    oeuvre = (articles / "oeuvre.json").read_text("utf-8")
    (articles / "oeuvre.json").write_text(oeuvre.replace("Besançon", "Dijon"), "utf-8")
    result = runner.invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1, updated 1, unchanged 3, deleted 0")
    assert runner.invoke(main, ["check", "--index-dir", str(index_dir)]).exit_code == 0

    with open_dir(str(current_build(index_dir))).searcher() as searcher:
        reader = searcher.reader()
        # The index keeps its schema: the stems of new segments are SharedDictColumn's too.
        assert isinstance(reader.schema["stems"].column_type, SharedDictColumn)
        new = searcher.document_number(id="n-neuf")
        assert any(isinstance(leaf.codec(), ZstdCodec)
                   and offset <= new < offset + leaf.doc_count_all()
                   for leaf, offset in reader.leaf_readers())
        stored = StoredFields(reader)
        stems = reader.column_reader("stems")
        for article_id in ("t-haifa", "t-gaza", "t-oeuvre", "n-neuf"):
            docnum = searcher.document_number(id=article_id)
            assert StoredFields(reader).whole(docnum) == searcher.stored_fields(docnum)
            assert stored.head(docnum)["id"] == article_id
            assert stems[docnum]
    index = open_index(index_dir)
    assert [h.id for h in search(index, "haifa").hits] == ["t-haifa"]
    assert get_article(index, "t-oeuvre").lead == "Une œuvre majeure réapparaît à Dijon."
    assert get_article(index, "n-neuf").title == "Nouveau port"
    assert {h.id for h in search(index, "port").hits} == {"t-haifa", "n-neuf"}


@pytest.mark.parametrize(("sample", "sample_bytes"), [(7, ZstdDictColumn.SAMPLE_BYTES),
                                                      (64, ZstdDictColumn.SAMPLE_BYTES),
                                                      (ZstdDictColumn.SAMPLE_VALUES, 20_000),
                                                      (ZstdDictColumn.SAMPLE_VALUES,
                                                       ZstdDictColumn.SAMPLE_BYTES)])
@pytest.mark.parametrize("in_one_call", [True, False])
def test_values_added_a_batch_at_a_time_are_the_same_bytes(monkeypatch, sample, sample_bytes,
                                                           in_one_call):
    """`add_many` (a batch of documents' values) writes what `add` of each writes: gaps,
    empty values, the dictionary made in the middle of a batch, and lengths and offsets
    past one byte and past two (Whoosh's arrays widen)."""
    monkeypatch.setattr(ZstdDictColumn, "SAMPLE_VALUES", sample)
    monkeypatch.setattr(ZstdDictColumn, "SAMPLE_BYTES", sample_bytes)
    if not in_one_call:  # a zstandard backend without multi_compress_to_buffer
        made = schema_module.zstd_compressor

        class _OneByOne:
            def __init__(self, kind: int, data: bytes) -> None:
                self.compress = made(kind, data).compress

        monkeypatch.setattr(schema_module, "zstd_compressor", _OneByOne)
    rng = random.Random(sample)
    values: dict[int, bytes] = {}
    docnum = 0
    for n in range(400):
        docnum += rng.choice((1, 1, 1, 2, 5))
        values[docnum] = b"" if n % 11 == 0 else article_bytes(n) * rng.choice((1, 1, 4))
    values[docnum + 3] = rng.randbytes(70_000)  # incompressible: a length past 65,535
    values[docnum + 4] = article_bytes(1)
    doccount = docnum + 9
    expected = _column_bytes(ZstdDictColumn(), values, doccount)
    data = io.BytesIO()
    writer = ZstdDictColumn().writer(StructFile(data))
    items = sorted(values.items())
    while items:
        size = rng.randint(1, 50)
        batch, items = items[:size], items[size:]
        writer.add_many([d for d, _ in batch], [v for _, v in batch])
    writer.finish(doccount)
    assert data.getvalue() == expected


def test_decompressing_is_decompress_for_each_thread():
    """`decompressing()` (what a page's reading binds once) gives back each value that is
    not empty, as `decompress` does, with the calling thread's own decompressor; the older
    zlib column's is its `decompress`."""
    values = {n: article_bytes(n) * (1 + n % 3) for n in range(600)}
    raw = _column_bytes(ZstdDictColumn(), values, 600)
    reader = ZstdDictColumn().reader(BufferFile(memoryview(raw)), 0, len(raw), 600)
    # the frames as stored (VarBytesColumn's reader), before decompressing
    frames = [super(type(reader), reader).__getitem__(n) for n in range(600)]
    assert frames != [values[n] for n in range(600)]
    decompress = reader.decompressing()
    assert [decompress(frame) for frame in frames] == [values[n] for n in range(600)]
    assert decompress.__self__ is reader._local.decompressor  # the thread's own
    others = []
    thread = threading.Thread(target=lambda: others.append(reader.decompressing()))
    thread.start()
    thread.join()
    assert others[0].__self__ is not decompress.__self__
    assert [others[0](frame) for frame in frames[:50]] == [values[n] for n in range(50)]
    shared = SharedDictColumn()
    raw = _column_bytes(shared, values, 600)
    old = shared.reader(BufferFile(memoryview(raw)), 0, len(raw), 600)
    assert old.decompressing() == old.decompress
