"""Main text of a page: the article's paragraphs without the page around them.

Parts: `main_text`, the pipeline; `_prepare` the tree (`_paragraphize` loose text, drop "read
also" blocks with `_is_related`, and the site's tag list with `take_tag_list`); trafilatura
keeps the main text; `_tidy` drops the headline, repeats and page furniture line by line.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura
from lxml import html as lxml_html

from indexer.pagemeta import squash, text_of
from indexer.records import clean_text

__all__ = ["main_text", "take_tag_list"]

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
# A site's list of the article's tags ("Mots-clés : climat COP29 Bakou"): tags, not text.
_TAG_LABEL = re.compile(
    r"^\W*(?:mots?[- ]?cl(?:é|e|ef)s?|tags?|thèmes?|themes?|sujets?|étiquettes?|keywords?|"
    r"topics?)\s*:\s*", re.I)
_TAG_LIST_CHARS = 400  # a longer block is text, whatever its first word
_TAG_SEPARATORS = re.compile(r"\s*[,;|·•]\s*")


def main_text(tree: lxml_html.HtmlElement, title: str) -> str:
    """The page's main text, one paragraph a line between blank lines; changes the tree."""
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


def take_tag_list(tree: lxml_html.HtmlElement) -> list[str]:
    """Remove the site's tag lists from the page (« Mots-clés : … », mostly links, or short
    items between commas) and return their tags, in order."""
    tags: list[str] = []
    for element in list(tree.iter("p", "div", "ul", "section", "footer", "aside", "nav")):
        if element.getparent() is None:
            continue  # inside a list already removed
        text = text_of(element)
        label = _TAG_LABEL.match(text)
        if not label or len(text) > _TAG_LIST_CHARS:
            continue
        links = [link for link in (text_of(a) for a in element.iter("a")) if link]
        rest = text[label.end():]
        if links and sum(map(len, links)) >= 0.5 * len(rest):  # the label, then links
            found = links
        else:
            found = [item for item in _TAG_SEPARATORS.split(text[label.end():]) if item]
            if len(found) < 2 or any(len(item) > 40 or item.count(" ") > 4 for item in found):
                continue  # a paragraph that happens to start with "Sujets :"
        tags += found
        element.drop_tree()
    return tags


def _prepare(tree: lxml_html.HtmlElement) -> None:
    """Make loose text paragraphs and drop "read also" blocks and tag lists before
    trafilatura looks."""
    take_tag_list(tree)
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
    text = text_of(element)
    if len(text) > 600:
        return False
    label = _RELATED.match(text)
    rest = len(text) - (label.end() if label else 0)
    return rest < 5 or _link_share(element) >= 0.5


def _link_share(element: lxml_html.HtmlElement) -> float:
    text = len(text_of(element))
    links = sum(len(text_of(a)) for a in element.iter("a"))
    return links / text if text else 0.0


def _links_only(element: lxml_html.HtmlElement) -> bool:
    if element.tag in ("ul", "ol"):
        items = [li for li in element if li.tag == "li"]
        return bool(items) and all(_link_share(li) >= 0.8 for li in items)
    return len(text_of(element)) < 1000 and _link_share(element) >= 0.8


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
    if kept and title and squash(kept[0]) == squash(title):
        kept = kept[1:]  # the headline is the title field, not the first paragraph
    return "\n\n".join(kept)
