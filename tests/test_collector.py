"""Builds and updates run with fewer cyclic collections, and give the settings back."""

from __future__ import annotations

import gc

from indexer import planner
from indexer.collector import THRESHOLDS, fewer_collections
from tests.conftest import SAMPLES
from tests.indexing import build, update


def test_fewer_collections_inside_and_restored_after():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0  # the objects that existed: out of its sight
        with fewer_collections():  # nested: unchanged, and left so by the inner block
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # still collected when asked
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restored_after_a_failure():
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise ValueError("stop")
    except ValueError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_left_alone_when_collection_is_off():
    gc.disable()
    try:
        with fewer_collections():
            assert gc.get_threshold() != THRESHOLDS
    finally:
        gc.enable()


def test_a_build_and_an_update_write_with_fewer_collections(tmp_path, monkeypatch):
    seen = []
    real = planner._build

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(planner, "_build", spy)
    before = gc.get_threshold()
    build(tmp_path / "index", [SAMPLES], jobs=1)
    assert seen == [THRESHOLDS] and gc.get_threshold() == before
    monkeypatch.setattr(planner, "_plan_update",
                        lambda *a, **k: seen.append(gc.get_threshold()) or a[-1])
    update(tmp_path / "index", [SAMPLES])
    assert seen == [THRESHOLDS, THRESHOLDS] and gc.get_threshold() == before
