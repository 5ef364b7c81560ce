"""A build loads only what it writes with: the query code (parser, ranking, snippets,
Whoosh's query modules) stays out of `furet-index build`'s processes, whose parent imports
everything its forked workers use before any of them starts. The public names of `search`
and `search.whoosh` still import as before (module `__getattr__`, PEP 562)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

import search
import search.whoosh
from search.whoosh import prepared
from search.whoosh import writer as whoosh_writer
from search.whoosh.layout import current_build, open_build
from search.whoosh.private import leaves_of
from tests.conftest import ROOT, SAMPLES
from tests.indexing import build

# Modules a search needs and a build does not.
QUERY_MODULES = (
    "search.backend", "search.query", "search.request", "search.results", "search.ranking",
    "search.snippets", "search.questions", "search.compiling", "search.facets",
    "search.whoosh.backend", "search.whoosh.compile", "search.whoosh.evaluate",
    "search.whoosh.facets", "search.whoosh.spelling", "search.whoosh.feedback",
    "whoosh.query", "whoosh.searching",
)


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded once it has run `code`."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, env=env)
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_build_loads_no_query_code(tmp_path, jobs):
    index = tmp_path / "index"
    loaded = _modules_after(
        "from indexer import planner\n"
        "from search.stores import store_for\n"
        f"with store_for(index_dir={str(index)!r}).open_writer() as writer:\n"
        f"    report = planner.build(writer, [{str(SAMPLES)!r}], jobs={jobs},"
        " parallel_above=0)\n"
        "assert report.added == 42, report\n",
        env={k: v for k, v in os.environ.items() if not k.startswith("FURET_")})
    assert not loaded & set(QUERY_MODULES)
    assert "search.whoosh.private.writing" in loaded  # (it did write)


def test_an_update_loads_no_query_code(tmp_path):
    """An update that replaces articles finds their committed copies without a searcher
    (whose module loads Whoosh's query modules); one that deletes articles may load them."""
    index, folder = tmp_path / "index", tmp_path / "articles"
    folder.mkdir()
    lines = [json.dumps({"id": f"a{n}", "title": f"Titre {n}", "text": f"Texte {n}."}) + "\n"
             for n in range(6)]
    (folder / "a.jsonl").write_text("".join(lines))
    build(index, [folder], jobs=1)
    lines[2] = lines[2].replace("Texte 2.", "Texte deux.")
    (folder / "a.jsonl").write_text("".join(lines))
    loaded = _modules_after(
        "from indexer import planner\n"
        "from search.stores import store_for\n"
        f"with store_for(index_dir={str(index)!r}).open_writer() as writer:\n"
        f"    report = planner.update(writer, [{str(folder)!r}])\n"
        "assert (report.updated, report.unchanged) == (1, 5), report\n",
        env={k: v for k, v in os.environ.items() if not k.startswith("FURET_")})
    assert not loaded & set(QUERY_MODULES)
    assert "search.whoosh.private.writing" in loaded  # (it did write)


def test_the_indexer_command_loads_no_query_code():
    loaded = _modules_after("import indexer.cli")
    assert not loaded & set(QUERY_MODULES)
    assert "indexer.planner" in loaded


def test_searching_still_loads_what_it_needs():
    loaded = _modules_after("from search import SearchRequest, search")
    assert {"search.request", "search.query", "search.backend"} <= loaded


@pytest.mark.parametrize("name", search.__all__)
def test_every_public_name_of_search_imports(name):
    found = getattr(search, name)
    exec(f"from search import {name} as again", namespace := {})  # noqa: S102
    assert namespace["again"] is found
    assert name in dir(search)


def test_public_names_come_from_their_modules():
    assert search.SearchRequest is importlib.import_module("search.request").SearchRequest
    assert search.search is importlib.import_module("search.backend").search
    assert search.store_for is importlib.import_module("search.stores").store_for
    assert search.Article is importlib.import_module("search.results").Article
    assert search.FuretError is importlib.import_module("search.errors").FuretError
    from search import query  # a submodule, as before

    assert query is importlib.import_module("search.query")


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        search.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from search import no_such_name", {})  # noqa: S102
    with pytest.raises(AttributeError, match="no_such_name"):
        search.whoosh.no_such_name  # noqa: B018


def test_the_whoosh_store_names_import():
    assert search.whoosh.WhooshWriter is importlib.import_module(
        "search.whoosh.writer").WhooshWriter
    assert search.whoosh.WhooshBackend is importlib.import_module(
        "search.whoosh.backend").WhooshBackend
    for name in search.whoosh.__all__:
        assert getattr(search.whoosh, name) is not None


def test_the_table_of_contents_counts_as_a_reader_does(tmp_path, monkeypatch):
    # Whether a generation gets its prepared file is read from its table of contents:
    # the same [segment, documents] a reader of it gives.
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
    build(tmp_path / "one", [SAMPLES], jobs=1)
    build(tmp_path / "two", [SAMPLES], jobs=2, parallel_above=0)
    for name in ("one", "two"):
        ix = open_build(current_build(tmp_path / name))
        try:
            with ix.reader() as reader:
                from_reader = [[leaf.segment().segment_id(), leaf.doc_count_all()]
                               for leaf, _ in leaves_of(reader)]
            assert len(from_reader) > 1
            assert prepared.toc_segments(ix) == from_reader
        finally:
            ix.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads counted in /proc")
def test_the_indexer_starts_no_blas_threads():
    # numpy's OpenBLAS would start a pool of threads while loading (Furet makes no BLAS
    # call): a build's parent forks its workers from a process running one thread.
    script = ("import os, indexer.cli, numpy\n"
              "print(len(os.listdir('/proc/self/task')), os.environ['OPENBLAS_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, env=env)
    assert done.stdout.split() == ["1", "1"]
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert done.stdout.split()[1] == "2"  # a setting given is kept


@pytest.mark.parametrize("command", ["build", "update"])
def test_a_build_or_update_leaves_its_objects_to_the_system_at_exit(tmp_path, command):
    # The interpreter's last collection is skipped: gc.freeze runs among the exit handlers.
    extra = ["--jobs", "1"] if command == "build" else []
    if command == "update":
        build(tmp_path / "i", [SAMPLES], jobs=1)
    arguments = [command, str(SAMPLES), "--index-dir", str(tmp_path / "i"), "-q", *extra]
    script = (
        "import atexit, gc\n"
        "from indexer.cli import main\n"
        "try:\n"
        f"    main({arguments!r})\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "assert gc.get_freeze_count() == 0\n"
        "atexit._run_exitfuncs()\n"
        "print(gc.get_freeze_count() > 0)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["True"]


def test_a_one_process_build_adds_with_the_objects_before_it_frozen(tmp_path, monkeypatch):
    """The objects made before the articles are added (the modules' above all) stay out of
    the collector's passes while they are (as in the forked workers of a shared build), and
    are back in them after."""
    import gc

    frozen: list[int] = []
    put = whoosh_writer.WhooshWriter.put

    def counting(self, article, path):
        frozen.append(gc.get_freeze_count())
        return put(self, article, path)

    monkeypatch.setattr(whoosh_writer.WhooshWriter, "put", counting)
    before = gc.get_freeze_count()
    build(tmp_path / "ix", [SAMPLES], jobs=1)
    assert frozen and min(frozen) > before + 1000
    assert gc.get_freeze_count() == before


def test_dates_of_the_usual_kinds_load_no_date_parser_of_their_own():
    """ISO 8601 and French dates are read without loading dateutil (about 10 ms of every
    indexer run); RSS's and dateutil's kinds load theirs when one comes, and still read."""
    script = (
        "import sys\n"
        "from indexer.dates import parse_date\n"
        "iso = parse_date('2024-01-07T10:15:00+01:00').isoformat()\n"
        "french = parse_date('lundi 1er janvier 2024 à 14h30').isoformat()\n"
        "before = 'dateutil' in sys.modules\n"
        "rss = parse_date('Sun, 07 Jan 2024 10:15:00 +0100').isoformat()\n"
        "other = parse_date('January 7, 2024').date().isoformat()\n"
        "print(before, iso, french, rss, other, 'dateutil.parser' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True,
                          env={**os.environ, "FURET_TIMEZONE": "Europe/Paris"})
    assert done.stdout.split() == ["False", "2024-01-07T10:15:00+01:00",
                                   "2024-01-01T14:30:00+01:00", "2024-01-07T10:15:00+01:00",
                                   "2024-01-07", "True"]
