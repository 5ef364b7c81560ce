"""Writers that die, writers that collide, and fsync: the index stays whole and converges.

Each test starts real `furet-index` processes. Crashes are SIGKILLs, either at named points
(FURET_CRASH_AT, see search/faults.py) or after a random delay (fixed seed).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.sources import read_articles, walk_sources
from search import open_index
from search.faults import POINTS
from search.whoosh.layout import BUILDS, CURRENT
from tests.stores import WhooshStore

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parent.parent


def furet_index(*args: str, env: dict[str, str] | None = None, **kwargs):
    # Every generation, however small, gets its prepared file: writing it is a crash point.
    env = {**os.environ, "FURET_PREPARED_SEGMENTS": "0", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "indexer.cli", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, **kwargs)


def run_index(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = furet_index(*args, env=env)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def write_corpus(folder: Path, rng: random.Random, generation: int, files: int = 8,
                 per_file: int = 40) -> None:
    """Rewrite `folder` with some articles added, changed and removed since last time."""
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    for f in range(files):
        if rng.random() < 0.15:
            continue  # this file vanishes (pruned)
        lines = []
        for n in range(per_file):
            if rng.random() < 0.1:
                continue  # this record vanishes
            version = generation if rng.random() < 0.2 else 0
            lines.append(json.dumps({
                "id": f"a{f}-{n}",
                "title": f"Dépêche {f}-{n} version {version}",
                "body": f"Texte de la dépêche {n} du fichier {f}, révision {version}. " * 20,
            }, ensure_ascii=False))
        (folder / f"f{f}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def source_state(folder: Path) -> dict[str, str]:
    return {a.id: a.hash for s in walk_sources([folder]) for a in read_articles(s)}


def index_state(index_dir: Path) -> dict[str, str]:
    return WhooshStore(index_dir).state()


def assert_searchable(index_dir: Path) -> None:
    from search import search

    index = open_index(index_dir)
    try:
        assert search(index, "dépêche").total > 0
    finally:
        index.close()


def crash(args: list[str], *, point: str | None, delay: float | None) -> int:
    env = {"FURET_CRASH_AT": point} if point else {}
    proc = furet_index(*args, env=env)
    if delay is not None:
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=120)
    return proc.returncode


@pytest.mark.slow
def test_sigkill_at_twenty_moments_never_loses_the_last_commit(tmp_path):
    rng = random.Random(20261125)
    src, index_dir = tmp_path / "src", tmp_path / "index"
    write_corpus(src, rng, 0)
    assert run_index("build", str(src), "--index-dir", str(index_dir)).returncode == 0
    committed = index_state(index_dir)
    started = time.perf_counter()
    run_index("update", str(src), "--index-dir", str(index_dir))
    update_time = max(time.perf_counter() - started, 0.5)

    update_points = ["adding", "segment-written", "toc-written", "manifest-written"]
    build_points = list(POINTS)
    trials = ([("update", p, None) for p in update_points]
              + [("update", None, rng.uniform(0.05, update_time)) for _ in range(6)]
              + [("build", p, None) for p in build_points]
              + [("build", None, rng.uniform(0.05, update_time * 1.5)) for _ in range(4)])
    assert len(trials) == 14 + len(POINTS)
    for generation, (command, point, delay) in enumerate(trials, 1):
        before = committed
        write_corpus(src, rng, generation)
        wanted = source_state(src)
        args = [command, str(src), "--index-dir", str(index_dir)]
        if command == "update":
            args.append("--prune")
        code = crash(args, point=point, delay=delay)
        assert code in (-signal.SIGKILL, 0), (command, point, delay, code)

        after = index_state(index_dir)  # opens: no half-written state is visible
        # The live index is exactly one committed state: the one before, or the new one.
        if point is None:
            assert after in (before, wanted), (command, delay)
        elif command == "build":  # a build counts once CURRENT points at it
            assert after == (wanted if point == "switched" else before), (command, point)
        else:  # an update counts once Whoosh's table of contents is renamed
            assert after == (before if point in ("adding", "segment-written") else wanted), \
                (command, point)
        assert_searchable(index_dir)

        # The next run finishes and converges to the sources.
        result = run_index("update", "--prune", str(src), "--index-dir", str(index_dir))
        assert result.returncode == 0, result.stderr
        assert index_state(index_dir) == wanted
        check = run_index("check", "--index-dir", str(index_dir))
        assert check.returncode == 0, check.stderr
        committed = wanted
        # Nothing stray is left: one live build, maybe retired ones in their grace period.
        live = os.readlink(index_dir / CURRENT)
        for entry in (index_dir / BUILDS).iterdir():
            assert not entry.name.endswith(".tmp"), entry
            assert entry.name == Path(live).name or (entry / "RETIRED").exists(), entry
        assert not list((index_dir / BUILDS / Path(live).name).glob("*.tmp"))


@pytest.mark.slow
def test_concurrent_updates_one_writer_at_a_time_none_lost(tmp_path):
    index_dir = tmp_path / "index"
    sources = []
    for n in range(5):
        folder = tmp_path / f"src{n}"
        folder.mkdir()
        lines = [json.dumps({"id": f"s{n}-{i}", "title": f"Source {n} article {i}",
                             "body": "Texte. " * 200}) for i in range(150)]
        (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
        sources.append(folder)
    assert run_index("build", str(sources[0]), "--index-dir", str(index_dir)).returncode == 0

    # Two, then five runs started together, without --wait: one writes, others exit 75.
    for group in (sources[:2], sources):
        procs = [furet_index("update", str(s), "--index-dir", str(index_dir)) for s in group]
        codes = [p.wait(timeout=120) for p in procs]
        for p in procs:
            p.communicate()
        assert set(codes) <= {0, 75}, codes
        assert codes.count(0) >= 1

    # With --wait, all of them finish, one after the other, and nothing is lost.
    procs = [furet_index("update", "--wait", "120", str(s), "--index-dir", str(index_dir))
             for s in sources]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, outputs
    expected = {f"s{n}-{i}" for n in range(5) for i in range(150)}
    assert set(index_state(index_dir)) == expected


def test_the_busy_message_names_the_holder(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.json").write_text('{"id": "x", "title": "Titre", "body": "Texte."}')
    index_dir = tmp_path / "index"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from tests.stores import WhooshStore;"
        "lock = WhooshStore(Path(sys.argv[2])).writer_busy(); lock.__enter__();"
        "print('held', flush=True);"
        "time.sleep(30)"), str(ROOT), str(index_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_index("update", str(src), "--index-dir", str(index_dir))
        assert result.returncode == 75
        assert f"(process {holder.pid})" in result.stderr
    finally:
        holder.kill()
        holder.communicate()
    # Killed holder: the lock is free again.
    assert run_index("update", str(src), "--index-dir", str(index_dir)).returncode == 0


def test_commits_are_fsynced(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    from tests.indexing import build, update

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.json").write_text('{"id": "x", "title": "Titre", "body": "Texte."}')
    index_dir = tmp_path / "index"
    build(index_dir, [src])
    live = index_dir / os.readlink(index_dir / CURRENT)
    assert any(".toc" in p for p in synced), synced  # the table of contents, before its rename
    assert any(p.endswith(".seg") for p in synced), synced  # the segment
    assert str(live.resolve()) in synced  # the build folder, after the rename of the TOC
    assert str(index_dir.resolve()) in synced  # the index folder, after the CURRENT switch
    synced.clear()
    (src / "b.json").write_text('{"id": "y", "title": "Autre", "body": "Texte."}')
    update(index_dir, [src])
    assert any(".toc" in p for p in synced) and str(live.resolve()) in synced


def test_a_segments_loose_files_are_not_fsynced_before_they_are_assembled(tmp_path,
                                                                          monkeypatch):
    """The files a segment writer writes are copied into the segment's compound file and
    deleted before the commit: the compound file is fsynced, they are not (each fsync a
    wait for the disk); the segment reads back whole after the commit."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    from tests.indexing import build, opened_generation, update

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.json").write_text('{"id": "x", "title": "Titre", "body": "Texte."}')
    index_dir = tmp_path / "index"
    build(index_dir, [src])
    monkeypatch.setattr(os, "fsync", recording_fsync)
    (src / "b.json").write_text('{"id": "y", "title": "Autre", "body": "Texte."}')
    update(index_dir, [src])
    segments = [p for p in synced if p.endswith(".seg")]
    assert len(segments) == 1, synced
    loose = [p for p in synced if os.path.basename(p).split(".")[0]
             == os.path.basename(segments[0]).split(".")[0] and p not in segments]
    assert loose == []
    assert not [p for p in os.listdir(os.path.dirname(segments[0]))
                if p.split(".")[0] == os.path.basename(segments[0]).split(".")[0]
                and not p.endswith(".seg")]  # (assembled, then deleted)
    with opened_generation(index_dir) as found:
        assert sorted(f["id"] for f in found.searcher.all_stored_fields()) == ["x", "y"]


@pytest.mark.parametrize("command", ["build", "update"])
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_a_writer_cleanly(tmp_path, command, number):
    """A cron timeout (SIGTERM) or a closed terminal (SIGHUP) in the middle of a run: exit 1
    with a message, no traceback, the lock released, no unfinished build left, and the
    last committed index intact."""
    rng = random.Random(number)
    src, index_dir = tmp_path / "src", tmp_path / "index"
    write_corpus(src, rng, 0)
    assert run_index("build", str(src), "--index-dir", str(index_dir)).returncode == 0
    committed = index_state(index_dir)
    builds = set((index_dir / BUILDS).iterdir())
    write_corpus(src, rng, 1)
    proc = furet_index(command, str(src), "--index-dir", str(index_dir),
                       env={"FURET_STALL_AT": "adding"})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _holds_lock(index_dir):
            time.sleep(0.05)
        time.sleep(0.5)  # well inside the run: at the stall point, articles being added
        proc.send_signal(number)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert f"stopped by {signal.Signals(number).name}" in err and "Traceback" not in err
    assert set((index_dir / BUILDS).iterdir()) == builds  # nothing left half-built
    assert index_state(index_dir) == committed
    assert_searchable(index_dir)
    assert run_index("update", "--prune", str(src), "--index-dir", str(index_dir)
                     ).returncode == 0
    assert index_state(index_dir) == source_state(src)


def _holds_lock(index_dir: Path) -> bool:
    """Whether some process holds the index's write lock."""
    import fcntl

    lock = index_dir / "write.lock"
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
