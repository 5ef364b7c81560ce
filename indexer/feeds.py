"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds: one draft per item or entry.

`parse_feed` reads the XML safely (no entity expansion, no DTD, no network), repairs the
small faults real feeds have (HTML entities, a bare `&`, control characters), tells the kind
of feed from its root element, and yields a draft per item, or an ArticleError for an item
that cannot be an article. HTML inside items becomes text through `fragment_text`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from copy import deepcopy
from html.entities import html5 as HTML5_ENTITIES
from urllib.parse import urljoin

from lxml import etree

from indexer.encoding import decode_html, looks_binary
from indexer.fragments import fragment_text
from indexer.records import Draft, clean_text
from indexer.urls import url_problem
from search.errors import ArticleError

__all__ = ["parse_feed"]

NS_ATOM = "http://www.w3.org/2005/Atom"
NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_DCTERMS = "http://purl.org/dc/terms/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_RSS1 = "http://purl.org/rss/1.0/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_XML_DECLARATION = re.compile(r"\s*<\?xml[^>]*\?>")
_ROOT_START = re.compile(r"<[A-Za-z_]")
_SUBSET_END = re.compile(r"\]\s*>")
_ENTITY_DECLARATION = re.compile(r"<!ENTITY\s+([A-Za-z_][\w.:-]*)")
_OPAQUE_START = re.compile(r"<!\[CDATA\[|<!--")
_REFERENCE = re.compile(r"&(?:(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z_][\w.:-]{0,63});)?")
_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ENTITIES = frozenset(("amp", "lt", "gt", "quot", "apos"))
_POSITION = re.compile(r",? line \d+, column \d+$")
_LOOKS_LIKE_MARKUP = re.compile(r"<[A-Za-z/!]|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]\w*);")
_EXCERPT_END = re.compile(r"\s*(?:\[(?:…|\.\.\.|&hellip;)\]|…|\.\.\.)\s*$")
_NAME_SEPARATORS = re.compile(r"\s*[,;]\s*|\s+(?:et|and|&)\s+")
_EMAIL_AND_NAME = re.compile(r"^\S+@\S+\s*\((?P<name>[^)]+)\)$")


def parse_feed(data: bytes, *, location: str) -> Iterator[Draft | ArticleError]:
    """One draft per RSS item or Atom entry; a bad item yields an ArticleError instead."""
    root = _parse_xml(data, location)
    tag = etree.QName(root)
    if tag.localname == "rss":
        return _rss_items(root, location, tag.namespace or "")
    if tag.namespace == NS_RDF and tag.localname == "RDF":
        return _rss_items(root, location, NS_RSS1)
    if tag.namespace == NS_ATOM and tag.localname in ("feed", "entry"):
        return _atom_entries(root, location)
    if tag.localname == "feed":
        reason = f"<feed> is not in the Atom namespace ({NS_ATOM}); only Atom 1.0 is read"
    else:
        reason = f"not an RSS or Atom feed (the root element is <{tag.localname}>)"
    raise ArticleError(location, reason)


# Reading the XML


def _parse_xml(data: bytes, location: str) -> etree._Element:
    if not data.strip():
        raise ArticleError(location, "empty file, not a feed")
    if looks_binary(data):
        raise ArticleError(location, "binary content, not an XML feed")
    # Decode ourselves: a feed declared ISO-8859-1 is, in practice, cp1252 (’ œ €).
    text = _repair(decode_html(data))
    declaration = _XML_DECLARATION.match(text)
    if declaration:
        # Drop the declaration (and its now wrong encoding) but keep its line breaks.
        text = "\n" * declaration.group().count("\n") + text[declaration.end() :]
    # Nothing is fetched, no entity is expanded, no DTD is read: a feed is data only.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as err:
        raise ArticleError(location, _syntax_reason(err)) from None
    if root is None:
        raise ArticleError(location, "no XML element, not a feed")
    # Entities declared in the document are never expanded; remove their references.
    for entity in list(root.iter(etree.Entity)):
        _remove(entity)
    return root


def _syntax_reason(err: etree.XMLSyntaxError) -> str:
    message = _POSITION.sub("", err.msg or "syntax error")
    line = err.lineno
    if "amplification" in message:
        return f"refused: entity declarations that would expand enormously (line {line})"
    if "depth" in message:
        return f"refused: elements nested too deeply (line {line})"
    if err.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        return f"refused: too large to read safely (line {line}: {message})"
    return f"not well-formed XML, line {line}: {message}"


def _repair(text: str) -> str:
    """Fix what breaks most real feeds: HTML entities, a bare `&`, control characters."""
    text = _INVALID_CHARS.sub("", text)
    declared: set[str] = set()
    opaque: list[tuple[int, int]] = []
    root = _ROOT_START.search(text)
    doctype = text.find("<!DOCTYPE", 0, root.start() if root else len(text))
    if doctype >= 0:
        bracket, close = text.find("[", doctype), text.find(">", doctype)
        if 0 <= bracket < close:  # an internal subset, whose declarations hold ">" too
            end = _SUBSET_END.search(text, bracket)
            stop = end.end() if end else len(text)
        else:
            stop = len(text) if close < 0 else close + 1
        declared.update(_ENTITY_DECLARATION.findall(text, doctype, stop))
        opaque.append((doctype, stop))
    pos = opaque[0][1] if opaque else 0
    while (start := _OPAQUE_START.search(text, pos)) is not None:
        closing = "]]>" if start.group() == "<![CDATA[" else "-->"
        end = text.find(closing, start.end())
        stop = len(text) if end < 0 else end + len(closing)
        opaque.append((start.start(), stop))
        pos = stop

    def fix(match: re.Match[str]) -> str:
        return _fix_reference(match.group(1), declared)

    parts: list[str] = []
    pos = 0
    for start, stop in opaque:
        parts.append(_REFERENCE.sub(fix, text[pos:start]))
        parts.append(text[start:stop])
        pos = stop
    parts.append(_REFERENCE.sub(fix, text[pos:]))
    return "".join(parts)


def _fix_reference(name: str | None, declared: set[str]) -> str:
    if name is None:
        return "&amp;"  # a bare "&", as in "AT&T"
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        valid = code in (9, 10, 13) or 32 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF
        return f"&{name};" if valid and code not in (0xFFFE, 0xFFFF) else ""
    if name in _XML_ENTITIES or name in declared:
        return f"&{name};"
    character = HTML5_ENTITIES.get(name + ";")
    if character:
        return "".join(f"&#{ord(c)};" for c in character)
    return f"&amp;{name};"  # unknown: keep it as the text it is


def _remove(node: etree._Element) -> None:
    """Remove `node` from its parent, keeping the text that follows it."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


# RSS 2.0 and RSS 1.0


def _rss_items(root: etree._Element, location: str, ns: str) -> Iterator[Draft | ArticleError]:
    core = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    channel = root.find(core("channel"))
    feed = channel if channel is not None else root
    lang = _first_text(feed, core("language"), f"{{{NS_DC}}}language") or _lang(root)
    base = _first_text(feed, core("link"))
    # RSS 2.0 items are in the channel, RSS 1.0 items beside it.
    items = root.findall(core("item"))
    if channel is not None:
        items = channel.findall(core("item")) + items
    for item in items:
        where = _where(location, item)
        try:
            yield _rss_item(item, core, where, lang, base)
        except ArticleError as err:
            yield err


def _rss_item(
    item: etree._Element, core: Callable[[str], str], where: str, lang: str, base: str
) -> Draft:
    title = _plain_title(_first_text(item, core("title")))
    if not title:
        raise ArticleError(where, "item has no <title>; skipped")
    content = _first_markup(item, f"{{{NS_CONTENT}}}encoded")
    description = _first_markup(item, core("description"))
    body, lead = _body_and_lead(content, description)
    if not body:
        raise ArticleError(where, "item has no text (no <description> or <content:encoded>)")
    guid = item.find(core("guid"))
    guid_text = " ".join(_text(guid).split()) if guid is not None else ""
    about = item.get(f"{{{NS_RDF}}}about", "")
    url = _http_url(_first_text(item, core("link")), base)
    if not url and guid is not None and (guid.get("isPermaLink") or "true").lower() != "false":
        url = _http_url(guid_text, "")  # a permalink guid is the article's address
    url = url or _http_url(about, "")
    authors = [_author_name(a) for a in _all_texts(item, core("author"))]
    authors += _split_names(_all_texts(item, f"{{{NS_DC}}}creator", f"{{{NS_DCTERMS}}}creator"))
    tags = _all_texts(item, core("category"), f"{{{NS_DC}}}subject")
    return _draft(
        where,
        id=guid_text or about,
        url=url,
        title=title,
        lead=lead,
        body=body,
        published=_first_text(item, core("pubDate"), f"{{{NS_DC}}}date", f"{{{NS_DCTERMS}}}issued"),
        modified=_first_text(item, f"{{{NS_DCTERMS}}}modified"),
        authors=authors,
        tags=tags,
        lang=_first_text(item, f"{{{NS_DC}}}language") or item.get(XML_LANG) or lang,
    )


def _plain_title(title: str) -> str:
    # RSS titles are text, but feeds often put escaped HTML or entities in them.
    if _LOOKS_LIKE_MARKUP.search(title):
        title = fragment_text(title)
    return " ".join(title.split())


def _author_name(value: str) -> str:
    # RSS 2.0 wants "email (Name)"; the name is what a reader searches for.
    match = _EMAIL_AND_NAME.match(value)
    return match["name"].strip() if match else value


# Atom


def _atom_entries(root: etree._Element, location: str) -> Iterator[Draft | ArticleError]:
    if etree.QName(root).localname == "entry":
        entries, feed_authors = [root], []
    else:
        entries, feed_authors = root.findall(_atom("entry")), _atom_authors(root)
    for entry in entries:
        where = _where(location, entry)
        try:
            yield _atom_entry(entry, where, feed_authors)
        except ArticleError as err:
            yield err


def _atom_entry(entry: etree._Element, where: str, feed_authors: list[str]) -> Draft:
    title_element = entry.find(_atom("title"))
    title = ""
    if title_element is not None:
        title = " ".join(_atom_text(title_element).split())
    if not title:
        raise ArticleError(where, "entry has no <title>; skipped")
    content = entry.find(_atom("content"))
    summary = entry.find(_atom("summary"))
    body, lead = _body_and_lead(
        _atom_text(content) if content is not None else "",
        _atom_text(summary) if summary is not None else "",
    )
    if not body:
        raise ArticleError(where, "entry has no text (no <content> or <summary> text)")
    terms = (c.get("term") or c.get("label") or "" for c in entry.findall(_atom("category")))
    categories = [term.strip() for term in terms if term.strip()]
    authors = _atom_authors(entry) or _split_names(_all_texts(entry, f"{{{NS_DC}}}creator"))
    return _draft(
        where,
        id=_first_text(entry, _atom("id")),
        url=_atom_link(entry),
        title=title,
        lead=lead,
        body=body,
        published=_first_text(entry, _atom("published"), f"{{{NS_DC}}}date"),
        modified=_first_text(entry, _atom("updated")),
        authors=authors or feed_authors,
        tags=categories,
        lang=_lang(entry),
    )


def _atom(name: str) -> str:
    return f"{{{NS_ATOM}}}{name}"


def _atom_text(element: etree._Element) -> str:
    """Text of an Atom text construct or content: type text, html, xhtml or a MIME type."""
    if element.get("src"):
        return ""  # the content is elsewhere; only what the feed holds is indexed
    kind = (element.get("type") or "text").strip().lower()
    if kind in ("html", "text/html"):
        return fragment_text(_text(element))
    if kind in ("xhtml", "application/xhtml+xml") or len(element):
        return fragment_text(_markup(element))
    if kind == "text" or kind.startswith("text/"):
        return clean_text(_text(element))
    return ""  # base64 or another media type: not text


def _atom_authors(element: etree._Element) -> list[str]:
    names = [_first_text(a, _atom("name")) for a in element.findall(_atom("author"))]
    return [name for name in names if name]


def _atom_link(entry: etree._Element) -> str:
    links = [link for link in entry.findall(_atom("link")) if link.get("href")]
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
    for link in alternates + links:
        url = _http_url(link.get("href", ""), link.base or "")
        if url:
            return url
    return ""


# Shared


def _where(location: str, element: etree._Element) -> str:
    return f"{location}:{element.sourceline}" if element.sourceline else location


def _draft(where: str, **fields: object) -> Draft:
    draft: Draft = {"_location": where}
    for key, value in fields.items():
        if value:
            draft[key] = value
    tags = draft.get("tags")
    if tags and len(tags[0]) <= 200:
        draft["section"] = tags[0]
    return draft


def _body_and_lead(content: str, description: str) -> tuple[str, str]:
    """Content is the body and the description its lead, unless it merely repeats the body."""
    if not content:
        return description, ""
    excerpt = " ".join(_EXCERPT_END.sub("", description).split())
    if not excerpt or " ".join(content.split()).startswith(excerpt):
        return content, ""
    return content, description


def _text(element: etree._Element) -> str:
    return "".join(element.itertext())


def _markup(element: etree._Element) -> str:
    """The markup inside `element`, without namespace prefixes, for the HTML parser."""
    copy = deepcopy(element)
    for node in copy.iter(etree.Element):
        node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(copy)
    inner = html.escape(copy.text or "", quote=False)
    return inner + "".join(
        etree.tostring(child, method="html", encoding="unicode", with_tail=True) for child in copy
    )


def _first_markup(element: etree._Element, tag: str) -> str:
    found = element.find(tag)
    if found is None:
        return ""
    # Escaped HTML (or CDATA) is the usual; literal XHTML children are read as markup too.
    return fragment_text(_markup(found) if len(found) else _text(found))


def _first_text(element: etree._Element, *tags: str) -> str:
    for tag in tags:
        found = element.find(tag)
        if found is not None:
            text = " ".join(_text(found).split())
            if text:
                return text
    return ""


def _all_texts(element: etree._Element, *tags: str) -> list[str]:
    texts = (" ".join(_text(found).split()) for tag in tags for found in element.iterfind(tag))
    return [text for text in texts if text]


def _split_names(values: list[str]) -> list[str]:
    return [name for value in values for name in _NAME_SEPARATORS.split(value) if name]


def _lang(element: etree._Element) -> str:
    node: etree._Element | None = element
    while node is not None:
        lang = node.get(XML_LANG)
        if lang:
            return lang.strip()
        node = node.getparent()
    return ""


def _http_url(href: str, base: str) -> str:
    """`href` made absolute against `base`; empty unless the index may keep it
    (indexer/urls.py)."""
    href = href.strip()
    if not href:
        return ""
    url = urljoin(base, href) if base else href
    return url if url_problem(url) is None else ""
