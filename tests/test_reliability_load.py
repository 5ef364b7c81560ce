"""Reindexing under load: readers never get an error, nor a generation that was never committed.

A real `furet-serve` with 2 workers serves an index of 3,000 generated dispatches to 16
concurrent clients for 60 seconds. After a quiet baseline, `furet-index update --prune`
adds 1,000 dispatches, changes 200 and prunes a file of 200 (three runs), then a full
`build` swaps a new index in. Every response is recorded; the count of a probe word, which
only a known set of dispatches holds, tells which committed state a reader saw.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from search.whoosh.layout import CURRENT
from tests.conftest import ROOT
from tests.figures import report_figures
from tests.newswire import PROBE, Dispatch, dispatches, probe_total, write_jsonl

pytestmark = pytest.mark.reliability

CLIENTS = 16
LOAD_SECONDS = 60  # the whole load, baseline included
BASELINE_SECONDS = 15  # load without any writer, before the first update
PAUSE_SECONDS = 3  # between writer runs, so readers meet every committed state
TAIL_SECONDS = 5  # at least this much load after the final build
REQUEST_TIMEOUT = 10
SEED = 20240107

PROBE_PATH = "/api/v1/search?" + urlencode({"q": PROBE})


def query_mix() -> list[str]:
    """The fixed mix of searches the clients send, besides the probe."""
    words = ["budget", "conseil municipal", "grève", "Rennes", "besancon", "Sète", "écoles",
             "loyers", "cheminots", "sécheresse", "éolien", "usine", "festival", "préfète",
             "hôpital", "tribunal", "rentrée", "unanimité", "commerçants", "Épinal"]
    paths = []
    for word in words:
        paths += [{"q": word}, {"q": word, "page": "2"}, {"q": word, "sort": "newest"},
                  {"q": word, "section": "Économie"}, {"q": word, "year": "2024"}]
    paths += [{"q": '"conseil municipal"'}, {"q": "budg*"}, {"q": "grève OR sécheresse"},
              {"q": "rennes -budget"}, {"q": "titre:lyon"}, {"q": "auteur:moreau"},
              {"q": "la mairie a voté le budget"}, {"q": ""}, {"q": "", "sort": "oldest"},
              {"q": "hiafa"}, {"q": "depuis:2024-06 usine"}]
    return ["/api/v1/search?" + urlencode(p, quote_via=quote) for p in paths]


@dataclass(frozen=True)
class Response:
    """One request as a client saw it (monotonic seconds)."""

    sent: float
    received: float
    path: str
    status: int | None
    total: int | None  # of the probe query
    error: str | None

    @property
    def latency_ms(self) -> float:
        return (self.received - self.sent) * 1000


class Load:
    """CLIENTS threads sending searches, one connection a request, until stopped."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.responses: list[Response] = []
        self._stop = threading.Event()
        self._paths = query_mix()
        self._threads = [threading.Thread(target=self._client, args=(k,), daemon=True)
                         for k in range(CLIENTS)]

    def _client(self, k: int) -> None:
        rng = random.Random(SEED + k)
        while not self._stop.is_set():
            path = PROBE_PATH if rng.random() < 0.25 else rng.choice(self._paths)
            self.responses.append(self.request(path))

    def request(self, path: str) -> Response:
        status = total = error = None
        sent = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            reply = conn.getresponse()
            body = reply.read()
            status = reply.status
            if status == 200 and path == PROBE_PATH:
                total = json.loads(body)["total"]
        except (OSError, http.client.HTTPException, ValueError, KeyError) as err:
            error = f"{type(err).__name__}: {err}"
        finally:
            conn.close()
        return Response(sent, time.monotonic(), path, status, total, error)

    def get_json(self, path: str) -> object:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request("GET", path)
            reply = conn.getresponse()
            assert reply.status == 200, (path, reply.status)
            return json.loads(reply.read())
        finally:
            conn.close()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)


@dataclass
class Run:
    """One writer run during the load: when it ran and the probe total it committed."""

    label: str
    started: float
    finished: float
    total: int
    summary: str


def furet_index(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FURET_")}
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def percentiles(responses: list[Response]) -> dict[str, float | int]:
    latencies = sorted(r.latency_ms for r in responses if r.status == 200)
    if len(latencies) < 2:
        return {"requests": len(responses)}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": len(responses), "p50_ms": round(cuts[49], 1),
            "p95_ms": round(cuts[94], 1), "max_ms": round(latencies[-1], 1)}


def test_the_probe_count_tells_which_state_was_committed(tmp_path):
    """What the load test relies on, quickly: every search of the clients' mix is
    answered, and the probe's count is that of the sources last committed, after a build,
    an update and a prune (the test below checks it for a minute, under load, against the
    real server)."""
    from tests.indexing import build, update
    from web import create_app

    rng = random.Random(SEED)
    src, index_dir = tmp_path / "articles", tmp_path / "index"
    src.mkdir()
    files = {"part-00.jsonl": dispatches(rng, 0, 100), "part-01.jsonl": dispatches(rng, 100, 50)}
    for name, items in files.items():
        write_jsonl(src / name, items)
    build(index_dir, [src])
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "QUERY_LOG": "",
                         "RATELIMIT": ""}).test_client()
    for path in query_mix():
        assert client.get(path).status_code == 200, path
    expected = [probe_total(files)]
    totals = [client.get(PROBE_PATH).get_json()["total"]]

    files["part-02.jsonl"] = dispatches(rng, 150, 100)
    write_jsonl(src / "part-02.jsonl", files["part-02.jsonl"])
    update(index_dir, [src])
    expected.append(probe_total(files))
    totals.append(client.get(PROBE_PATH).get_json()["total"])

    del files["part-00.jsonl"]
    (src / "part-00.jsonl").unlink()
    update(index_dir, [src], prune=True)
    expected.append(probe_total(files))
    totals.append(client.get(PROBE_PATH).get_json()["total"])
    assert totals == expected
    assert len(set(totals)) == 3  # each state told apart by its count


@pytest.mark.slow
def test_reindex_under_load(tmp_path, furet_server):
    rng = random.Random(SEED)
    src, index_dir = tmp_path / "articles", tmp_path / "index"
    src.mkdir()
    files: dict[str, list[Dispatch]] = {}
    start = 0
    for n, size in enumerate([500] * 5 + [300, 200]):  # 3,000 dispatches
        files[f"part-{n:02d}.jsonl"] = dispatches(rng, start, size)
        start += size

    def write(*names: str) -> None:
        for name in names:
            write_jsonl(src / name, files[name])

    write(*files)
    initial = furet_index("build", str(src), "--index-dir", str(index_dir), "--quiet")
    assert initial.returncode == 0, initial.stderr
    totals = [probe_total(files)]

    # The writer runs, each preparing the sources first; all but the build use --prune.
    def add_thousand() -> None:
        nonlocal start
        for name in ("part-07.jsonl", "part-08.jsonl"):
            files[name] = dispatches(rng, start, 500)
            start += 500
            write(name)

    def change_two_hundred() -> None:
        plain = [(name, d) for name, items in files.items() for d in items if not d.probe]
        touched = set()
        for name, d in rng.sample(plain, 200):  # each gains the probe word: +200
            d.probe, d.revision = True, 1
            touched.add(name)
        write(*sorted(touched))

    def prune_two_hundred() -> None:
        del files["part-06.jsonl"]  # the file of 200: gone from disk, pruned by --prune
        (src / "part-06.jsonl").unlink()

    def add_hundred_for_the_build() -> None:
        files["part-09.jsonl"] = dispatches(rng, start, 100)
        write("part-09.jsonl")

    update = ["update", "--prune", "--wait", "60", str(src), "--index-dir", str(index_dir)]
    steps: list[tuple[str, Callable[[], None], list[str], str]] = [
        ("update: 1,000 added", add_thousand, update, "added 1000, updated 0"),
        ("update: 200 changed", change_two_hundred, update, "added 0, updated 200"),
        ("update --prune: 200 pruned", prune_two_hundred, update, "deleted 200"),
        ("build: swapped in (100 more)", add_hundred_for_the_build,
         ["build", "--wait", "60", str(src), "--index-dir", str(index_dir)], "added {count}"),
    ]

    server = furet_server(index_dir, workers=2, env={"FURET_RATELIMIT": ""})
    load = Load(server.url)
    for _ in range(4):  # each worker opens the index before the clock starts
        assert load.request(PROBE_PATH).total == totals[0]
    runs: list[Run] = []
    began = time.monotonic()
    load.start()
    try:
        time.sleep(BASELINE_SECONDS)
        for label, prepare, args, says in steps:
            prepare()
            totals.append(probe_total(files))
            started = time.monotonic()
            result = furet_index(*args)
            finished = time.monotonic()
            assert result.returncode == 0, (label, result.stderr)
            count = sum(len(items) for items in files.values())
            assert says.format(count=count) in result.stdout, (label, result.stdout)
            runs.append(Run(label, started, finished, totals[-1], result.stdout.strip()))
            time.sleep(PAUSE_SECONDS)
        time.sleep(max(TAIL_SECONDS, began + LOAD_SECONDS - time.monotonic()))
    finally:
        load.stop()
    ended = time.monotonic()
    assert len(set(totals)) == len(totals), totals  # every state is told apart by its total

    responses = sorted(load.responses, key=lambda r: r.sent)
    errors = [r for r in responses if r.error]
    server_errors = [r for r in responses if r.status is not None and r.status >= 500]
    assert not errors, f"{len(errors)} connection errors, e.g. {errors[:3]}"
    assert not server_errors, f"{len(server_errors)} 5xx, e.g. {server_errors[:3]}"
    assert {r.status for r in responses} == {200}

    # Each probe answer is a committed state: at least the last one committed before the
    # request was sent, at most the last one whose writer had started when it came back.
    wrong = []
    for r in (r for r in responses if r.path == PROBE_PATH):
        low = sum(run.finished <= r.sent for run in runs)
        high = sum(run.started < r.received for run in runs)
        if r.total not in totals[low:high + 1]:
            wrong.append((round(r.sent - began, 2), r.total, totals[low:high + 1]))
    assert not wrong, f"{len(wrong)} probe answers from no committed state: {wrong[:5]}"
    last = [r for r in responses if r.path == PROBE_PATH and r.sent >= runs[-1].finished]
    assert len(last) >= 20 and {r.total for r in last} == {totals[-1]}

    # Both workers serve the new build: health names the build CURRENT points at.
    live = Path(os.readlink(index_dir / CURRENT)).name
    for _ in range(6):
        health = load.get_json("/api/v1/health")
        assert health["generation"].startswith(live + "."), (health, live)
        assert health["documents"] == sum(len(items) for items in files.values())
    assert server.stop() == 0
    assert "Traceback" not in server.stderr()

    reindex_start, reindex_end = runs[0].started, runs[-1].finished
    phases = {
        "baseline": [r for r in responses if r.sent < reindex_start],
        "during_reindex": [r for r in responses if reindex_start <= r.sent <= reindex_end],
        "after": [r for r in responses if r.sent > reindex_end],
    }
    figures = {
        "clients": CLIENTS,
        "workers": 2,
        "seconds": round(ended - began, 1),
        "requests": len(responses),
        "probe_requests": sum(r.path == PROBE_PATH for r in responses),
        "status_5xx": len(server_errors),
        "connection_errors": len(errors),
        "committed_probe_totals": totals,
        "writer_runs": [{"run": run.label, "at_s": round(run.started - began, 1),
                         "seconds": round(run.finished - run.started, 1),
                         "summary": run.summary} for run in runs],
        **{name: percentiles(items) for name, items in phases.items()},
    }
    report_figures("reindex_under_load", figures, tmp_path)
