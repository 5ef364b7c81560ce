"""Every relative link and image in README.md and docs/*.md leads somewhere that exists.

A link to `file.md#anchor` (or `#anchor` in the same file) must name one of the file's
headings, with GitHub's anchors: the heading's text in lowercase, punctuation dropped,
spaces turned into hyphens, `-1`, `-2`… added to repeated headings.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)((?:(?!\n\s*\n).)+?)\1", re.S)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^()\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:[ \t]+\"[^\"]*\")?[ \t]*$", re.M)
_HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=[\"']([^\"']*)[\"']", re.I)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    lines, fence = [], None
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening[1]
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: `## The site: `furet-serve`` -> the-site-furet-serve."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a file's headings give, repeated headings numbered as GitHub does."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        anchor = github_anchor(match[2])
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def targets(path: Path) -> list[str]:
    """The targets of the links and images of a Markdown file, outside code."""
    text = "\n".join(prose_lines(path.read_text(encoding="utf-8")))
    text = _CODE_SPAN.sub("code", text)
    found = _REFERENCE.findall(text)
    text = _REFERENCE.sub("", text)
    return found + _INLINE_LINK.findall(text) + _HTML_LINK.findall(text)


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """`target: reason` for each relative link of `path` that leads nowhere."""
    broken = []
    for target in targets(path):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:  # https:, mailto:, //host: not ours to check
            continue
        if not parts.path and not parts.fragment:
            broken.append(f"{target or '(empty)'}: empty link")
            continue
        linked = (path.parent / unquote(parts.path)).resolve() if parts.path else path
        if not linked.is_relative_to(root.resolve()):
            broken.append(f"{target}: outside the repository")
        elif not linked.exists():
            broken.append(f"{target}: no such file")
        elif parts.fragment:
            if linked.suffix != ".md" or not linked.is_file():
                broken.append(f"{target}: an anchor into something that is not Markdown")
            elif unquote(parts.fragment).lower() not in anchors(linked):
                broken.append(f"{target}: no heading with this anchor")
    return broken


def test_there_are_documents_to_check():
    names = [p.relative_to(ROOT).as_posix() for p in documents()]
    assert "README.md" in names and len(names) > 1, names
    assert all(targets(p) for p in documents()), "a document without a single link"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(path: Path):
    broken = broken_links(path)
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("path", documents()[1:], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_each_doc_links_back_to_the_readme(path: Path):
    head = "\n".join(path.read_text(encoding="utf-8").splitlines()[:5])
    assert "](../README.md)" in head, f"{path.relative_to(ROOT)} has no link back to the README"


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Indexing: `furet-index`", "indexing-furet-index"),
    ("The site and the JSON API: `furet-serve`", "the-site-and-the-json-api-furet-serve"),
    ("How it searches, and how that differs from Whoosh",
     "how-it-searches-and-how-that-differs-from-whoosh"),
    ("Search results (JSON)", "search-results-json"),
    ("JSON API, version 1", "json-api-version-1"),
    ("Données d’été", "données-dété"),
    ("Cron", "cron"),
    ("[Cron](indexing.md) jobs", "cron-jobs"),
])
def test_github_anchor(heading: str, anchor: str):
    assert github_anchor(heading) == anchor


def test_broken_links_are_found(tmp_path: Path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shot.png").write_bytes(b"")
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Cron\n\n## Cron\n",
                                                encoding="utf-8")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n## Local `heading`\n\n"
        "[ok](other.md) [ok](other.md#cron) [ok](other.md#cron-1) [ok](#local-heading)\n"
        "![ok](shot.png) <img src=\"shot.png\"> [ok](https://example.org/missing.md)\n"
        "`[not a link](missing.md)`\n\n"
        "```\n[not a link either](missing.md)\n```\n\n"
        "[gone](missing.md) ![gone](shots/missing.png) <img src=\"nope.png\">\n"
        "[bad anchor](other.md#cron-2) [bad anchor](#nowhere) [bad anchor](shot.png#top)\n"
        "[escapes](../../outside.md) [reference]: gone.md\n"
        "[reference]: gone-too.md\n\n"
        "A link whose text runs [over\ntwo lines](split.md).\n",
        encoding="utf-8")
    broken = sorted(b.split(":")[0] for b in broken_links(page, root=tmp_path))
    assert broken == sorted(["missing.md", "shots/missing.png", "nope.png", "other.md#cron-2",
                             "#nowhere", "shot.png#top", "../../outside.md", "gone-too.md",
                             "split.md"])


def test_the_python_example_runs_on_the_samples(samples_index, tmp_path, monkeypatch):
    """docs/searching.md's "From Python" example, run as written against the samples: it
    finds what it promises."""
    text = (ROOT / "docs" / "searching.md").read_text(encoding="utf-8")
    example = text.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "index").symlink_to(samples_index, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    names: dict[str, object] = {}
    exec(compile(example, "docs/searching.md", "exec"), names)  # noqa: S102
    results = names["results"]
    assert results.total >= 1 and results.hits  # type: ignore[attr-defined]
    assert names["index"].suggest("haï")[0] == "haïfa"  # type: ignore[attr-defined]
