"""The context a build enters for every article: the file system's and the manifest's errors
become IndexWriteError, anything else passes through as it is."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from search.errors import FuretError, IndexWriteError
from search.whoosh.writing_errors import WriteErrors


def test_os_and_sqlite_errors_become_index_write_errors(tmp_path):
    cause = PermissionError(errno.EACCES, "Permission denied", "x.seg")
    with pytest.raises(IndexWriteError, match=r"Permission denied \(x\.seg\); the last") as err:
        with WriteErrors(tmp_path):
            raise cause
    assert err.value.__cause__ is cause
    with pytest.raises(IndexWriteError, match="no space left on device"):
        with WriteErrors(tmp_path):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(IndexWriteError, match="the manifest cannot be written"):
        with WriteErrors(tmp_path):
            raise sqlite3.OperationalError("database is locked")


def test_other_errors_pass_through_and_nothing_is_raised_without_one(tmp_path):
    for error in (FuretError("as is"), KeyError("k"), ValueError("v"), KeyboardInterrupt()):
        with pytest.raises(type(error)) as found:
            with WriteErrors(tmp_path):
                raise error
        assert found.value is error
    with WriteErrors(tmp_path) as entered:
        pass
    assert entered is None
