"""Measuring: wall time and peak memory of a whole process tree, percentiles, medians."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring as help, and --corpus."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=doc)
    parser.add_argument("--corpus", required=True, help="JSONL(.gz) with id, title, text")
    return parser


@dataclass(frozen=True)
class Run:
    """One command run: seconds of wall time, peak RSS of its process tree, exit code, and
    the CPU seconds (user + system) of the whole tree: on a shared machine, wall time
    mostly measures the other jobs."""

    seconds: float
    peak_rss: int
    returncode: int
    cpu_seconds: float = float("nan")


def run_measured(argv: Sequence[str], *, interval: float = 0.05, **kwargs: object) -> Run:
    """Run `argv`, sampling the summed RSS of the process and all its children."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
            except psutil.NoSuchProcess:
                break
            peak = max(peak, total)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = proc.wait()
    seconds = time.perf_counter() - started
    # Waited-for descendants (a build's worker processes) count in their parent's children.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    sampler.join()
    return Run(seconds, peak, returncode, cpu)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_of(pid: int) -> int:
    """Current RSS of one process, in bytes."""
    return psutil.Process(pid).memory_info().rss


def write_results(folder: str | Path, name: str, results: dict[str, Any]) -> Path:
    """Write `results` to FOLDER/NAME-<UTC time>.json (said on stderr); the file."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return path


def time_in_turn(texts: Sequence[str], ways: dict[str, Callable[[str], object]], rounds: int,
                 reset: Callable[[], object]) -> dict[str, list[list[float]]]:
    """Each text run every way in turn, `reset` (the result cache emptied) before each;
    which way goes first rotates by round, after one warm-up pass. The milliseconds of
    each round, by way."""
    for text in texts:
        for run in ways.values():
            run(text)
    names = list(ways)
    runs: dict[str, list[list[float]]] = {name: [] for name in names}
    for n in range(rounds):
        times: dict[str, list[float]] = {name: [] for name in names}
        order = names[n % len(names):] + names[:n % len(names)]
        for text in texts:
            for name in order:
                reset()
                started = time.perf_counter()
                ways[name](text)
                times[name].append((time.perf_counter() - started) * 1000)
        for name in names:
            runs[name].append(times[name])
    return runs


def time_passes(texts: Sequence[str], ways: dict[str, Callable[[str], object]], rounds: int,
                reset: Callable[[], object]) -> dict[str, list[list[float]]]:
    """Each way's whole pass over the texts, the ways one after the other, `reset` (the
    result cache emptied) before each pass; which way goes first rotates by round, after
    one warm-up pass of every way. The milliseconds of each round, by way.

    Unlike `time_in_turn`, a way's searches follow each other as a server's do, without
    the other ways' work between them; the rounds make one query's timing one of
    several, so that a p50 over a hundred queries timed once no longer moves with them."""
    names = list(ways)
    for name in names:
        for text in texts:
            ways[name](text)
    runs: dict[str, list[list[float]]] = {name: [] for name in names}
    for n in range(rounds):
        for name in names[n % len(names):] + names[:n % len(names)]:
            reset()
            run, times = ways[name], []
            for text in texts:
                started = time.perf_counter()
                run(text)
                times.append((time.perf_counter() - started) * 1000)
            runs[name].append(times)
    return runs


class ScriptProcess:
    """A Python process running `script` (a `-c` program) in the checkout `tree`, asked one
    JSON command a line on its standard input, answering one JSON value a line: one
    version's searching process when two versions are timed side by side."""

    def __init__(self, script: str, tree: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", script, str(tree), *args],
            cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, command: dict[str, Any]) -> Any:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"a searching process stopped ({self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


FOLDER_OPTIONS = ("--index", "--source", "--out", "--work", "--fts5", "--database-url")


def shown_command(script: str, argv: Sequence[str]) -> str:
    """The command line to record with results, never this machine's paths: the folders
    (and database addresses) given to FOLDER_OPTIONS shown as DIR or NAME=DIR, any other
    absolute path as PATH (relative ones, such as ../shared/corpora/..., are kept)."""
    shown, hide = [script], False
    for arg in argv:
        option, equals, value = arg.partition("=")
        if hide:
            named = equals and "/" not in option
            shown.append(f"{option}=DIR" if named else "DIR")
        elif equals and option in FOLDER_OPTIONS:
            shown.append(f"{option}=DIR")
        elif arg.startswith("/") or (equals and value.startswith("/")):
            shown.append(f"{option}=PATH" if equals and option.startswith("-") else "PATH")
        else:
            shown.append(arg)
        hide = not hide and arg in FOLDER_OPTIONS
    return " ".join(shown)
