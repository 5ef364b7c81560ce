"""XML for feed readers and browsers: the Atom feed of a search and the OpenSearch description.

Built with ElementTree, so every title, snippet and URL an article brings is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from search.results import Hit, Results

__all__ = ["safe_url", "atom_feed", "opensearch_description"]

ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_url(url: str | None) -> str | None:
    """`url` if it is a plain http(s) address a page may link to, else None."""
    if not url or len(url) > 2000 or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _atom_date(value: str) -> str:
    return value.replace("+00:00", "Z")


def atom_feed(results: Results, *, title: str, feed_url: str, html_url: str,
              article_url: Callable[[Hit], str], updated: str, site_name: str) -> bytes:
    """An Atom 1.0 feed of `results` (the caller asks for them newest first)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "fr"})
    a = f"{{{ATOM}}}"
    _sub(feed, a + "id", feed_url)
    _sub(feed, a + "title", title)
    dates = [hit.published for hit in results.hits if hit.published]
    _sub(feed, a + "updated", _atom_date(max(dates) if dates else updated))
    _sub(feed, a + "link", rel="self", type="application/atom+xml", href=feed_url)
    _sub(feed, a + "link", rel="alternate", type="text/html", href=html_url)
    _sub(feed, a + "generator", site_name)
    # Atom wants an author on the feed unless every entry has one.
    _sub(_sub(feed, a + "author"), a + "name", site_name)
    for hit in results.hits:
        entry = _sub(feed, a + "entry")
        local = article_url(hit)
        _sub(entry, a + "id", local)
        _sub(entry, a + "title", hit.title or "(sans titre)")
        _sub(entry, a + "link", rel="alternate", type="text/html",
             href=safe_url(hit.url) or local)
        published = _atom_date(hit.published or updated)
        _sub(entry, a + "published", published)
        _sub(entry, a + "updated", published)
        for name in hit.authors:
            _sub(_sub(entry, a + "author"), a + "name", name)
        if hit.section:
            _sub(entry, a + "category", term=hit.section)
        # type="html": the snippet is HTML (escaped text with <mark>), escaped once more here.
        _sub(entry, a + "summary", hit.snippet_html, type="html")
    return _xml(feed)


def opensearch_description(*, site_name: str, base_url: str) -> bytes:
    """The OpenSearch 1.1 description: browsers offer the site as a search engine."""
    ET.register_namespace("", OPENSEARCH)
    o = f"{{{OPENSEARCH}}}"
    root = ET.Element(o + "OpenSearchDescription")
    _sub(root, o + "ShortName", site_name[:16])
    _sub(root, o + "Description", f"Recherche dans les archives d’actualité de {site_name}")
    _sub(root, o + "InputEncoding", "UTF-8")
    _sub(root, o + "OutputEncoding", "UTF-8")
    _sub(root, o + "Language", "fr-fr")
    _sub(root, o + "Image", f"{base_url}/favicon.ico", height="16", width="16",
         type="image/x-icon")
    _sub(root, o + "Url", type="text/html", method="get",
         template=f"{base_url}/recherche?q={{searchTerms}}")
    _sub(root, o + "Url", type="application/x-suggestions+json", method="get",
         template=f"{base_url}/api/v1/suggest?q={{searchTerms}}")
    _sub(root, o + "Url", type="application/atom+xml", method="get",
         template=f"{base_url}/recherche.atom?q={{searchTerms}}")
    _sub(root, o + "Url", type="application/opensearchdescription+xml", rel="self",
         template=f"{base_url}/opensearch.xml")
    return _xml(root)
