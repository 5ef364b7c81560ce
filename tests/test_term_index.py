"""The term index written from arrays is Whoosh's, byte for byte, and Whoosh reads it."""

from __future__ import annotations

import random

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb.filestore import RamStorage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
from whoosh.util.numeric import length_to_byte

from search.whoosh.private.termindex import (
    TERMINFO_SIZE,
    TermIndexWriter,
    length_bytes,
    term_infos,
)


def _keys(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    words = {"".join(rng.choice("abcdeéz") for _ in range(rng.randint(1, 12))) for _ in range(n)}
    return sorted(b"\x00\x01" + w.encode("utf-8") for w in words)


def _write(keys: list[bytes], values: list[bytes], bulk: bool, batch: int = 0) -> bytes:
    storage = RamStorage()
    f = storage.create_file("t.trm")
    writer = OrderedHashWriter(f)
    writer.extras["fieldmap"] = {"text": 1}
    if bulk:
        writer = TermIndexWriter.replacing(writer)
        step = batch or len(keys) or 1
        for a in range(0, len(keys), step):
            writer.add_fixed(keys[a:a + step], b"".join(values[a:a + step]), len(values[0]))
    else:
        for key, value in zip(keys, values, strict=True):
            writer.add(key, value)
    writer.close()
    return bytes(storage.open_file("t.trm").read())


def test_term_index_written_in_bulk_is_whooshs_byte_for_byte():
    for n, seed in ((0, 0), (1, 1), (300, 2), (5000, 3)):
        keys = _keys(n, seed)
        values = [i.to_bytes(4, "big") * 3 for i in range(len(keys))]
        expected = _write(keys, values, bulk=False)
        assert _write(keys, values, bulk=True) == expected
        assert _write(keys, values, bulk=True, batch=7) == expected


def test_whoosh_reads_the_bulk_term_index():
    keys = _keys(2000, 4)
    values = [i.to_bytes(4, "big") for i in range(len(keys))]
    storage = RamStorage()
    f = storage.create_file("t.trm")
    writer = TermIndexWriter.replacing(OrderedHashWriter(f))
    writer.add_fixed(keys, b"".join(values), 4)
    writer.close()
    reader = OrderedHashReader(storage.open_file("t.trm"), storage.file_length("t.trm"))
    assert [reader[k] for k in keys] == values
    assert list(reader.keys()) == keys
    assert reader.closest_key(keys[10][:-1]) <= keys[10]


def test_term_infos_are_whooshs_bytes():
    rng = random.Random(5)
    rows = []
    for _ in range(500):
        df = rng.randint(1, 5000)
        minlength = rng.choice([None, 1, 2, 17, 300, 200_000])
        maxlength = max(minlength or 0, rng.choice([0, 1, 40, 5000, 150_000]))
        rows.append((df, df * rng.choice([1.0, 1.5, 3.0]), minlength, maxlength,
                     rng.choice([0.0, 1.0, 4.5]), rng.randint(0, 10**6), rng.randint(0, 10**7),
                     rng.randint(0, 2**40), rng.randint(0, 2**30)))
    expected = []
    for df, weight, minl, maxl, maxw, minid, maxid, offset, length in rows:
        info = W3TermInfo()
        info._weight, info._df, info._minlength, info._maxlength = weight, df, minl, maxl
        info._maxweight, info._minid, info._maxid = maxw, minid, maxid
        info.set_extent(offset, length)
        expected.append(info.to_bytes())
    columns = [np.array([r[i] if r[i] is not None else 0 for r in rows]) for i in range(9)]
    got = term_infos(*columns)
    assert len(got) == TERMINFO_SIZE * len(rows)
    assert got == b"".join(expected)


def test_length_bytes_are_whooshs():
    lengths = np.array([0, 1, 2, 3, 9, 10, 11, 100, 1000, 106373, 106374, 10**7])
    assert length_bytes(lengths).tolist() == [length_to_byte(int(n)) for n in lengths]
