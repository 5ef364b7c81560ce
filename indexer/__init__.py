"""Furet's indexer: reads articles in the formats news sites publish and keeps the index.

Imported before anything else of `furet-index` (its package): numpy's OpenBLAS is told to
start no thread pool (OPENBLAS_NUM_THREADS=1, unless set already). Furet makes no BLAS call;
the pool cost every process about 70 ms of CPU while numpy loaded, more at exit, and a
build's parent forks its workers from a process running no other thread. Only a process
that has not loaded numpy yet is affected.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
