"""Freed memory kept for the next search, instead of handed back to the system.

A search over a large index makes numpy arrays of several megabytes (at a million articles,
an array over every document is 8 MB; a question's terms, feedback and merges make about
60 MB of them) and frees them when it answers. glibc's malloc gives blocks that large back
to the system when they are freed (its own thresholds, which follow the largest freed block
only up to a point, then trim the top of the heap), so the next search gets fresh pages
again, and the kernel faults in and zeroes each one: at a million articles that was about a
quarter of a question's CPU time (600,000 page faults for 90 questions, 13 ms of system time
each on 38 of user time).

`keep_freed` sets glibc's M_MMAP_THRESHOLD (blocks up to that size come from the heap
rather than from a mapping of their own), M_TRIM_THRESHOLD (free memory at the heap's top
is kept up to that size) and M_TOP_PAD (what a trim leaves: a search that freed more gives
back only the excess) so that the next search reuses the pages. What a process keeps is
at most what its largest search had freed, and at most FURET_SEARCH_HEAP_MB (default 32):
private memory of each searching process, which the setting trades against those faults
(0 leaves malloc as it is). Only glibc is tuned (another C library: nothing is done);
results are the same either way, only where numpy's arrays come from changes.
"""

from __future__ import annotations

import ctypes
import platform
from typing import Any

from search.settings import int_setting

__all__ = ["SEARCH_HEAP_MB", "keep_freed", "keep_freed_for_searching", "search_heap_mb"]

SEARCH_HEAP_MB = 32
# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
# glibc refuses an M_MMAP_THRESHOLD above HEAP_MAX_SIZE / 2: 32 MB on 64-bit systems
MMAP_THRESHOLD_MAX = 32 * 2**20

_kept: int | None = None  # the megabytes set in this process, once set


def search_heap_mb() -> int:
    """FURET_SEARCH_HEAP_MB, else SEARCH_HEAP_MB (ConfigurationError if not a number)."""
    return int_setting("FURET_SEARCH_HEAP_MB", SEARCH_HEAP_MB, 0,
                       f"a number of megabytes, such as {SEARCH_HEAP_MB} (0: leave malloc as "
                       "it is)")


def _glibc() -> Any:
    """The process's C library when it is glibc (whose mallopt this module knows), else
    None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def keep_freed(megabytes: int, libc: Any = None) -> bool:
    """Have malloc keep up to `megabytes` of freed memory for reuse (and serve blocks up
    to that size, at most 32 MB, from its heap): True when set, False when `megabytes` is
    0 or the C library is not glibc (`libc`: the library to set, by default the
    process's)."""
    if megabytes <= 0:
        return False
    libc = _glibc() if libc is None else libc
    if libc is None:
        return False
    size = megabytes * 2**20
    # Either threshold turns glibc's own moving thresholds off, so both are set; the pad
    # is what a trim leaves at the top, so that a search freeing more than `size` gives
    # back only the excess (without it, every page down to the heap's live blocks).
    done = [libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) for param, value in (
        (M_MMAP_THRESHOLD, min(size, MMAP_THRESHOLD_MAX)), (M_TRIM_THRESHOLD, size),
        (M_TOP_PAD, size))]
    return all(done)


def keep_freed_for_searching() -> bool:
    """`keep_freed(search_heap_mb())`, once per process (a second index opened, or the
    same one again, changes nothing); True when malloc keeps freed memory."""
    global _kept
    megabytes = search_heap_mb()
    if _kept is None or _kept != megabytes:
        _kept = megabytes if keep_freed(megabytes) else 0
    return _kept > 0
