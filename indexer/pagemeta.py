"""Page metadata: what a page says about itself beside its text.

Parts: the readers (`json_ld` the article object, `meta_tags` OpenGraph and <meta>); `metadata`,
the draft fields in priority order (canonical URL, `title` with the site name cut, lead, dates,
authors, section, tags); the language (`declared_languages`, then `language` settles them with
the text); shared text helpers (`text_of`, `squash`).
"""

from __future__ import annotations

import html as html_entities
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from indexer.dates import parse_date
from indexer.records import MAX_TITLE_CHARS, Draft, clean_text
from indexer.urls import url_problem
from search.analysis import fold

__all__ = ["declared_languages", "json_ld", "language", "meta_tags", "metadata", "squash",
           "text_of", "title"]

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


def metadata(
    tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]
) -> Draft:
    """The draft fields a page declares, best source first; empty ones left out."""
    draft: Draft = {
        "url": _url(tree, ld, meta),
        "title": title(tree, meta, ld),
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


def json_ld(tree: lxml_html.HtmlElement) -> dict[str, Any]:
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


def meta_tags(tree: lxml_html.HtmlElement) -> dict[str, list[str]]:
    """Every <meta> content by lowercased property, name, itemprop or http-equiv."""
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


def text_of(element: lxml_html.HtmlElement) -> str:
    """The element's text on one line."""
    return clean_text(element.text_content(), one_line=True)


def title(tree: lxml_html.HtmlElement, meta: dict[str, list[str]], ld: dict[str, Any]) -> str:
    """The headline, from JSON-LD, OpenGraph, <title> or <h1>, without the site name."""
    sites = _values(meta, ("og:site_name", "application-name", "twitter:site"))
    sites += [_ld_text(ld.get("publisher")), urlsplit(_ld_text(ld.get("url"))).hostname or ""]
    sites += [urlsplit(v).hostname or "" for v in _values(meta, ("og:url",))]
    h1 = _h1(tree)
    titles = [_strip_site(t, sites, h1) for t in _values(meta, ("og:title", "twitter:title"))]
    page_title = tree.find("head/title")
    if page_title is None:
        page_title = tree.find(".//title")
    if page_title is not None:
        titles.append(_strip_site(text_of(page_title), sites, h1))
    headline = _strip_site(_ld_text(ld.get("headline")) or _ld_text(ld.get("name")), sites, h1)
    return _first([headline] + titles + [h1])


def _h1(tree: lxml_html.HtmlElement) -> str:
    # A site logo is often an <h1> too; the one inside the article is the headline.
    for path in ("//article//h1", "//main//h1", "//h1"):
        for h1 in tree.xpath(path):
            text = text_of(h1)
            if text:
                return text
    return ""


def _strip_site(title: str, sites: list[str], h1: str) -> str:
    """Drop a trailing " - Site name" or " | Site" when it is the site's name.

    Each separator costs a pass over the title: a title longer than an article's title may
    be is left as it is (the article is refused for it, unless a better title is found).
    """
    if len(title) > MAX_TITLE_CHARS:
        return title
    names = [squash(re.sub(r"^@|^(?:www\d?|m)\.|\.[a-z]{2,6}$", "", site)) for site in sites]
    names = [name for name in names if name]
    headline = squash(h1)  # once: an <h1> may be long too
    for separator in _TITLE_SEPARATOR.finditer(title):
        head, tail = title[: separator.start()].strip(), squash(title[separator.end():])
        if not head or not tail:
            continue
        if headline and squash(head) == headline:
            return head
        for name in names:
            # "Le Monde.fr" is the site "Le Monde"; "AOC media" the site "AOC media - Analyse".
            if tail == name or (len(tail) >= 4 and name.startswith(tail)) or (
                    name in tail and len(tail) - len(name) <= 4):
                return head
    return title


def squash(text: str) -> str:
    """Text folded and stripped of punctuation and spaces, to compare two texts."""
    return re.sub(r"[\W_]+", "", fold(text))


def _lead(tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]) -> str:
    candidates = [_ld_text(ld.get("description"))]
    candidates += _values(meta, ("og:description", "description", "twitter:description"))
    candidates.append(_standfirst(tree))
    return _first(candidates)


def _standfirst(tree: lxml_html.HtmlElement) -> str:
    for element in tree.iter("p", "div", "h2", "span", "section", "header"):
        if _STANDFIRST_CLASS.search(element.get("class", "")):
            text = text_of(element)
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


def declared_languages(
    tree: lxml_html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]
) -> list[str]:
    """The language codes the page declares, in order, each once."""
    declared = [_ld_text(ld.get("inLanguage")), tree.get("lang", ""),
                tree.get("xml:lang", "")]
    declared += _values(meta, ("og:locale", "content-language", "language"))
    codes = (_LANG.match(value.strip()) for value in declared)
    return _unique([code.group(1).lower() for code in codes if code])


def language(declared: list[str], body: str) -> str:
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
    return url_problem(url.strip()) is None

