"""Freed memory kept for the next search (search/whoosh/heap.py): glibc's thresholds set
when an index is opened for searching, from FURET_SEARCH_HEAP_MB."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from search import open_index
from search.errors import ConfigurationError
from search.whoosh import heap

ROOT = Path(__file__).resolve().parent.parent


class FakeLibc:
    """Records mallopt's calls; answers `result`."""

    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.result = result

    def mallopt(self, param, value) -> int:
        self.calls.append((param.value, value.value))
        return self.result


def test_both_thresholds_are_set():
    libc = FakeLibc()
    assert heap.keep_freed(64, libc) is True
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, 32 * 2**20),
                          (heap.M_TRIM_THRESHOLD, 64 * 2**20), (heap.M_TOP_PAD, 64 * 2**20)]
    libc = FakeLibc()
    assert heap.keep_freed(16, libc) is True
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, 16 * 2**20),
                          (heap.M_TRIM_THRESHOLD, 16 * 2**20), (heap.M_TOP_PAD, 16 * 2**20)]


def test_nothing_is_set_for_zero_and_a_refusal_is_told():
    libc = FakeLibc()
    assert heap.keep_freed(0, libc) is False
    assert libc.calls == []
    assert heap.keep_freed(64, FakeLibc(result=0)) is False


def test_the_setting(monkeypatch):
    monkeypatch.delenv("FURET_SEARCH_HEAP_MB", raising=False)
    assert heap.search_heap_mb() == heap.SEARCH_HEAP_MB == 32
    monkeypatch.setenv("FURET_SEARCH_HEAP_MB", "0")
    assert heap.search_heap_mb() == 0
    monkeypatch.setenv("FURET_SEARCH_HEAP_MB", "-5")
    assert heap.search_heap_mb() == 0
    monkeypatch.setenv("FURET_SEARCH_HEAP_MB", "beaucoup")
    with pytest.raises(ConfigurationError, match="FURET_SEARCH_HEAP_MB"):
        heap.search_heap_mb()


def test_opening_an_index_sets_it_once(samples_index, monkeypatch):
    asked: list[int] = []

    def recorded(megabytes, libc=None):
        asked.append(megabytes)
        return megabytes > 0

    monkeypatch.setattr(heap, "keep_freed", recorded)
    monkeypatch.setattr(heap, "_kept", None)
    monkeypatch.delenv("FURET_SEARCH_HEAP_MB", raising=False)
    for _ in range(2):
        open_index(samples_index).close()
    assert asked == [32]
    monkeypatch.setenv("FURET_SEARCH_HEAP_MB", "16")
    open_index(samples_index).close()
    assert asked == [32, 16]
    monkeypatch.setenv("FURET_SEARCH_HEAP_MB", "nombreux")
    with pytest.raises(ConfigurationError):
        open_index(samples_index)


# Arrays of 8 MB, 12 at a time, made and freed six times (as a search at a million articles
# does): the minor page faults of the last five times.
FAULTS = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from search.whoosh import heap
    heap.keep_freed(int(sys.argv[1]))
    def once():
        arrays = [np.ones(2**20) for _ in range(12)]
        del arrays
    once()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        once()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


@pytest.mark.skipif(heap._glibc() is None, reason="glibc's malloc only")  # noqa: SLF001
def test_the_pages_are_reused():
    def faults(megabytes: int) -> int:
        done = subprocess.run([sys.executable, "-c", FAULTS, str(megabytes)], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        return int(done.stdout)

    kept, default = faults(128), faults(0)
    # 96 MB made five times is about 120,000 pages: faulted again each time without
    assert default > 10_000
    assert kept < default / 10
    # 64 MB kept of the 96 freed each time: the rest is faulted again, not everything
    assert kept < faults(64) < default / 2
