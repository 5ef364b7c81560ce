"""HTML pages to drafts: decoding and parsing, then metadata and main text.

Parts: `parse_page` (bytes or text to a draft) and `extract_body` (main text only); the page
checks (`_page_text`, `_parse`, which retries a page nested too deeply without its inline tags).
Metadata is read in `indexer.pagemeta`, the main text kept in `indexer.maintext`.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from indexer.encoding import decode_html, looks_binary
from indexer.maintext import main_text, take_tag_list
from indexer.pagemeta import declared_languages, json_ld, language, meta_tags, metadata, title
from indexer.records import Draft
from search.errors import ArticleError

__all__ = ["MAX_PAGE_BYTES", "extract_body", "parse_page"]

MAX_PAGE_BYTES = 20_000_000

_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|article|main|section|div|p|h[1-6]|br|a|"
    r"span|table|ul|img)[\s/>]",
    re.I,
)
_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Old pages that never close <font> or <b> nest deeply without meaning to.
_INLINE_TAGS = re.compile(r"</?(?:font|b|i|u|em|strong|small|big|span|center)\b[^>]*>", re.I)


class _Unreadable(ValueError):
    pass


def parse_page(data: bytes | str, *, location: str) -> Draft:
    """Return a draft for a whole HTML page, or raise ArticleError(location, reason)."""
    try:
        tree = _parse(_page_text(data))
    except _Unreadable as err:
        raise ArticleError(location, str(err)) from None
    ld, meta = json_ld(tree), meta_tags(tree)
    draft = metadata(tree, ld, meta)
    declared = declared_languages(tree, ld, meta)  # now: the body pipeline changes the tree
    listed = take_tag_list(tree)  # « Mots-clés : … » in the page: tags, not body text
    if listed:
        known = {tag.casefold() for tag in draft.get("tags", [])}
        draft["tags"] = [*draft.get("tags", []),
                         *(tag for tag in dict.fromkeys(listed) if tag.casefold() not in known)]
    body = main_text(tree, draft.get("title", ""))
    if body:
        draft["body"] = body
    lang = language(declared, body)
    if lang:
        draft["lang"] = lang
    return draft


def extract_body(html: str) -> str:
    """Main text only of an already-decoded page, paragraphs separated by blank lines."""
    try:
        tree = _parse(_page_text(html))
    except _Unreadable:
        return ""
    return main_text(tree, title(tree, meta_tags(tree), json_ld(tree)))


# Page checks -----------------------------------------------------------------------------


def _page_text(data: bytes | str) -> str:
    if isinstance(data, bytes | bytearray):
        data = bytes(data)
        if not data.strip():
            raise _Unreadable("empty file")
        if len(data) > MAX_PAGE_BYTES:
            raise _Unreadable(f"{len(data):,} bytes, more than a page may have "
                              f"({MAX_PAGE_BYTES:,})")
        if looks_binary(data):
            raise _Unreadable("binary content, not an HTML page")
        text = decode_html(data)
    else:
        text = data.lstrip("\ufeff")
        if len(text) > MAX_PAGE_BYTES:
            raise _Unreadable(f"{len(text):,} characters, more than a page may have "
                              f"({MAX_PAGE_BYTES:,})")
        if text.strip() and looks_binary(text[:8192].encode("utf-8", "replace")):
            raise _Unreadable("binary content, not an HTML page")
    start = text.lstrip()[:1]
    if not start:
        raise _Unreadable("empty file")
    if start in "{[" and not re.match(r"\s*<", text):
        raise _Unreadable("JSON, not an HTML page")
    if not _HTML_TAG.search(text):
        raise _Unreadable("not an HTML page (no <html>, <body>, <p> or other HTML tag)")
    return _INVALID_CHARS.sub("", text)


def _parse(text: str) -> lxml_html.HtmlElement:
    tree = _parse_once(text)
    if tree is None:
        tree = _parse_once(_INLINE_TAGS.sub("", text))
        if tree is None:
            raise _Unreadable("HTML nested more than 255 elements deep (a broken or hostile page)")
    return tree


def _parse_once(text: str) -> lxml_html.HtmlElement | None:
    # The text is already decoded: the parser must not believe a <meta charset> again.
    # libxml2 never fetches anything here (no_network) and HTML has no external entities.
    parser = lxml_html.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
    )
    try:
        tree = lxml_html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        raise _Unreadable("not an HTML page (nothing to parse)") from None
    # libxml2 stops reading at 256 levels (a guard against stack exhaustion) and says so.
    if any("depth" in entry.message for entry in parser.error_log):
        return None
    return tree

