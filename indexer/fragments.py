"""HTML fragments (feed content, a JSON record's `html`) turned into plain paragraphs."""

from __future__ import annotations

import html as html_lib
import re
import warnings

from bs4 import (
    BeautifulSoup,
    CData,
    MarkupResemblesLocatorWarning,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)

from indexer.records import clean_text

__all__ = ["fragment_text"]

# Elements whose start and end break a paragraph.
_BLOCKS = frozenset(
    """address article aside blockquote body br caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup hr html li main menu nav
    ol p pre section summary table tbody tfoot thead tr ul""".split()
)
# Cells of a row stay on one line, but their words must not run together.
_CELLS = frozenset(("td", "th"))
# Elements holding code, forms, media or page furniture, never article text.
_DROPPED = frozenset(
    """applet audio button canvas datalist embed form head iframe input link map math meta
    noembed noframes noscript object option script select style svg template textarea title
    video""".split()
)
_SPACES = re.compile(r"\s+")
_BREAK = "\n"  # text nodes never keep a newline (see _words), so it can mark a paragraph break
# Marks left on the walk's stack for the end of an element.
_END_BLOCK, _END_CELL, _END_PRE = object(), object(), object()


def fragment_text(html: str) -> str:
    """Text of an HTML fragment, its paragraphs separated by blank lines."""
    if "<" not in html:
        # No markup at all: plain text whose blank lines are the only paragraph marks it has.
        return clean_text(html_lib.unescape(html))
    with warnings.catch_warnings():
        # A fragment may look like a URL, a file name or XML; it is still markup to read.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    parts = _walk(soup)
    paragraphs = (" ".join(part.split()) for part in "".join(parts).split(_BREAK))
    return clean_text("\n\n".join(p for p in paragraphs if p))


def _walk(root: Tag) -> list[str]:
    """Text pieces and paragraph breaks in document order, without recursion (deep nesting)."""
    parts: list[str] = []
    stack: list[object] = [root]
    in_pre = 0
    while stack:
        node = stack.pop()
        if node is _END_BLOCK or node is _END_PRE:
            in_pre -= node is _END_PRE
            parts.append(_BREAK)
            continue
        if node is _END_CELL:
            parts.append(" ")
            continue
        if isinstance(node, NavigableString):
            # Comments, doctypes and processing instructions are strings too, but not text.
            if type(node) is NavigableString or type(node) is CData:
                parts.append(_words(str(node), keep_lines=in_pre > 0))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name.lower()
        if name in _DROPPED:
            continue
        if name == "pre":
            in_pre += 1
            parts.append(_BREAK)
            stack.append(_END_PRE)
        elif name in _BLOCKS:
            parts.append(_BREAK)
            stack.append(_END_BLOCK)
        elif name in _CELLS:
            parts.append(" ")
            stack.append(_END_CELL)
        stack.extend(reversed(node.contents))
    return parts


def _words(text: str, *, keep_lines: bool) -> str:
    if keep_lines:
        # Lines of preformatted text are kept apart, as paragraphs.
        return _BREAK.join(_SPACES.sub(" ", line) for line in text.splitlines())
    return _SPACES.sub(" ", text)
