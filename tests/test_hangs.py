"""The runaway guard of the hostile-input tests fails a block that runs too long."""

from __future__ import annotations

import time

import pytest

from tests.hangs import no_runaway


def test_a_runaway_block_fails():
    with pytest.raises(pytest.fail.Exception, match="runaway work"), no_runaway("a nap", 1):
        time.sleep(5)


def test_a_quick_block_passes_and_the_alarm_is_cleared():
    with no_runaway("nothing", 1):
        pass
    time.sleep(1.2)  # the alarm was cancelled: nothing fires now
