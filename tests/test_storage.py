"""search/whoosh/private/mapped.py: segment files read through the memory map, as a stream too."""

from __future__ import annotations

import io
import mmap
import pickle

from hypothesis import given
from hypothesis import strategies as st

from search.whoosh.private import BufferStream, MappedFile

_OPS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.one_of(st.none(), st.integers(-1, 40))),
    st.tuples(st.just("readline"), st.one_of(st.none(), st.integers(-1, 40))),
    st.tuples(st.just("seek"), st.integers(0, 120), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("tell"),),
), max_size=30)


@given(st.binary(max_size=100).map(lambda b: b.replace(b"\x00", b"\n")), _OPS)
def test_buffer_stream_reads_like_bytesio(data, ops):
    mine, theirs = BufferStream(memoryview(data)), io.BytesIO(data)
    for op, *args in ops:
        if op == "seek":
            offset, whence = args
            offset = -offset if whence == 2 else offset
            offset = -offset if whence == 1 and offset % 2 else offset
            assert mine.seek(offset, whence) == theirs.seek(offset, whence)
        else:
            assert getattr(mine, op)(*args) == getattr(theirs, op)(*args), (op, args)
    mine.seek(0)
    theirs.seek(0)
    assert list(mine) == list(theirs)


def test_a_mapped_file_streams_without_copying(tmp_path):
    path = tmp_path / "segment"
    payload = pickle.dumps({"terms": list(range(1000))}, protocol=4)
    path.write_bytes(b"header" + payload)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        part = view[6:]
        wrapped = MappedFile(part, name="segment")
        assert isinstance(wrapped.file, BufferStream)
        assert wrapped.get(0, 2) == payload[:2]
        wrapped.seek(0)
        assert wrapped.read_pickle() == {"terms": list(range(1000))}
        wrapped.file.close()
        wrapped._buf = None
        part.release()
        view.release()
