"""Stored fields and feedback's stems of CompactCodec's segments are compressed with a zlib
dictionary shared by a segment's values: every value comes back, and the column is smaller
than Whoosh's value-by-value compression. (New segments use ZstdDictColumn:
tests/test_zstd_dict_column.py, which also reads and updates an index written with this
column.)"""

from __future__ import annotations

import io

import pytest
from whoosh.columns import CompressedBytesColumn
from whoosh.filedb.compound import BufferFile
from whoosh.filedb.structfile import StructFile

from search.schema import SharedDictColumn
from tests.test_values_column import round_trip


def column_round_trip(column, values: dict[int, bytes], doccount: int) -> tuple[list[bytes], int]:
    got, size = round_trip(column, values, doccount)
    data = io.BytesIO()  # reading the whole column (Whoosh's `load`, merging) gives the same
    writer = column.writer(StructFile(data))
    for docnum, value in sorted(values.items()):
        writer.add(docnum, value)
    writer.finish(doccount)
    raw = data.getvalue()
    assert list(column.reader(BufferFile(memoryview(raw)), 0, len(raw), doccount)) == got
    return got, size


def article_bytes(n: int) -> bytes:
    return (f"{{'id': 'LEGIARTI{n:012d}', 'url': 'https://www.legifrance.gouv.fr/codes/article_lc/"
            f"LEGIARTI{n:012d}', 'section': 'Code civil > Livre {n % 7} > Titre {n % 13}', "
            f"'title': 'Article L{n}'}}").encode()


@pytest.mark.parametrize("doccount", [0, 1, 5, SharedDictColumn.SAMPLE_VALUES + 300])
def test_every_value_comes_back_gaps_and_empty_values_too(doccount):
    values = {n: article_bytes(n) if n % 3 else b"" for n in range(0, doccount, 2)}
    got, _ = column_round_trip(SharedDictColumn(), values, doccount)
    assert got == [values.get(n, b"") for n in range(doccount)]


def test_smaller_than_compressing_each_value_alone():
    values = {n: article_bytes(n) for n in range(3000)}
    got, shared = column_round_trip(SharedDictColumn(), values, 3000)
    assert got == [values[n] for n in range(3000)]
    _, alone = column_round_trip(CompressedBytesColumn(), values, 3000)
    assert shared < alone * 0.7
