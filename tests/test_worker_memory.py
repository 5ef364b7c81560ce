"""furet-serve workers hand the heap's free pages back to the system now and then."""

from __future__ import annotations

import sys

import pytest
from gunicorn.workers.gthread import ThreadWorker

from web import worker
from web.worker import TRIM_EVERY, FrontWorker


def test_a_worker_releases_free_memory_after_its_first_request_then_every_so_often(
        monkeypatch):
    calls = []
    monkeypatch.setattr(worker, "release_free_memory", lambda: calls.append(1))
    monkeypatch.setattr(ThreadWorker, "finish_request", lambda self, conn, fs: None)
    front = FrontWorker.__new__(FrontWorker)  # no gunicorn arbiter: only the counting
    front.running, front.answered = {}, 0
    for _ in range(3 * TRIM_EVERY):
        front.finish_request(object(), None)
    assert len(calls) == 1 + 3  # the first request (the index opened), then every TRIM_EVERY


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_c_library_can_release_free_memory():
    worker._malloc_trim.cache_clear()
    assert worker._malloc_trim() is not None  # noqa: SLF001 - the function it calls
    worker.release_free_memory()
