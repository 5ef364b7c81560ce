"""The `section` column keeps every value, past Whoosh's 65,535 distinct values a segment."""

from __future__ import annotations

import io
import warnings

import pytest
from whoosh.columns import RefBytesColumn
from whoosh.filedb.compound import BufferFile
from whoosh.filedb.structfile import StructFile

from search.schema import ValuesColumn, build_schema


def round_trip(column, values: dict[int, bytes], doccount: int) -> tuple[list[bytes], int]:
    buffer = io.BytesIO()
    writer = column.writer(StructFile(buffer))
    for docnum, value in sorted(values.items()):
        writer.add(docnum, value)
    writer.finish(doccount)
    data = buffer.getvalue()
    reader = column.reader(BufferFile(memoryview(data)), 0, len(data), doccount)
    return [reader[n] for n in range(doccount)], len(data)


@pytest.mark.parametrize("distinct", [3, 300, 70_000])
def test_every_value_comes_back(distinct):
    doccount = 2 * distinct + 1
    values = {n: f"Livre {n % distinct} > Titre".encode() for n in range(0, doccount - 1, 2)}
    got, _ = round_trip(ValuesColumn(), values, doccount)
    assert got == [values.get(n, b"") for n in range(doccount)]


def test_whoosh_own_column_drops_values_past_65535_and_ours_does_not():
    values = {n: f"rubrique {n}".encode() for n in range(70_000)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, _ = round_trip(RefBytesColumn(), values, 70_000)
    assert theirs[69_999] == b""  # what the test guards against
    ours, _ = round_trip(ValuesColumn(), values, 70_000)
    assert ours == list(values.values())


def test_repeated_values_take_a_byte_a_document():
    values = {n: f"Code civil > Livre {n % 40}".encode() for n in range(10_000)}
    _, size = round_trip(ValuesColumn(), values, 10_000)
    assert size < 10_000 + 40 * 30 + 16


def test_the_schema_uses_it_for_sections():
    assert isinstance(build_schema()["section"].column_type, ValuesColumn)
