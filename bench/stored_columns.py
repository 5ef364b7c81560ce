#!/usr/bin/env python3
"""Stored values compressed the two ways Furet has, side by side: SharedDictColumn (zlib,
a dictionary of sampled values; CompactCodec's segments) and ZstdDictColumn (zstd, a
dictionary trained per segment; the segments written since).

    python bench/stored_columns.py --index INDEX [--rounds 3] [--reads 10000]

The values are an index's own (`furet-index build` of a corpus): each document's stored
head (the fields a result shows, in HitHeadCodec's segments; every field but the lead and
body in older ones), the lead and body, the other stored fields (HitHeadCodec's third
column; empty for older segments), and feedback's stems, as the stored columns hold them
(pickled) and the `stems` column holds them. Each round writes every
column of values with each class in turn (which goes first turns by round), then reads
`--reads` random documents' values from each: CPU seconds to write, CPU microseconds a
read, and the bytes written. Prints the medians over the rounds and the ratios
ZstdDictColumn / SharedDictColumn; writes bench/results/stored-columns-<time>.json.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import shown_command, write_results  # noqa: E402

COLUMNS = ("head", "texts", "more", "stems")
TEXTS = ("lead", "body")


def index_values(index: str | Path, limit: int | None = None) -> dict[str, list[bytes]]:
    """The stored values of `index`'s first `limit` documents (all by default), by column:
    bytes as the columns are given them."""
    from whoosh.index import open_dir

    from search.whoosh.layout import current_build
    from search.whoosh.private.codec import StoredFields

    with open_dir(str(current_build(Path(index)))).searcher() as searcher:
        reader = searcher.reader()
        stored = StoredFields(reader)
        count = reader.doc_count_all() if limit is None else min(limit, reader.doc_count_all())
        stems = reader.column_reader("stems") if reader.has_column("stems") else None
        values: dict[str, list[bytes]] = {name: [] for name in COLUMNS}
        for docnum in range(count):
            head = stored.head(docnum)
            whole = stored.whole(docnum)
            texts = {k: v for k, v in whole.items() if k in TEXTS}
            more = {k: v for k, v in whole.items() if k not in head and k not in TEXTS}
            values["head"].append(pickle.dumps(head, 2) if head else b"")
            values["texts"].append(pickle.dumps(texts, 2) if texts else b"")
            values["more"].append(pickle.dumps(more, 2) if more else b"")
            values["stems"].append(bytes(stems[docnum]) if stems is not None else b"")
    return values


def _written(column: Any, values: list[bytes]) -> tuple[bytes, float]:
    from whoosh.filedb.structfile import StructFile

    buffer = io.BytesIO()
    started = time.process_time()
    writer = column.writer(StructFile(buffer))
    for docnum, value in enumerate(values):
        writer.add(docnum, value)
    writer.finish(len(values))
    return buffer.getvalue(), time.process_time() - started


def _read_us(column: Any, data: bytes, count: int, docs: list[int]) -> float:
    from whoosh.filedb.compound import BufferFile

    reader = column.reader(BufferFile(memoryview(data)), 0, len(data), count)
    for docnum in docs[:200]:  # the first reads make the decompressor
        reader[docnum]
    started = time.process_time()
    for docnum in docs:
        reader[docnum]
    return (time.process_time() - started) / len(docs) * 1e6


def measure(values: dict[str, list[bytes]], rounds: int, reads: int) -> dict[str, Any]:
    """Per round, per column of values, per class: bytes, CPU seconds to write, CPU
    microseconds a read (the classes alternated)."""
    from search.schema import SharedDictColumn, ZstdDictColumn

    classes = {"zlib": SharedDictColumn, "zstd": ZstdDictColumn}
    runs: list[dict[str, Any]] = []
    for n in range(rounds):
        found: dict[str, Any] = {}
        order = list(classes) if n % 2 == 0 else list(classes)[::-1]
        for name in COLUMNS:
            count = len(values[name])
            docs = [random.Random(n).randrange(count) for _ in range(reads)] if count else []
            for way in order:
                data, seconds = _written(classes[way](), values[name])
                found[f"{way}_{name}_bytes"] = len(data)
                found[f"{way}_{name}_write_s"] = seconds
                found[f"{way}_{name}_read_us"] = _read_us(classes[way](), data, count, docs) \
                    if docs else 0.0
        runs.append(found)
    return {"runs": runs,
            "summary": {key: statistics.median(r[key] for r in runs) for key in runs[0]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__)
    parser.add_argument("--index", required=True, help="a Furet index (furet-index build)")
    parser.add_argument("--limit", type=int, help="its first LIMIT documents only")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=10_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    values = index_values(args.index, args.limit)
    load = [os.getloadavg()[0]]
    results = measure(values, args.rounds, args.reads)
    load.append(os.getloadavg()[0])
    summary = results["summary"]
    print(f"{len(values['head'])} documents, median of {args.rounds} rounds (load "
          f"{load[0]:.1f}-{load[1]:.1f})")
    total = {"zlib": 0, "zstd": 0}
    for name in COLUMNS:
        raw = sum(map(len, values[name]))
        cells = []
        for way in ("zlib", "zstd"):
            total[way] += summary[f"{way}_{name}_bytes"]
            cells.append(f"{way} {summary[f'{way}_{name}_bytes'] / 1e6:.3f} MB, write "
                         f"{summary[f'{way}_{name}_write_s']:.3f} s, read "
                         f"{summary[f'{way}_{name}_read_us']:.2f} µs")
        ratios = " / ".join(
            f"{summary[f'zstd_{name}_{m}'] / summary[f'zlib_{name}_{m}']:.2f}"
            if summary[f"zlib_{name}_{m}"] else "-" for m in ("bytes", "write_s", "read_us"))
        print(f"  {name:6} ({raw / 1e6:.2f} MB raw): " + "; ".join(cells)
              + f"; zstd/zlib size / write / read {ratios}")
    print(f"  all: zlib {total['zlib'] / 1e6:.3f} MB, zstd {total['zstd'] / 1e6:.3f} MB",
          flush=True)
    write_results(args.out, "stored-columns", {
        "command": shown_command("stored_columns.py", sys.argv[1:]),
        "documents": len(values["head"]), "rounds": args.rounds, "reads": args.reads,
        "load_average": load, **results})


if __name__ == "__main__":
    main()
