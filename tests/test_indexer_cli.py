"""`furet-index`: build, update, delete, status, show; exit codes and messages."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from pathlib import Path

import pytest

from indexer.cli import main
from search import open_index, search
from search.whoosh.layout import BUILDS, CURRENT
from search.whoosh.lock import writer_lock


def ids(index_dir: Path) -> set[str]:
    index = open_index(index_dir)
    return {fields["id"] for fields in index.current().searcher.all_stored_fields()}


def run(runner, *args: str, index_dir: Path):
    return runner.invoke(main, [*args, "--index-dir", str(index_dir)])


def test_build_indexes_every_article_and_prints_one_summary(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    result = run(runner, "build", str(articles), index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        result.stdout.strip()
    ]  # exactly one line
    assert result.stdout.startswith("added 4, updated 0, unchanged 0, deleted 0, rejected 0 in ")
    assert ids(index_dir) == {"t-haifa", "t-gaza", "t-gaz", "t-oeuvre"}
    assert (index_dir / CURRENT).is_symlink()


def test_status_reports_documents_generation_size_schema(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    result = run(runner, "status", "--json", index_dir=index_dir)
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["documents"] == 4
    assert info["files"] == 2
    assert info["schema_version"] == 1
    assert info["size_bytes"] > 0
    assert info["generation"].startswith(info["build"])
    assert info["last_update"]
    text = run(runner, "status", index_dir=index_dir)
    assert "documents" in text.stdout and "schema version" in text.stdout


def test_update_reads_nothing_when_nothing_changed(runner, articles, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    generation = open_index(index_dir).generation

    import indexer.planner

    def no_parsing(source, *args, **kwargs):
        raise AssertionError(f"{source.path} was parsed again")

    monkeypatch.setattr(indexer.planner, "read_records_digested", no_parsing)
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 0, updated 0, unchanged 4, deleted 0, rejected 0")
    assert open_index(index_dir).generation == generation  # no empty commit

    # A touched file with the same bytes is not parsed either (same digest).
    os.utime(articles / "oeuvre.json", None)
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.stdout.startswith("added 0, updated 0, unchanged 4")


def test_update_adds_changes_and_deletes(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    lines = (articles / "depeches.jsonl").read_text().splitlines()
    changed = json.loads(lines[0])
    changed["title"] = "Nouvelle attaque contre Haïfa"
    new = {"id": "t-new", "title": "Un nouvel article", "body": "Texte du nouvel article."}
    # line 2 (t-gaza) disappears from the file, line 1 changes, a record is added
    (articles / "depeches.jsonl").write_text(
        "\n".join([json.dumps(changed), lines[2], json.dumps(new)]) + "\n")
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1, updated 1, unchanged 2, deleted 1, rejected 0")
    assert ids(index_dir) == {"t-haifa", "t-gaz", "t-oeuvre", "t-new"}
    hits = search(open_index(index_dir), "nouvelle attaque").hits
    assert hits[0].title == "Nouvelle attaque contre Haïfa"


def test_prune_deletes_only_vanished_files_under_given_sources(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.json").write_text('{"id": "t-other", "title": "Autre", "body": "Ailleurs."}')
    run(runner, "build", str(articles), str(other), index_dir=index_dir)
    (articles / "oeuvre.json").unlink()

    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert "deleted 0" in result.stdout  # without --prune nothing is deleted
    assert "t-oeuvre" in ids(index_dir)

    result = run(runner, "update", "--prune", str(articles), index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert "deleted 1" in result.stdout
    # other/ was not among the sources of this run: its article stays
    assert ids(index_dir) == {"t-haifa", "t-gaza", "t-gaz", "t-other"}


def test_update_on_an_empty_index_dir_builds(runner, articles, tmp_path):
    result = run(runner, "update", str(articles), index_dir=tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert "added 4" in result.stdout


def test_bad_input_is_reported_and_good_articles_are_indexed(runner, tmp_path):
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
    )
    (src / "broken.json").write_text('[{"id": "a1", "title": "A", "body": "a"},\n{"id": ')
    index_dir = tmp_path / "index"
    result = run(runner, "build", str(src), index_dir=index_dir)
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
    assert ids(index_dir) == {"ok", "l1", "a1"}
    assert result.stdout.startswith("added 3, updated 0, unchanged 0, deleted 0, rejected 10")


def test_gzipped_json_lines(runner, tmp_path):
    src = tmp_path / "feed.jsonl.gz"
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write('{"id": "gz1", "title": "Compressé", "body": "Un article compressé."}\n')
    result = run(runner, "build", str(src), index_dir=tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert ids(tmp_path / "index") == {"gz1"}


def test_usage_errors_exit_2(runner, tmp_path):
    result = run(runner, "build", str(tmp_path / "missing"), index_dir=tmp_path / "index")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert runner.invoke(main, ["build"]).exit_code == 2
    assert runner.invoke(main, ["update", "--nope", str(tmp_path)]).exit_code == 2
    assert runner.invoke(main, ["update", "--wait", "-1", str(tmp_path)]).exit_code == 2
    assert not (tmp_path / "index").exists()


def test_unknown_format_given_explicitly(runner, tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    result = run(runner, "build", str(tmp_path / "notes.docx"), index_dir=tmp_path / "index")
    assert result.exit_code == 1
    assert "notes.docx: unknown format (expected .atom, .htm, .html" in result.stderr


def test_a_build_that_finds_nothing_keeps_the_index(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    before = os.readlink(index_dir / CURRENT)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(runner, "build", str(empty), index_dir=index_dir)
    assert result.exit_code == 1
    assert "no article found in" in result.stderr and "the index was not changed" in result.stderr
    assert os.readlink(index_dir / CURRENT) == before
    assert len(ids(index_dir)) == 4


def test_a_failed_build_leaves_the_live_index_and_no_debris(runner, articles, tmp_path,
                                                            monkeypatch):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    before = os.readlink(index_dir / CURRENT)

    import search.whoosh.writer

    def broken(article, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(search.whoosh.writer, "to_document", broken)
    result = run(runner, "build", str(articles), index_dir=index_dir)
    assert result.exit_code == 1
    assert "no space left on device; the last committed index is unchanged" in result.stderr
    assert os.readlink(index_dir / CURRENT) == before
    assert [p.name for p in (index_dir / BUILDS).iterdir()] == [Path(before).name]
    assert len(ids(index_dir)) == 4


def test_a_failed_update_commits_nothing(runner, articles, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    generation = open_index(index_dir).generation
    (articles / "new.json").write_text('{"id": "n", "title": "Neuf", "body": "Neuf."}')

    import search.whoosh.writer

    monkeypatch.setattr(search.whoosh.writer, "to_document",
                        lambda a, p: (_ for _ in ()).throw(OSError(5, "Input/output error")))
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.exit_code == 1
    assert "Input/output error" in result.stderr
    assert open_index(index_dir).generation == generation
    assert "n" not in ids(index_dir)


def test_busy_index_exits_75_and_wait_waits(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    with writer_lock(index_dir):
        result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.exit_code == 75
    assert "is being written by another furet-index" in result.stderr
    assert "--wait" in result.stderr

    released = threading.Event()

    def hold() -> None:
        with writer_lock(index_dir):
            released.wait(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    started = time.monotonic()
    result = run(runner, "update", "--wait", "10", str(articles), index_dir=index_dir)
    holder.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.3


def test_delete_by_id_and_url(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    result = run(runner, "delete", "t-gaz", "https://journal.example/monde/gaza",
                 index_dir=index_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "deleted 2"
    assert ids(index_dir) == {"t-haifa", "t-oeuvre"}
    result = run(runner, "delete", "nope", index_dir=index_dir)
    assert result.exit_code == 1
    assert "nope: no article with this id or URL" in result.stderr


def test_commands_without_an_index_say_how_to_build_one(runner, tmp_path):
    result = run(runner, "status", index_dir=tmp_path / "index")
    assert result.exit_code == 1
    assert "holds no index yet; build one with: furet-index build --index-dir" in result.stderr


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


@pytest.mark.parametrize("name", ["with space.json", "new\nline.json"])
def test_odd_file_names(runner, tmp_path, name):
    src = tmp_path / "src"
    src.mkdir()
    (src / name).write_text('{"title": "Nom bizarre", "body": "Texte."}')
    result = run(runner, "build", str(src), index_dir=tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert ids(tmp_path / "index") == {name.replace("\n", "\\n")}


def test_verbose_says_what_happens_to_each_article(runner, articles, tmp_path):
    index_dir = tmp_path / "index"
    result = run(runner, "build", "--verbose", str(articles), index_dir=index_dir)
    assert "added t-haifa (" in result.stderr
    (articles / "oeuvre.json").unlink()
    result = run(runner, "update", "--verbose", "--prune", str(articles), index_dir=index_dir)
    assert "unchanged " in result.stderr and "deleted t-oeuvre (" in result.stderr
    quiet = run(runner, "update", "--quiet", str(articles), index_dir=index_dir)
    assert quiet.stdout == "" and quiet.exit_code == 0


def test_search_after_an_update_adding_articles_without_section_or_date(runner, articles,
                                                                        tmp_path):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
    (articles / "bare.json").write_text('{"id": "bare", "title": "Gaza", "body": "Sans rien."}')
    assert run(runner, "update", str(articles), index_dir=index_dir).exit_code == 0
    index = open_index(index_dir)
    results = search(index, "gaza")
    assert {h.id for h in results.hits} == {"t-gaza", "t-gaz", "bare"}
    assert {f.value: f.count for f in results.facets["section"]} == {
        "International": 1, "Économie": 1}
    newest = search(index, "", sort="newest", per_page=10)
    assert [h.id for h in newest.hits][-1] == "bare"  # undated: last
    stats = index.stats()
    assert stats["documents"] == 5 and stats["last_update"]


def test_update_decodes_only_the_changed_lines_of_json_lines(runner, articles, tmp_path,
                                                             monkeypatch):
    index_dir = tmp_path / "index"
    run(runner, "build", str(articles), index_dir=index_dir)
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
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.stdout.startswith("added 1, updated 1, unchanged 3, deleted 0, rejected 0")
    assert sorted(decoded) == ["t-gaza", "t-new"]  # the two unchanged lines were not decoded
    assert search(open_index(index_dir), "convois passent").hits[0].id == "t-gaza"

    # An article deleted by hand comes back when its file changes, line unchanged or not.
    run(runner, "delete", "t-haifa", index_dir=index_dir)
    path.write_text(path.read_text() + json.dumps(
        {"id": "t-other", "title": "Autre", "body": "Texte."}) + "\n")
    result = run(runner, "update", str(articles), index_dir=index_dir)
    assert result.stdout.startswith("added 2,")
    assert "t-haifa" in ids(index_dir)
