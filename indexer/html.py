"""HTML pages to drafts: metadata from JSON-LD, OpenGraph and meta tags, and the main text.

Parts: `parse_page` (bytes or text to a draft) and `extract_body` (main text only); the page
checks (`_page_text`, `_parse`); the metadata readers (`_json_ld`, `_meta_tags`, `_metadata`);
the body pipeline (`_prepare` the tree, trafilatura keeps the main text, `_tidy` it).
"""

from __future__ import annotations

import html as html_entities
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from indexer.dates import parse_date
from indexer.encoding import decode_html, looks_binary
from indexer.records import Draft, clean_text
from search.analysis import fold
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
    ld, meta = _json_ld(tree), _meta_tags(tree)
    draft = _metadata(tree, ld, meta)
    declared = _declared_languages(tree, ld, meta)  # now: the body pipeline changes the tree
    body = _body(tree, draft.get("title", ""))
    if body:
        draft["body"] = body
    lang = _language(declared, body)
    if lang:
        draft["lang"] = lang
    return draft


def extract_body(html: str) -> str:
    """Main text only of an already-decoded page, paragraphs separated by blank lines."""
    try:
        tree = _parse(_page_text(html))
    except _Unreadable:
        return ""
    return _body(tree, _title(tree, _meta_tags(tree), _json_ld(tree)))


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


# Metadata --------------------------------------------------------------------------------

_ARTICLE_TYPE = re.compile(r"(?:Article|BlogPosting)$")
_LD_NOISE = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|/\*\s*<!\[CDATA\[\s*\*/)|"
                       r"(?:-->|//\s*\]\]>|/\*\s*\]\]>\s*\*/)\s*$")
_MAX_LD_OBJECTS = 2_000
# Not " : ", which French headlines use themselves.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[-|–—·•»]|::)\s+|\s*\|\s*")
_STANDFIRST_CLASS = re.compile(
    r"(?:^|[\s_-])(?:chapo|chapeau|standfirst|lead|lede|intro|desc|dek|deck|excerpt|summary)"
    r"(?:$|[\s_-])",
    re.I,
)
_LANG = re.compile(r"^([A-Za-z]{2,3})(?:$|[-_])")
_TRUNCATED = ("…", "...")
# Enough to tell the two languages of the archive apart when a page's declarations disagree.
_STOP_WORDS = {
    "fr": frozenset("le la les des du une et est dans pour que qui pas sur au aux avec ce cette "
                    "il elle sont par plus ne nous vous leur été".split()),
    "en": frozenset("the and of to is that for it with as was on are be this by have from at "
                    "which were has had not they".split()),
}

_PUBLISHED = ("article:published_time", "og:article:published_time", "og:published_time",
              "datepublished", "date", "pubdate", "publishdate", "publish-date", "dc.date",
              "dc.date.issued", "dcterms.created", "dcterms.issued", "sailthru.date",
              "parsely-pub-date")
_MODIFIED = ("article:modified_time", "og:article:modified_time", "og:updated_time",
             "datemodified", "dcterms.modified", "dc.date.modified", "last-modified")


def _metadata(
    tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]
) -> Draft:
    draft: Draft = {
        "url": _url(tree, ld, meta),
        "title": _title(tree, meta, ld),
        "lead": _lead(tree, ld, meta),
        "published": _date([_ld_text(ld.get("datePublished")), _ld_text(ld.get("dateCreated"))]
                           + _values(meta, _PUBLISHED) + _time_elements(tree)),
        "modified": _date([_ld_text(ld.get("dateModified"))] + _values(meta, _MODIFIED)),
        "authors": _unique(_ld_names(ld.get("author") or ld.get("creator"))
                           or [v for v in _values(meta, ("article:author",)) if "://" not in v]
                           or _values(meta, ("author", "dc.creator", "sailthru.author"))),
        "section": _first([_ld_text(ld.get("articleSection"))]
                          + _values(meta, ("article:section", "section"))),
        "tags": _unique(_ld_keywords(ld.get("keywords"))
                        or _split(_values(meta, ("article:tag",)))
                        or _split(_values(meta, ("keywords", "news_keywords")))),
    }
    return {key: value for key, value in draft.items() if value}


def _json_ld(tree: lxml_html.HtmlElement) -> dict[str, Any]:
    """The first article object of the page's JSON-LD, {} when there is none."""
    for script in tree.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(_LD_NOISE.sub("", script.text), strict=False)
        except (ValueError, RecursionError):
            continue  # broken JSON-LD is common; the meta tags still say enough
        for item in _ld_objects(data):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and _ARTICLE_TYPE.search(k) for k in kinds):
                return item
    return {}


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    stack, seen = [data], 0
    while stack and seen < _MAX_LD_OBJECTS:
        item = stack.pop()
        seen += 1
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            yield item
            for key in ("@graph", "mainEntity"):
                if isinstance(item.get(key), list | dict):
                    stack.append(item[key])


def _ld_text(value: Any) -> str:
    if isinstance(value, list):
        return next((text for text in map(_ld_text, value) if text), "")
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value") or value.get("@id"))
    if isinstance(value, str):
        return clean_text(html_entities.unescape(value), one_line=True)
    return ""


def _ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = [_ld_text(item) for item in items]
    return [name for name in names if name and "://" not in name]


def _ld_keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return _split([_ld_text(value)])
    if isinstance(value, list):
        return _split([_ld_text(item) for item in value])
    return []


def _meta_tags(tree: lxml_html.HtmlElement) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        content = clean_text(element.get("content") or "", one_line=True)
        if not content:
            continue
        keys = {element.get(attr, "").strip().lower()
                for attr in ("property", "name", "itemprop", "http-equiv")}
        for key in keys - {""}:
            found.setdefault(key, []).append(content)
    return found


def _values(meta: dict[str, list[str]], keys: tuple[str, ...]) -> list[str]:
    return [value for key in keys for value in meta.get(key, [])]


def _first(candidates: list[str]) -> str:
    """The first candidate, or a later one that completes it when it ends with an ellipsis."""
    candidates = [c for c in candidates if c]
    if not candidates:
        return ""
    best = candidates[0]
    if best.endswith(_TRUNCATED):
        stem = best.rstrip(".… ")
        best = next((c for c in candidates[1:] if c.startswith(stem) and len(c) > len(stem)),
                    best)
    return best


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in re.split(r"[,;]", value) if part.strip()]


def _text_of(element: lxml_html.HtmlElement) -> str:
    return clean_text(element.text_content(), one_line=True)


def _title(tree: lxml_html.HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any]) -> str:
    sites = _values(meta, ("og:site_name", "application-name", "twitter:site"))
    sites += [_ld_text(ld.get("publisher")), urlsplit(_ld_text(ld.get("url"))).hostname or ""]
    sites += [urlsplit(v).hostname or "" for v in _values(meta, ("og:url",))]
    h1 = _h1(tree)
    titles = [_strip_site(t, sites, h1) for t in _values(meta, ("og:title", "twitter:title"))]
    page_title = tree.find("head/title")
    if page_title is None:
        page_title = tree.find(".//title")
    if page_title is not None:
        titles.append(_strip_site(_text_of(page_title), sites, h1))
    headline = _strip_site(_ld_text(ld.get("headline")) or _ld_text(ld.get("name")), sites, h1)
    return _first([headline] + titles + [h1])


def _h1(tree: lxml_html.HtmlElement) -> str:
    # A site logo is often an <h1> too; the one inside the article is the headline.
    for path in ("//article//h1", "//main//h1", "//h1"):
        for h1 in tree.xpath(path):
            text = _text_of(h1)
            if text:
                return text
    return ""


def _strip_site(title: str, sites: list[str], h1: str) -> str:
    """Drop a trailing " - Site name" or " | Site" when it is the site's name."""
    names = [_squash(re.sub(r"^@|^(?:www\d?|m)\.|\.[a-z]{2,6}$", "", site)) for site in sites]
    names = [name for name in names if name]
    for separator in _TITLE_SEPARATOR.finditer(title):
        head, tail = title[: separator.start()].strip(), _squash(title[separator.end():])
        if not head or not tail:
            continue
        if h1 and _squash(head) == _squash(h1):
            return head
        for name in names:
            # "Le Monde.fr" is the site "Le Monde"; "AOC media" the site "AOC media - Analyse".
            if tail == name or (len(tail) >= 4 and name.startswith(tail)) or (
                    name in tail and len(tail) - len(name) <= 4):
                return head
    return title


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(text))


def _lead(tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]) -> str:
    candidates = [_ld_text(ld.get("description"))]
    candidates += _values(meta, ("og:description", "description", "twitter:description"))
    candidates.append(_standfirst(tree))
    return _first(candidates)


def _standfirst(tree: lxml_html.HtmlElement) -> str:
    for element in tree.iter("p", "div", "h2", "span", "section", "header"):
        if _STANDFIRST_CLASS.search(element.get("class", "")):
            text = _text_of(element)
            if 30 <= len(text) <= 1500:
                return text
    return ""


def _time_elements(tree: lxml_html.HtmlElement) -> list[str]:
    times = tree.xpath("//*[@itemprop='datePublished']/@datetime"
                       " | //*[@itemprop='datePublished']/@content"
                       " | //article//time/@datetime | //time[@pubdate]/@datetime"
                       " | //time/@datetime")
    return [str(value).strip() for value in times]


def _date(candidates: list[str]) -> str:
    """The first candidate that reads as a date: a bad one would reject the whole article."""
    for candidate in candidates:
        if candidate:
            try:
                parse_date(candidate)
            except ValueError:
                continue
            return candidate
    return ""


def _declared_languages(
    tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]
) -> list[str]:
    declared = [_ld_text(ld.get("inLanguage")), tree.get("lang", ""),
                tree.get("xml:lang", "")]
    declared += _values(meta, ("og:locale", "content-language", "language"))
    codes = (_LANG.match(value.strip()) for value in declared)
    return _unique([code.group(1).lower() for code in codes if code])


def _language(declared: list[str], body: str) -> str:
    """The declared language; when declarations disagree, the one the text is written in."""
    if len(declared) == 1:
        return declared[0]
    written = _written_language(body)
    if written and (written in declared or not declared):
        return written
    return declared[0] if declared else ""


def _written_language(text: str) -> str:
    words = re.findall(r"\w+", text[:5000].lower())
    counts = {lang: sum(word in stop for word in words) for lang, stop in _STOP_WORDS.items()}
    best = max(counts, key=counts.__getitem__)
    if counts[best] >= 10 and counts[best] > 2 * (sum(counts.values()) - counts[best]):
        return best
    return ""


def _url(tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]) -> str:
    """The canonical URL, made absolute with the page's other URLs; only http(s) is kept."""
    main = ld.get("mainEntityOfPage")
    main = main.get("@id") if isinstance(main, dict) else main
    others = [_ld_text(ld.get("url")), _ld_text(main)]
    others += _values(meta, ("og:url",)) + tree.xpath("//base/@href")
    canonical = [str(href) for href in tree.xpath("//link[@rel='canonical']/@href")]
    bases = [u for u in others if _is_web(u)]
    for candidate in canonical + others:
        candidate = candidate.strip()
        if not _is_web(candidate) and bases:
            candidate = urljoin(bases[0], candidate)
        if _is_web(candidate):
            return candidate
    return ""


def _is_web(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


# Main text -------------------------------------------------------------------------------

_INLINE = frozenset(
    "a abbr b bdi bdo cite code data del dfn em font i img ins kbd mark q s samp small span "
    "strike strong sub sup time tt u var wbr".split()
)
_MIN_RECALLED = 200
_CONTAINERS = ("div", "section", "article", "main", "td", "blockquote")
_FURNITURE = re.compile(
    r"caption|credit|legend|copyright|byline|author|date|time|meta|share|social|tag|crumb|"
    r"nav|menu|foot|head|promo|newsletter|subscri|banner|cookie|related|comment|widget|"
    r"sidebar|toolbar|button|btn|label|badge|title|kicker|surtitre|signature|legal",
    re.I,
)
# Whole lines that are page furniture wherever they are.
_CHROME = re.compile(
    r"(?:(?:\d+\s+)?(?:comments?|commentaires?|réactions?)|"
    r"(?:partager|share)(?:\s+(?:sur|on)\s+\w+|\s+this(?:\s+article|\s+story)?|\s+l'article)?|"
    r"imprimer|print|tweet|e-?mail|envoyer par e-?mail|publicité|advertisement|"
    r"contenu sponsorisé|sponsored|(?:abonnez-vous|s'abonner|subscribe)(?:\s+à\s+la\s+newsletter)?|"
    r"(?:lire|voir)\s+la\s+suite|tell us what you think|leave a (?:comment|reply)|"
    r"laisser un commentaire|réagir(?:\s+à\s+cet\s+article)?)\W*",
    re.I,
)
# A dateline left in the text ("Publié le 3 mars 2024 à 10h12"): the dates are fields.
_DATELINE = re.compile(
    r"(?:publié|mis à jour|modifié|actualisé|published|updated|posted)\b.{0,60}", re.I
)
_RELATED = re.compile(
    r"^\W*(?:(?:à|a)\s+)?(?:lire|voir|écouter|regarder)\s+(?:aussi|également|encore)\b"
    r"|^\W*(?:sur\s+le\s+même\s+sujet|nos\s+articles|à\s+découvrir|les\s+plus\s+lus)\b"
    r"|^\W*(?:related(?:\s+\w+)?|see\s+also|read\s+(?:more|also|next)|also\s+read|"
    r"don'?t\s+miss|more\s+on\s+this)\b",
    re.I,
)

# In the extracted text, where links are gone: a label then ":" or "»", or a label alone.
_RELATED_LINE = re.compile(rf"(?:{_RELATED.pattern})\s*(?:[:»>|–—-]|$)", re.I)


def _body(tree: lxml_html.HtmlElement, title: str) -> str:
    _prepare(tree)
    options = {"include_comments": False, "include_tables": True, "deduplicate": False}
    # Precision first (menus and teasers cost more than a missed caption); trafilatura works
    # on a copy of the tree, so a page it finds empty can be read again for recall, whose
    # result must look like text rather than a leftover menu.
    text = trafilatura.extract(tree, favor_precision=True, **options)
    if not text:
        text = trafilatura.extract(tree, favor_recall=True, **options) or ""
        text = text if len(text) >= _MIN_RECALLED else ""
    return _tidy(text, title)


def _prepare(tree: lxml_html.HtmlElement) -> None:
    """Make loose text paragraphs and drop "read also" blocks before trafilatura looks."""
    for element in list(tree.iter(*_CONTAINERS)):
        _paragraphize(element)
    for element in list(tree.iter("p", "div", "h2", "h3", "h4", "h5", "h6", "li", "aside",
                                  "section")):
        if element.getparent() is not None and _is_related(element):
            following = element.getnext()
            element.drop_tree()
            if following is not None and _links_only(following):
                following.drop_tree()  # the list under a "Lire aussi" heading


def _paragraphize(element: lxml_html.HtmlElement) -> None:
    """Wrap text lying loose in a block (beside other blocks or between <br><br>) in <p>."""
    if not (element.text or "").strip() and not any((c.tail or "").strip() for c in element):
        return
    items: list[Any] = [element.text or ""]
    for child in element:
        items += [child, child.tail or ""]
    if not any(_is_block(i) or _is_break(items, n) for n, i in enumerate(items)):
        # A block of text alone: a paragraph written as a <div>, unless it is short or its
        # class says caption, date, byline... (left for trafilatura to judge).
        if element.tag == "td" or len(element.text_content()) < 100 or _is_furniture(element):
            return
    element.text = None
    for child in list(element):
        child.tail = None
        element.remove(child)
    run: list[Any] = []  # text and inline elements: the paragraph being gathered
    index = 0
    while index < len(items):
        item = items[index]
        if _is_break(items, index):
            _emit(element, run)
            run = []
            while index < len(items) and (_is_blank(items[index]) or _is_br(items[index])):
                index += 1
            continue
        if _is_block(item):
            _emit(element, run)
            run = []
            element.append(item)
        else:
            run.append(item)
        index += 1
    _emit(element, run)


def _is_furniture(element: lxml_html.HtmlElement) -> bool:
    for node in (element, element.getparent()):
        if node is not None:
            if node.tag == "figure" or _FURNITURE.search(
                    f"{node.get('class', '')} {node.get('id', '')}"):
                return True
    return False


def _is_blank(item: Any) -> bool:
    return isinstance(item, str) and not item.strip()


def _is_br(item: Any) -> bool:
    return not isinstance(item, str) and item.tag == "br"


def _is_block(item: Any) -> bool:
    return not isinstance(item, str) and isinstance(item.tag, str) and item.tag not in _INLINE \
        and item.tag != "br"


def _is_break(items: list[Any], index: int) -> bool:
    """Two <br> with only spaces between end a paragraph."""
    if not _is_br(items[index]):
        return False
    following = index + 1
    while following < len(items) and _is_blank(items[following]):
        following += 1
    return following < len(items) and _is_br(items[following])


def _emit(element: lxml_html.HtmlElement, run: list[Any]) -> None:
    readable = any(
        (item if isinstance(item, str) else item.text_content() or "").strip() for item in run
    )
    target = lxml_html.Element("p") if readable else element
    for item in run:
        if not isinstance(item, str):
            target.append(item)
        elif len(target):
            target[-1].tail = (target[-1].tail or "") + item
        else:
            target.text = (target.text or "") + item
    if readable:
        element.append(target)


def _is_related(element: lxml_html.HtmlElement) -> bool:
    first = next((t for t in element.itertext() if t.strip()), "")
    if not _RELATED.match(first.strip()):
        return False
    text = _text_of(element)
    if len(text) > 600:
        return False
    label = _RELATED.match(text)
    rest = len(text) - (label.end() if label else 0)
    return rest < 5 or _link_share(element) >= 0.5


def _link_share(element: lxml_html.HtmlElement) -> float:
    text = len(_text_of(element))
    links = sum(len(_text_of(a)) for a in element.iter("a"))
    return links / text if text else 0.0


def _links_only(element: lxml_html.HtmlElement) -> bool:
    if element.tag in ("ul", "ol"):
        items = [li for li in element if li.tag == "li"]
        return bool(items) and all(_link_share(li) >= 0.8 for li in items)
    return len(_text_of(element)) < 1000 and _link_share(element) >= 0.8


def _tidy(text: str, title: str) -> str:
    """One paragraph a line, without headline, repeats, "read also" and page furniture."""
    kept: list[str] = []
    seen: set[str] = set()
    for line in clean_text(text).split("\n"):
        line = line.strip()
        if not line or _RELATED_LINE.match(line) or _CHROME.fullmatch(line) \
                or _DATELINE.fullmatch(line):
            continue
        if len(line) >= 20:
            if line in seen:
                continue  # a standfirst or pull quote printed twice
            seen.add(line)
        kept.append(line)
    if kept and title and _squash(kept[0]) == _squash(title):
        kept = kept[1:]  # the headline is the title field, not the first paragraph
    return "\n\n".join(kept)
