"""Symbolic links: a source folder publishes only what is inside it.

The attack: a link `shadow.txt -> /etc/shadow` in the articles folder was indexed and served,
and a folder link to /etc got three files indexed. Now a file found under a source folder is
read only if its real path stays inside that folder (or a folder --allow-links-to names);
the walk reports the others as `path: reason`, and opening a file checks again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.sources import read_articles, walk_sources
from search.errors import ArticleError
from tests.stores import WhooshStore

pytestmark = pytest.mark.reliability

TEXT = "{title}\n\nLe conseil municipal de {title} a voté le budget primitif hier soir.\n"


def article(path: Path, title: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEXT.format(title=title), encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """articles/ with one good article, and outside/ beside it holding a readable article."""
    src = tmp_path / "articles"
    article(src / "bon.txt", "Rennes")
    article(tmp_path / "outside" / "secret.txt", "Secret")
    article(tmp_path / "outside" / "dossier" / "note.txt", "Note")
    return src, tmp_path / "outside"


def build(runner, index_dir: Path, *args: str):
    store = WhooshStore(index_dir)
    return store, store.run(runner, "build", *args)


def test_links_to_etc_shadow_and_etc_are_not_read(runner, tmp_path):
    src = tmp_path / "articles"
    article(src / "bon.txt", "Rennes")
    os.symlink("/etc/shadow", src / "shadow.txt")
    os.symlink("/etc", src / "etc")
    store, result = build(runner, tmp_path / "index", str(src))
    assert result.exit_code == 1, result.output
    assert f"{src}/shadow.txt: symbolic link to /etc/shadow, outside {src}; skipped" \
        in result.stderr
    assert f"{src}/etc: symbolic link to /etc, outside {src}; skipped" in result.stderr
    assert "added 1," in result.stdout and "rejected 2 in" in result.stdout
    assert store.ids() == {"bon.txt"}


@pytest.mark.parametrize("link, target", [
    ("lien.txt", "../outside/secret.txt"),  # relative
    ("lien.txt", "{outside}/secret.txt"),  # absolute
    ("2024/lien.txt", "../../outside/secret.txt"),  # from a subfolder
    ("relais.txt", "2024/relais.txt"),  # a link inside that leads to a link outside
    ("archives", "{outside}/dossier"),  # a folder
    ("archives", "{outside}"),  # the folder above what it would publish
])
def test_links_leading_outside_are_reported_and_skipped(runner, tree, tmp_path, link, target):
    src, outside = tree
    (src / "2024").mkdir(exist_ok=True)
    os.symlink("../../outside/secret.txt", src / "2024" / "relais.txt")
    os.symlink(target.format(outside=outside), src / link)
    store, result = build(runner, tmp_path / "index", str(src))
    assert result.exit_code == 1, result.output
    assert f"{src}/{link}: symbolic link to {outside}" in result.stderr, result.stderr
    assert store.ids() == {"bon.txt"}


def test_links_that_stay_inside_are_followed(runner, tree, tmp_path):
    src, _ = tree
    article(src / "2024" / "janvier.txt", "Brest")
    os.symlink("2024/janvier.txt", src / "dernier.txt")
    os.symlink("2024", src / "récent")
    store, result = build(runner, tmp_path / "index", str(src))
    assert result.exit_code == 1  # the folder seen twice is still reported, nothing else
    assert "symbolic link to" not in result.stderr
    assert store.ids() == {"bon.txt", "2024/janvier.txt", "dernier.txt"}


def test_allow_links_to_names_the_folders_links_may_lead_to(runner, tree, tmp_path):
    src, outside = tree
    os.symlink(outside / "dossier", src / "archives")
    store, result = build(runner, tmp_path / "index", str(src),
                          "--allow-links-to", str(outside))
    assert result.exit_code == 0, result.output
    assert store.ids() == {"bon.txt", "archives/note.txt"}


def test_a_source_named_on_the_command_line_is_read_where_it_leads(runner, tree, tmp_path):
    src, outside = tree
    os.symlink(outside / "secret.txt", src / "lien.txt")
    os.symlink(outside, tmp_path / "dossier-lié")
    store, result = build(runner, tmp_path / "index", str(src / "lien.txt"),
                          str(tmp_path / "dossier-lié"))
    assert result.exit_code == 0, result.output  # the operator named them
    assert store.ids() == {"lien.txt", "secret.txt", "dossier/note.txt"}


def test_update_deletes_what_a_file_now_linked_outside_published(runner, tree, tmp_path):
    src, outside = tree
    store, result = build(runner, tmp_path / "index", str(src))
    assert store.ids() == {"bon.txt"}
    (src / "bon.txt").unlink()
    os.symlink(outside / "secret.txt", src / "bon.txt")
    result = store.run(runner, "update", str(src), "--verbose")  # no --prune needed
    assert result.exit_code == 1
    assert "symbolic link to" in result.stderr
    assert "deleted bon.txt" in result.stderr and "leads outside its folder" in result.stderr
    assert "deleted 1," in result.stdout
    assert store.ids() == set()


def test_a_file_swapped_for_a_link_after_the_walk_is_not_read(tree):
    src, outside = tree
    found = [s for s in walk_sources([src]) if not isinstance(s, ArticleError)]
    (src / "bon.txt").unlink()
    os.symlink(outside / "secret.txt", src / "bon.txt")
    [error] = list(read_articles(found[0]))
    assert isinstance(error, ArticleError)
    assert f"replaced by a link to {outside}/secret.txt, outside {src}" in str(error)


def test_a_file_replaced_inside_its_folder_is_still_read(tree):
    src, _ = tree
    found = [s for s in walk_sources([src]) if not isinstance(s, ArticleError)]
    article(src / "nouveau.txt", "Vannes").replace(src / "bon.txt")  # a new inode
    [read] = list(read_articles(found[0]))
    assert not isinstance(read, ArticleError) and read.title == "Vannes"


def test_a_file_swapped_for_a_fifo_is_refused_without_waiting(tree):
    src, _ = tree
    found = [s for s in walk_sources([src]) if not isinstance(s, ArticleError)]
    (src / "bon.txt").unlink()
    os.mkfifo(src / "bon.txt")  # opening it to read would wait for a writer forever
    [error] = list(read_articles(found[0]))
    assert isinstance(error, ArticleError) and "no longer a regular file" in str(error)
