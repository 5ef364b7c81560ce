"""`furet-index`: build, update, delete, status, check, show; exit codes and messages.

The tests taking the `store` fixture run on both backends: a Whoosh index folder, then a
PostgreSQL database (tests/stores.py). What only one backend has stays apart: the Whoosh
build folders and CURRENT symlink below, the PostgreSQL schema, staging tables and
advisory lock in tests/test_pg_indexer.py.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from pathlib import Path

import pytest

from indexer.cli import main
from search import search
from search.whoosh.layout import BUILDS, CURRENT
from tests.stores import WhooshStore

ARTICLES = {"t-haifa", "t-gaza", "t-gaz", "t-oeuvre"}  # tests/data/articles


# ---------------------------------------------------------------- both backends


def test_build_indexes_every_article_and_prints_one_summary(runner, articles, store):
    result = store.run(runner, "build", str(articles))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        result.stdout.strip()
    ]  # exactly one line
    assert result.stdout.startswith("added 4, updated 0, unchanged 0, deleted 0, rejected 0 in ")
    assert store.ids() == ARTICLES


def test_status_and_check_report_documents_generation_size_schema(runner, articles, store):
    store.run(runner, "build", str(articles))
    result = store.run(runner, "status", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["documents"] == 4
    assert info["files"] == 2
    assert info["schema_version"] == {"whoosh": 1, "postgresql": 4}[store.name]
    assert info["size_bytes"] > 0
    assert info["generation"].startswith(info["build"] + ".")
    assert info["generation"] == store.generation()  # the one readers see
    assert info["last_update"]
    text = store.run(runner, "status")
    assert "documents" in text.stdout and "schema version" in text.stdout
    check = store.run(runner, "check")
    assert check.exit_code == 0 and "index OK: 4 documents" in check.stdout


def test_commands_without_an_index_say_how_to_build_one(runner, store):
    for command in ("status", "check"):
        result = store.run(runner, command)
        assert result.exit_code == 1, (command, result.output)
        assert store.no_index_yet in result.stderr, command


def test_update_on_an_empty_index_builds(runner, articles, store):
    result = store.run(runner, "update", str(articles))
    assert result.exit_code == 0, result.output
    assert "added 4" in result.stdout
    assert store.ids() == ARTICLES


def test_update_reads_nothing_when_nothing_changed(runner, articles, store, monkeypatch):
    store.run(runner, "build", str(articles))
    generation = store.generation()

    import indexer.planner

    def no_parsing(source, *args, **kwargs):
        raise AssertionError(f"{source.path} was parsed again")

    monkeypatch.setattr(indexer.planner, "read_records_digested", no_parsing)
    result = store.run(runner, "update", str(articles))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 0, updated 0, unchanged 4, deleted 0, rejected 0")
    assert store.generation() == generation  # no empty commit

    # A touched file with the same bytes is not parsed either (same digest).
    os.utime(articles / "oeuvre.json", None)
    result = store.run(runner, "update", str(articles))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 0, updated 0, unchanged 4")
    assert store.generation() == generation


def test_update_adds_changes_and_deletes(runner, articles, store):
    store.run(runner, "build", str(articles))
    generation = store.generation()
    lines = (articles / "depeches.jsonl").read_text().splitlines()
    changed = json.loads(lines[0])
    changed["title"] = "Nouvelle attaque contre Haïfa"
    new = {"id": "t-new", "title": "Un nouvel article", "body": "Texte du nouvel article."}
    # line 2 (t-gaza) disappears from the file, line 1 changes, a record is added
    (articles / "depeches.jsonl").write_text(
        "\n".join([json.dumps(changed), lines[2], json.dumps(new)]) + "\n")
    result = store.run(runner, "update", str(articles))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1, updated 1, unchanged 2, deleted 1, rejected 0")
    assert store.ids() == {"t-haifa", "t-gaz", "t-oeuvre", "t-new"}
    assert store.generation() != generation
    with store.opened() as backend:
        hits = search(backend, "nouvelle attaque").hits
        assert hits[0].title == "Nouvelle attaque contre Haïfa"
        assert "nouvel" in backend.suggest("nouv")  # the vocabulary followed
        assert search(backend, "gaza").total == 1  # the deleted one is gone


def test_prune_deletes_only_vanished_files_under_given_sources(runner, articles, store,
                                                              tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.json").write_text('{"id": "t-other", "title": "Autre", "body": "Ailleurs."}')
    store.run(runner, "build", str(articles), str(other))
    (articles / "oeuvre.json").unlink()

    result = store.run(runner, "update", str(articles))
    assert "deleted 0" in result.stdout  # without --prune nothing is deleted
    assert "t-oeuvre" in store.ids()

    result = store.run(runner, "update", "--prune", str(articles))
    assert result.exit_code == 0, result.output
    assert "deleted 1" in result.stdout
    # other/ was not among the sources of this run: its article stays
    assert store.ids() == {"t-haifa", "t-gaza", "t-gaz", "t-other"}


def test_verbose_says_what_happens_to_each_article(runner, articles, store):
    result = store.run(runner, "build", "--verbose", str(articles))
    assert "added t-haifa (" in result.stderr
    (articles / "oeuvre.json").unlink()
    result = store.run(runner, "update", "--verbose", "--prune", str(articles))
    assert result.exit_code == 0, result.output
    assert "unchanged " in result.stderr and "deleted t-oeuvre (" in result.stderr
    quiet = store.run(runner, "update", "--quiet", str(articles))
    assert quiet.stdout == "" and quiet.exit_code == 0


def test_bad_input_is_reported_and_good_articles_are_indexed(runner, tmp_path, store):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.json").write_text('{"id": "ok", "title": "Bon", "body": "Un bon article."}')
    (src / "empty.html").write_bytes(b"")
    (src / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (src / "lines.jsonl").write_text(
        '{"id": "l1", "title": "Ligne un", "body": "Texte un."}\n'
        "{not json}\n"
        '{"id": "l3", "title": 42, "body": "Titre numérique."}\n'
        '{"id": "l4", "title": "Sans texte"}\n'
        '{"id": "l5", "title": "Date", "body": "x", "published": "le jour d\'après"}\n'
        '{"id": "l1", "title": "Doublon", "body": "Même id."}\n'
        '["a list"]\n'
        '{"id": "l8", "title": "Auteurs", "body": "x", "authors": 7}\n'
        # NUL and control characters, which PostgreSQL's text cannot hold, are dropped
        '{"id": "l9", "title": "Nul\\u0000", "body": "Caractères de contrôle\\u0007."}\n'
    )
    (src / "broken.json").write_text('[{"id": "a1", "title": "A", "body": "a"},\n{"id": ')
    result = store.run(runner, "build", str(src))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    expected = [
        f"{src}/binary.txt: binary content, not a text file",
        f"{src}/broken.json:2: invalid JSON: Expecting value",
        f"{src}/empty.html: empty file",
        f"{src}/lines.jsonl:2: invalid JSON: Expecting property name enclosed in double "
        "quotes (column 2)",
        f"{src}/lines.jsonl:3: title: expected a string, got a number",
        f"{src}/lines.jsonl:4: no text (the article body is empty)",
        f"{src}/lines.jsonl:5: published: unreadable date \"le jour d'après\"",
        f"{src}/lines.jsonl:6: duplicate id 'l1', already read from {src}/lines.jsonl:1; "
        "skipped",
        f"{src}/lines.jsonl:7: expected a JSON object, got list",
        f"{src}/lines.jsonl:8: authors: expected a list of strings, got a number",
    ]
    assert sorted(errors) == expected
    assert store.ids() == {"ok", "l1", "a1", "l9"}
    assert result.stdout.startswith("added 4, updated 0, unchanged 0, deleted 0, rejected 10")


def test_a_build_that_finds_nothing_keeps_the_index(runner, articles, store, tmp_path):
    store.run(runner, "build", str(articles))
    generation = store.generation()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = store.run(runner, "build", str(empty))
    assert result.exit_code == 1
    assert "no article found in" in result.stderr and "the index was not changed" in result.stderr
    assert store.generation() == generation
    assert store.ids() == ARTICLES


def test_a_failed_build_or_update_commits_nothing(runner, articles, store, monkeypatch):
    store.run(runner, "build", str(articles))
    generation = store.generation()

    def broken(article, path):
        raise OSError(5, "Input/output error")

    store.break_article_writing(monkeypatch, broken)
    for command in ("build", "update"):
        (articles / f"{command}.json").write_text(
            f'{{"id": "n-{command}", "title": "Neuf", "body": "Neuf."}}')
        result = store.run(runner, command, str(articles))
        assert result.exit_code == 1, (command, result.output)
        assert "Input/output error" in result.stderr, command
        assert store.generation() == generation, command
        assert store.ids() == ARTICLES, command  # n-build, n-update: not there


def test_busy_index_exits_75_and_wait_waits(runner, articles, store):
    store.run(runner, "build", str(articles))
    with store.writer_busy():
        result = store.run(runner, "update", str(articles))
    assert result.exit_code == 75
    assert "is being written by another furet-index" in result.stderr
    assert "--wait" in result.stderr

    locked = threading.Event()

    def hold() -> None:
        with store.writer_busy():
            locked.set()
            time.sleep(0.6)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    result = store.run(runner, "update", "--wait", "10", str(articles))
    holder.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.3


def test_delete_by_id_and_url(runner, articles, store):
    store.run(runner, "build", str(articles))
    result = store.run(runner, "delete", "t-gaz", "https://journal.example/monde/gaza")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "deleted 2"
    assert store.ids() == {"t-haifa", "t-oeuvre"}
    result = store.run(runner, "delete", "nope")
    assert result.exit_code == 1
    assert "nope: no article with this id or URL" in result.stderr


def test_search_after_an_update_adding_articles_without_section_or_date(runner, articles,
                                                                        store):
    store.run(runner, "build", str(articles))
    (articles / "bare.json").write_text('{"id": "bare", "title": "Gaza", "body": "Sans rien."}')
    assert store.run(runner, "update", str(articles)).exit_code == 0
    with store.opened() as backend:
        results = search(backend, "gaza")
        assert {h.id for h in results.hits} == {"t-gaza", "t-gaz", "bare"}
        assert {f.value: f.count for f in results.facets["section"]} == {
            "International": 1, "Économie": 1}
        newest = search(backend, "", sort="newest", per_page=10)
        assert [h.id for h in newest.hits][-1] == "bare"  # undated: last
        stats = backend.stats()
        assert stats["documents"] == 5 and stats["last_update"]


def test_an_article_deleted_by_hand_comes_back_when_its_file_changes(runner, articles,
                                                                     store):
    store.run(runner, "build", str(articles))
    path = articles / "depeches.jsonl"
    store.run(runner, "delete", "t-haifa")
    # Its line is unchanged; another line is added to the file.
    path.write_text(path.read_text() + json.dumps(
        {"id": "t-other", "title": "Autre", "body": "Texte."}) + "\n")
    result = store.run(runner, "update", str(articles))
    assert result.stdout.startswith("added 2,")
    assert "t-haifa" in store.ids()


# ---------------------------------------------------------------- reading the sources


def test_gzipped_json_lines(runner, tmp_path):
    store = WhooshStore(tmp_path / "index")
    src = tmp_path / "feed.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write('{"id": "gz1", "title": "Compressé", "body": "Un article compressé."}\n')
    result = store.run(runner, "build", str(src))
    assert result.exit_code == 0, result.output
    assert store.ids() == {"gz1"}


@pytest.mark.parametrize("name", ["with space.json", "new\nline.json"])
def test_odd_file_names(runner, tmp_path, name):
    store = WhooshStore(tmp_path / "index")
    src = tmp_path / "src"
    src.mkdir()
    (src / name).write_text('{"title": "Nom bizarre", "body": "Texte."}')
    result = store.run(runner, "build", str(src))
    assert result.exit_code == 0, result.output
    assert store.ids() == {name.replace("\n", "\\n")}


def test_usage_errors_exit_2(runner, tmp_path):
    result = WhooshStore(tmp_path / "index").run(runner, "build", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert runner.invoke(main, ["build"]).exit_code == 2
    assert runner.invoke(main, ["update", "--nope", str(tmp_path)]).exit_code == 2
    assert runner.invoke(main, ["update", "--wait", "-1", str(tmp_path)]).exit_code == 2
    assert not (tmp_path / "index").exists()


def test_unknown_format_given_explicitly(runner, tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    result = WhooshStore(tmp_path / "index").run(runner, "build", str(tmp_path / "notes.docx"))
    assert result.exit_code == 1
    assert "notes.docx: unknown format (expected .atom, .htm, .html" in result.stderr


def test_show_prints_fields_json_and_body(runner, articles):
    result = runner.invoke(main, ["show", str(articles / "oeuvre.json"), "--json"])
    assert result.exit_code == 0, result.output
    [article] = json.loads(result.stdout)
    assert article["title"] == "Le chef-d’œuvre retrouvé"
    assert article["body"] == ("Le tableau, une œuvre de jeunesse, était perdu depuis 1944.\n\n"
                               "Il sera exposé jusqu’à Noël.")
    assert article["published"] == "2022-06-01T00:00:00+02:00"
    assert article["tags"] == ["peinture", "musée"]
    body = runner.invoke(main, ["show", str(articles / "oeuvre.json"), "--body"])
    assert body.stdout.strip() == article["body"]
    text = runner.invoke(main, ["show", str(articles / "oeuvre.json")])
    assert "title      Le chef-d’œuvre retrouvé" in text.stdout


# ---------------------------------------------------------------- Whoosh only: builds, manifest


def test_update_decodes_only_the_changed_lines_of_json_lines(runner, articles, tmp_path,
                                                             monkeypatch):
    """(Whoosh only: the PostgreSQL writer decodes every line of a file that changed.)"""
    store = WhooshStore(tmp_path / "index")
    store.run(runner, "build", str(articles))
    path = articles / "depeches.jsonl"
    lines = path.read_text().splitlines()
    changed = json.loads(lines[1])
    changed["title"] = "Aide humanitaire : les convois passent"
    lines[1] = json.dumps(changed)
    lines.append(json.dumps({"id": "t-new", "title": "Nouveau", "body": "Texte."}))
    path.write_text("\n".join(lines) + "\n")

    import indexer.sources

    decoded = []
    real = indexer.sources.make_article

    def counting(draft, **kwargs):
        decoded.append(draft.get("id"))
        return real(draft, **kwargs)

    monkeypatch.setattr(indexer.sources, "make_article", counting)
    result = store.run(runner, "update", str(articles))
    assert result.stdout.startswith("added 1, updated 1, unchanged 3, deleted 0, rejected 0")
    assert sorted(decoded) == ["t-gaza", "t-new"]  # the two unchanged lines were not decoded
    with store.opened() as backend:
        assert search(backend, "convois passent").hits[0].id == "t-gaza"


def test_a_build_switches_current_only_when_it_commits(runner, articles, tmp_path):
    store = WhooshStore(tmp_path / "index")
    store.run(runner, "build", str(articles))
    assert (store.index_dir / CURRENT).is_symlink()
    before = os.readlink(store.index_dir / CURRENT)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert store.run(runner, "build", str(empty)).exit_code == 1  # found nothing
    assert os.readlink(store.index_dir / CURRENT) == before


def test_a_failed_build_leaves_the_live_index_and_no_debris(runner, articles, tmp_path,
                                                            monkeypatch):
    store = WhooshStore(tmp_path / "index")
    store.run(runner, "build", str(articles))
    before = os.readlink(store.index_dir / CURRENT)

    def broken(article, path):
        raise OSError(28, "No space left on device")

    store.break_article_writing(monkeypatch, broken)
    result = store.run(runner, "build", str(articles))
    assert result.exit_code == 1
    assert "no space left on device; the last committed index is unchanged" in result.stderr
    assert os.readlink(store.index_dir / CURRENT) == before
    assert [p.name for p in (store.index_dir / BUILDS).iterdir()] == [Path(before).name]
    assert store.ids() == ARTICLES
