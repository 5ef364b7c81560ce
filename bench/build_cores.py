"""How many cores a shared build keeps busy, and when: each process's CPU read from the
kernel every 50 ms while `furet-index build --jobs N` runs.

    python bench/build_cores.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        [--jobs 2] [--runs 3] [--source TREE] [--interval 0.05] [--out FILE]

Each run builds a new index in a temporary folder, in a fresh process. `--source TREE`
measures the code of another checkout of Furet too (e.g. the previous commit, exported),
run in turn with this one: `this` and `source` alternate, `--runs` times each. For each run
it prints the wall time, the CPU of every process (the parent, each worker, multiprocessing's own
processes), the parent's time alone at the start (until a worker has used CPU) and at the end
(after the last worker ended), and the core-seconds left idle (`jobs` cores minus the
cores in use, summed over the run): with two workers on two cores, every idle
core-second is half a second of wall time a perfect split would not have. The load
average is printed with each run (other jobs share the machine). The processes' CPU is
read from /proc/PID/schedstat (nanoseconds; Linux only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cpu_ns(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            words = f.read().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(w.decode(errors="replace") for w in words if w)
    if "resource_tracker" in text:
        return "resource tracker"
    if "forkserver" in text:
        return "forkserver"
    return "worker"


def watch(tree: Path, corpus: str, jobs: int, interval: float, keep: bool = False,
          index: Path | None = None) -> dict[str, Any]:
    """One build of `corpus` by the code in `tree`, watched; what it showed. The index is
    built in `index` (kept) if given, else in a temporary folder (removed)."""
    out = Path(tempfile.mkdtemp(prefix="furet-cores-"))
    target = index if index is not None else out / "index"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    load = os.getloadavg()[0]
    started = time.monotonic()
    log = (out / "stderr").open("wb")  # (a pipe could fill while nobody reads it)
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "build", corpus,
                             "--index-dir", str(target), "--jobs", str(jobs), "--quiet"],
                            cwd=tree, env=env, stdout=subprocess.DEVNULL,
                            stderr=log)
    log.close()  # the child has its own copy
    cpu: dict[int, int] = {}  # pid -> last CPU ns read
    seen: dict[int, tuple[float, float | None]] = {}  # child pid -> (first, last) busy
    names: dict[int, str] = {}
    samples: list[tuple[float, float, float]] = []  # (time, parent cores, children cores)
    last = started
    while proc.poll() is None:
        time.sleep(interval)
        now = time.monotonic()
        parent_ns = _cpu_ns(proc.pid)
        kids = _children(proc.pid)
        child_delta = 0
        for pid in kids:
            if pid not in names:
                names[pid] = _name(pid)
            ns = _cpu_ns(pid)
            if ns is not None and ns > cpu.get(pid, 0):
                # (a worker that has ended stays a child until the parent joins it: its
                # CPU no longer grows)
                child_delta += ns - cpu.get(pid, 0)
                cpu[pid] = ns
                first = seen.get(pid, (now - started, None))[0]
                seen[pid] = (first, now - started)
        parent_delta = 0 if parent_ns is None else parent_ns - cpu.get(proc.pid, 0)
        if parent_ns is not None:
            cpu[proc.pid] = parent_ns
        span = now - last
        samples.append((now - started, parent_delta / 1e9 / span, child_delta / 1e9 / span))
        last = now
    wall = time.monotonic() - started
    err = (out / "stderr").read_text(errors="replace")
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the build failed ({proc.returncode}): {err[-2000:]}")
    workers = [pid for pid in seen if names[pid] == "worker"]
    # The parent's time alone at the start: until a worker first used CPU (its start);
    # at the end: after the last worker last used CPU.
    head = min((seen[pid][0] for pid in workers), default=wall)
    ends = [seen[pid][1] for pid in workers if seen[pid][1] is not None]
    tail = wall - max(ends) if ends else 0.0
    idle = 0.0
    previous = 0.0
    for t, parent, kids in samples:
        idle += max(0.0, jobs - parent - kids) * (t - previous)
        previous = t
    return {
        "wall_s": round(wall, 2),
        "load": round(load, 2),
        "parent_cpu_s": round(cpu.get(proc.pid, 0) / 1e9, 2),
        "workers_cpu_s": [round(cpu.get(pid, 0) / 1e9, 2) for pid in workers],
        "others_cpu_s": {names[pid]: round(cpu.get(pid, 0) / 1e9, 2)
                          for pid in seen if names[pid] != "worker"},
        "head_alone_s": round(head, 2),
        "tail_alone_s": round(tail, 2),
        "alone_s": round(head + tail, 2),
        "idle_core_s": round(idle, 2),
        "workers_busy_s": [[round(seen[pid][0], 2),
                            None if seen[pid][1] is None else round(seen[pid][1], 2)]
                           for pid in workers],
        **({"samples": [[round(v, 3) for v in s] for s in samples]} if keep else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, help="another checkout, run in turn with this")
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--out", type=Path, help="write the runs here as JSON")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each run's index in DIR/<this|source>-<run>")
    parser.add_argument("--samples", action="store_true",
                        help="keep every sample (time, parent's cores, workers' cores)")
    args = parser.parse_args()
    corpus = os.path.abspath(args.corpus)
    trees = {"this": ROOT}
    if args.source:
        trees["source"] = args.source.resolve()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for n in range(args.runs):
        for name, tree in (trees.items() if n % 2 == 0 else reversed(trees.items())):
            index = args.keep / f"{name}-{n}" if args.keep else None
            run = watch(tree, corpus, args.jobs, args.interval, args.samples, index)
            runs[name].append(run)
            print(name, json.dumps({k: v for k, v in run.items() if k != "samples"}),
                  flush=True)
    summary = {name: {key: statistics.median(r[key] for r in found)
                      for key in ("wall_s", "parent_cpu_s", "head_alone_s", "tail_alone_s",
                                  "alone_s", "idle_core_s")}
               for name, found in runs.items()}
    for name, medians in summary.items():
        print(name, "medians", json.dumps(medians))
    if args.out:
        args.out.write_text(json.dumps({"corpus": args.corpus, "jobs": args.jobs,
                                        "runs": runs, "medians": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
