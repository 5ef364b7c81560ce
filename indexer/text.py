"""Plain-text articles as scrapers save them: headline, lead, body, and debris to drop.

A scraped page reads, line by line: site debris (hashtags, "Logo …", share buttons), the
headline, maybe a date and a byline, the lead, often the headline again, the body, then
"Recommandé pour vous" and a list of other headlines. `parse_text` keeps the article and
drops the rest; every line is a paragraph, unless the file is hard-wrapped.
"""

from __future__ import annotations

import re

from indexer.dates import parse_date
from indexer.encoding import decode_text, looks_binary
from indexer.records import MAX_BODY_CHARS, Draft, clean_text
from search.analysis import fold
from search.errors import ArticleError

__all__ = ["parse_text"]

MAX_HEADLINE_CHARS = 400
TOP = 12  # paragraphs from the top where dates, bylines and the headline are looked for
LIST_ITEM_CHARS = 200  # a "Lire aussi" list holds headlines, not paragraphs longer than this

_HASHTAGS = re.compile(r"#[^\s#]+(?:\s+#[^\s#]+)*")
_MARKDOWN_HEADING = re.compile(r"#{1,6}\s+(?=\S)")
_SHARE_WORDS = (
    r"facebook|twitter|x|linkedin|whatsapp|telegram|messenger|bluesky|mastodon|pinterest"
    r"|reddit|e-?mail|courriel|imprimer|copier le lien|copier|tweet|tweeter|partager"
)
# Words and separators alternate without overlap, so matching never backtracks far.
_SHARE = re.compile(
    rf"(?:{_SHARE_WORDS})(?:(?:\s*[|·•,/:-]\s*|\s+)(?:{_SHARE_WORDS}))*\s*[|·•,/:-]?"
)
# Folded (unaccented, lower case) forms of whole debris lines.
_DEBRIS = re.compile(
    r"logo\b.{0,80}|publicite|advertisement|pub|annonce|contenu sponsorise|"
    r"(?:partager|partagez|partage)(?:\s+(?:sur|cet article|l'article|via)\b.{0,40})?|"
    r"(?:©|\(c\)|copyright)\s.{0,100}|"
    r"(?:[>»•*-]+\s*)?(?:a lire (?:aussi|egalement)|lire (?:aussi|egalement)|voir aussi)"
    r"\s*:\s*.{1,250}"
)
# Folded headings of the "more articles" blocks that end scraped pages.
_MORE_HEADINGS = (
    "recommande pour vous", "a lire aussi", "lire aussi", "a lire egalement",
    "lire egalement", "voir aussi", "sur le meme sujet", "sur le meme theme",
    "dans la meme rubrique", "articles? (?:similaires|lies|recommandes)", "les plus lus",
    "les plus partages", "vous aimerez aussi", "vous pourriez aussi aimer",
    "a decouvrir aussi", "a decouvrir", "nos derniers articles", "derniers articles",
)
_MORE = re.compile(r"(?:[>»•*-]+\s*)?(?:" + "|".join(_MORE_HEADINGS) + r")\s*:?")
_URL = re.compile(r"https?://\S+")
_TAGS = re.compile(r"(?:mots[- ]cles|tags|themes|sujets)\s*:\s*\S.*")
# Segments of a metadata line such as "Par X | Publié le …, mis à jour le …".
_SEGMENT_SEPARATOR = re.compile(
    r"\s*[|·•]\s*|\s+[-–—]\s+|\s*,\s*(?=(?:publi|mis |mise |modifi|actualis|par )\w*)",
    re.IGNORECASE,
)
_WEEKDAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
# What may follow "Publié le": a date, or a relative one ("aujourd'hui", "il y a 2 heures").
_DATE_START = rf"(?P<date>(?:\d|{_WEEKDAY}|aujourd|hier|il y a).*)"
_PUBLISHED = re.compile(
    rf"(?:publiee?|mis en ligne|postee?|parue?|parution|date)\s*(?:le\s+|:\s*)?{_DATE_START}"
)
_MODIFIED = re.compile(
    rf"(?:(?:derniere )?mise? a jour|actualisee?|modifiee?|maj)\s*(?:le\s+|:\s*)?{_DATE_START}"
)
_BYLINE = re.compile(r"(?:par|auteurs?\s*:|by)\s+(?P<names>.+)", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_BARE_DATE = re.compile(
    rf"(?:le\s+)?(?:{_WEEKDAY}\s+)?(?:\d{{1,2}}(?:er)?\s+[a-z]{{3,9}}\.?\s+\d{{4}}"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{4})"
    r"(?:\s*(?:a|,|-)?\s*\d{1,2}\s*[h:]\s*(?:\d{2})?(?:\s*min)?)?"
    r"|\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
)
_NAME_SEPARATOR = re.compile(r"\s*(?:,|;|&|\bet\b|\bavec\b|\band\b)\s*")
_NAME = re.compile(r"[A-ZÀ-Ý][\w’'.-]*(?:\s+[\w’'.-]+){0,5}")
_END_PUNCTUATION = tuple('.!?…:;»"”)')


def parse_text(data: bytes, *, location: str) -> Draft:
    """Draft from a plain-text article as scraped, or raise ArticleError."""
    if not data.strip():
        raise ArticleError(location, "empty file (no text)")
    if _binary(data):
        raise ArticleError(location, "binary content, not a text article")
    text = decode_text(data)
    if len(text) > MAX_BODY_CHARS:
        raise ArticleError(
            location,
            f"{len(text):,} characters, more than the limit of {MAX_BODY_CHARS:,} for one article",
        )
    text = clean_text(text)
    if not text:
        raise ArticleError(location, "empty file (only whitespace)")
    paragraphs = [p for p in _paragraphs(text) if not _is_debris(p)]
    if not paragraphs:
        raise ArticleError(location, "empty file (only whitespace or page debris)")
    draft: Draft = {}
    paragraphs = _take_metadata(paragraphs, draft)
    if not paragraphs:
        raise ArticleError(location, "no headline and no text, only a date or a byline")
    start, section = _find_headline(paragraphs)
    headline = paragraphs[start]
    if len(headline) > MAX_HEADLINE_CHARS:
        raise ArticleError(
            location,
            f"no headline: the text starts with a paragraph of {len(headline):,} characters "
            "(a text article starts with its headline on a line of its own)",
        )
    repeated = _key(headline)
    rest = _drop_trailing_lists([p for p in paragraphs[start + 1 :] if _key(p) != repeated])
    rest = _take_tags(rest, draft)
    if not rest:
        raise ArticleError(location, f"no text after the headline {headline[:60]!r}")
    draft["title"] = headline
    if section:
        draft["section"] = section
    if len(rest) == 1:
        draft["body"] = rest[0]
    else:
        draft["lead"], draft["body"] = rest[0], "\n\n".join(rest[1:])
    return draft


def _binary(data: bytes) -> bool:
    # A few stray NUL bytes (a bad scrape) do not make text binary; clean_text drops them.
    head = data[:8192]
    return head.count(b"\x00") > len(head) // 10 or looks_binary(head.replace(b"\x00", b""))


def _paragraphs(text: str) -> list[str]:
    """Every line is a paragraph, except in hard-wrapped text where blank lines separate them."""
    blocks = [block.split("\n") for block in text.split("\n\n")]
    if _hard_wrapped(blocks):
        return [" ".join(block) for block in blocks]
    paragraphs = [line for block in blocks for line in block]
    return [_MARKDOWN_HEADING.sub("", p, count=1) if p.startswith("#") else p for p in paragraphs]


def _hard_wrapped(blocks: list[list[str]]) -> bool:
    # Wrapped text: no long line, and lines inside paragraphs nearly fill the width and
    # mostly break mid-sentence (one paragraph a line ends nearly every line with a stop).
    longest = max(len(line) for block in blocks for line in block)
    if not 50 <= longest <= 100:
        return False
    inner = [line for block in blocks for line in block[:-1]]
    full = sum(len(line) >= 0.6 * longest for line in inner)
    stops = sum(line.endswith(_END_PUNCTUATION) for line in inner)
    return len(inner) >= 3 and full >= 0.75 * len(inner) and stops < 0.5 * len(inner)


def _is_debris(paragraph: str) -> bool:
    if len(paragraph) > 400:
        return False  # debris lines are short; this also keeps huge lines cheap
    if _HASHTAGS.fullmatch(paragraph) or _URL.fullmatch(paragraph):
        return True
    folded = fold(paragraph).lower()
    return bool(_DEBRIS.fullmatch(folded) or _SHARE.fullmatch(folded))


def _take_metadata(paragraphs: list[str], draft: Draft) -> list[str]:
    """Move date and byline lines near the top into `draft`; return the other paragraphs."""
    kept = []
    for index, paragraph in enumerate(paragraphs):
        if index >= TOP or len(paragraph) > 200 or not _metadata(paragraph, draft):
            kept.append(paragraph)
    return kept


def _metadata(line: str, draft: Draft) -> bool:
    """Read a date or byline line into `draft`; False (and nothing read) if it is not one."""
    dates: dict[str, str] = {}
    authors: list[str] = []
    for segment in _SEGMENT_SEPARATOR.split(line):
        segment = segment.strip().rstrip(".")
        if not segment:
            continue
        folded = fold(segment).lower()
        if match := _MODIFIED.fullmatch(folded):
            key = "modified"
        elif match := _PUBLISHED.fullmatch(folded):
            key = "published"
        elif _BARE_DATE.fullmatch(folded) and _is_date(segment):
            dates.setdefault("published", segment)
            continue
        elif names := _byline(segment):
            authors.extend(names)
            continue
        else:
            return False
        value = folded[match.start("date") :]
        if len(folded) == len(segment):
            value = segment[match.start("date") :]  # the same text, with its accents
        if _is_date(value):
            dates.setdefault(key, value)
        # Otherwise ("Publié aujourd'hui à 10h") it is still a date line, without a usable date.
    for key, value in dates.items():
        draft.setdefault(key, value)
    if authors:
        draft.setdefault("authors", []).extend(authors)
    return True


def _byline(segment: str) -> list[str]:
    match = _BYLINE.fullmatch(segment)
    if not match:
        return []
    names_text = _PARENTHESES.sub("", match["names"])
    if fold(names_text).lower() == "la redaction":
        return ["La rédaction"]
    names: list[str] = []
    other_words = 0
    for part in _NAME_SEPARATOR.split(names_text):
        if _NAME.fullmatch(part) and len(part) <= 60:
            names.append(part)
        else:
            other_words += len(part.split())
    # "Par ailleurs, …" or "Par Paul, son frère a dit que …" start a sentence, not a byline;
    # "Par Jean Dupont, envoyé spécial à Gaza" is one.
    if not names or not _NAME.fullmatch(names_text.split(",")[0].strip()) or other_words > 6:
        return []
    return names


def _is_date(value: str) -> bool:
    try:
        parse_date(value)
    except ValueError:
        return False
    return True


def _find_headline(paragraphs: list[str]) -> tuple[int, str]:
    """Index of the headline, and the section named above it (a kicker), if any."""
    top = paragraphs[:TOP]
    keys = [_key(p) for p in top]
    # The headline repeated just under the lead is the surest sign of where it is.
    for i, key in enumerate(keys):
        if len(top[i]) <= MAX_HEADLINE_CHARS and key in keys[i + 2 : i + 4]:
            # Debris we do not know may come before it; a short label just above is a kicker.
            return i, _kicker(top[i - 1]) if i else ""
    return 0, ""


def _kicker(paragraph: str) -> str:
    """`paragraph` if it is a one-to-four-word section label ("Économie", "Grand entretien")."""
    if len(paragraph) <= 40 and len(paragraph.split()) <= 4 and paragraph[-1] not in ".!?…:":
        return paragraph
    return ""


def _drop_trailing_lists(paragraphs: list[str]) -> list[str]:
    """Drop "Recommandé pour vous" / "Lire aussi" headings and the headline lists they lead."""
    kept: list[str] = []
    index = 0
    while index < len(paragraphs):
        paragraph = paragraphs[index]
        if len(paragraph) > 80 or not _MORE.fullmatch(fold(paragraph).lower()):
            kept.append(paragraph)
            index += 1
            continue
        if _headline_list(paragraphs[index + 1 :]):
            break  # the end of the page: a list of other articles
        # A "Lire aussi" in the middle of the body: skip it and the headlines under it.
        index += 1
        skipped = 0
        while index < len(paragraphs) and skipped < 3 and _list_item(paragraphs[index]):
            index += 1
            skipped += 1
    return kept


def _headline_list(paragraphs: list[str]) -> bool:
    """True if `paragraphs` (maybe none) look like a list of headlines, not article text."""
    items = sum(_list_item(p) for p in paragraphs)
    return all(len(p) <= LIST_ITEM_CHARS for p in paragraphs) and items * 2 >= len(paragraphs)


def _list_item(paragraph: str) -> bool:
    # Headlines are short and rarely end with a full stop; body paragraphs do.
    return len(paragraph) <= LIST_ITEM_CHARS and not paragraph.endswith(".")


def _take_tags(paragraphs: list[str], draft: Draft) -> list[str]:
    kept = []
    for paragraph in paragraphs:
        match = _TAGS.fullmatch(fold(paragraph).lower()) if len(paragraph) <= 300 else None
        if match:
            tags_text = paragraph.split(":", 1)[1]
            draft.setdefault("tags", []).extend(
                tag.strip() for tag in re.split(r"[,;|]", tags_text) if tag.strip()
            )
        else:
            kept.append(paragraph)
    return kept


def _key(paragraph: str) -> str:
    """What two copies of a headline have in common: folded words, no final punctuation."""
    return " ".join(fold(paragraph).lower().split()).rstrip("".join(_END_PUNCTUATION) + " ")
