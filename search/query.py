"""The reader's query language, parsed leniently into a `ParsedQuery` every backend compiles.

What readers may type (the help page shows the same in French):

    haïfa attaque           words: accent- and case-insensitive; articles with all the
                            words come first, articles missing some come after
    "ville portuaire"       an exact phrase (accents still optional)
    -gaz  -"prix du gaz"    exclude a word or a phrase (also NOT gaz)
    gaza OR cisjordanie     either word (also OU)
    attaq*                  words starting with "attaq" (at least 2 letters)
    titre:haïfa             in the title (also title:)
    auteur:moreau           by an author (also author:)
    rubrique:culture        in a section (also section:)
    depuis:2024-01-15       published on or after (2024, 2024-01 and 2024-01-15 all work;
    avant:2024              also since:), published before (also before:, until:)

Nothing a reader types makes the parser fail: unknown syntax is read as words, lone
operators and stray punctuation are dropped. Only a query longer than MAX_QUERY_CHARS and
a date that is not a date raise QueryError. Words past the first MAX_WORDS (counting each
word of a phrase, excluded or not) are ignored; a phrase reaching past them is cut. A
clause excluded twice counts once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from search.analysis import STOP_WORDS, FoldingTokenizer, fold, stem
from search.errors import QueryError

__all__ = ["Clause", "ParsedQuery", "parse_query", "MAX_QUERY_CHARS", "MAX_WORDS", "parse_day"]

MAX_QUERY_CHARS = 1000
MAX_WORDS = 32  # words beyond this (a phrase's included) are ignored, as big engines do
MAX_PREFIXES = 4  # prefix* clauses beyond this are read as plain words

FIELDS = {
    "titre": "title",
    "title": "title",
    "auteur": "author",
    "author": "author",
    "par": "author",
    "rubrique": "section",
    "section": "section",
    "depuis": "since",
    "since": "since",
    "apres": "since",
    "after": "since",
    "from": "since",
    "avant": "until",
    "before": "until",
    "until": "until",
    "to": "until",
}
DISPLAY_FIELDS = {"title": "titre", "author": "auteur", "section": "rubrique",
                  "since": "depuis", "until": "avant"}

_TOKENIZER = FoldingTokenizer()

# One lexical item: an optional minus, an optional field, then a phrase or a bare word.
_ITEM = re.compile(
    r"""(?P<neg>-(?=["\w]))?
        (?:(?P<field>[^\W\d_]+):(?=\S))?
        (?:"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"()\[\]{}]+))""",
    re.VERBOSE,
)
# Words of letters (those of French and its neighbours, which fold to letters) and digits.
_PLAIN = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+(?: [0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+)*")
_OPERATORS = {"OR": "or", "OU": "or", "AND": "and", "ET": "and", "NOT": "not", "SAUF": "not"}


@lru_cache(maxsize=4096)
def _terms(text: str) -> tuple[str, ...]:
    # A query's clauses are asked for their words several times (compiling, snippets,
    # spelling): the tokenizer runs once per text.
    return tuple(t.text.lower() for t in _TOKENIZER(text))


@lru_cache(maxsize=4096)
def _stems(text: str) -> tuple[str, ...]:
    return tuple(term for term in (stem(t.text) for t in _TOKENIZER(text)) if term is not None)


@dataclass(frozen=True)
class Clause:
    """One thing the reader asked for: a word, a phrase or a prefix, maybe in a field."""

    kind: str  # "word", "phrase" or "prefix"
    text: str  # as typed (phrase without quotes, prefix without *)
    field: str | None = None  # None (anywhere), "title", "author" or "section"
    negated: bool = False
    synonym: bool = False  # added by synonyms (search/synonyms.py), not typed

    def terms(self) -> list[str]:
        """Exact (folded, unstemmed) forms of the words of this clause."""
        return list(_terms(self.text))

    def stems(self) -> list[str]:
        """Stems of the words of this clause, stop words left out."""
        return list(_stems(self.text))

    def display(self) -> str:
        text = f'"{self.text}"' if self.kind == "phrase" else self.text
        if self.kind == "prefix":
            text += "*"
        if self.field:
            text = f"{DISPLAY_FIELDS[self.field]}:{text}"
        return ("-" if self.negated else "") + text


@dataclass(frozen=True)
class ParsedQuery:
    """A query as understood: groups of alternatives (ANDed), exclusions, a date range."""

    groups: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()
    since: date | None = None
    until: date | None = None  # exclusive
    since_text: str = ""
    until_text: str = ""
    ignored: tuple[str, ...] = field(default=(), compare=False)
    synonyms: tuple[str, ...] = ()  # entries added by synonyms, as written in their rules

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    def text(self) -> str:
        """The normalised query, in the syntax readers type (made once: a search asks for
        it several times)."""
        found = self.__dict__.get("_text")
        if found is None:
            found = self.__dict__["_text"] = self._made_text()
        return found

    def _made_text(self) -> str:
        parts = [" OR ".join(c.display() for c in group if not c.synonym)
                 for group in self.groups]
        parts += [c.display() for c in self.excluded if not c.synonym]
        if self.since_text:
            parts.append(f"depuis:{self.since_text}")
        if self.until_text:
            parts.append(f"avant:{self.until_text}")
        return " ".join(parts)


def parse_day(value: str, *, name: str, end: bool = False) -> date:
    """`2024`, `2024-01` or `2024-01-15` as a date: the first day, or the day after the last."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value.strip())
    try:
        if not match:
            raise ValueError
        year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
        start = date(year, month, day)
        if not end:
            return start
        if match[3]:
            return start + timedelta(days=1)
        if match[2]:
            return date(year + (month == 12), month % 12 + 1, 1)
        return date(year + 1, 1, 1)
    except (ValueError, OverflowError):
        raise QueryError(
            f"{name}: expected a date like 2024-01-15, 2024-01 or 2024, got {value!r}",
            field=name,
        ) from None


def _word_clause(word: str, field: str | None, negated: bool) -> Clause | None:
    if word.endswith(":") and fold(word[:-1]).lower() in FIELDS:
        return None  # "titre:" with nothing after it
    word = word.strip(".,;:!?¿¡…«»“”‘’'`~^|\\/<>=+&%$#@")
    if word.endswith("*"):
        stem = word.rstrip("*")
        letters = re.sub(r"[^a-z0-9]", "", fold(stem).lower())
        if len(letters) >= 2 and len(_words(stem)) == 1:
            return Clause("prefix", stem, field, negated)
        word = stem
    if not _words(word):
        return None
    return Clause("word", word, field, negated)


def _within_budget(clause: Clause, budget: int) -> Clause | None:
    """`clause` if its words fit in `budget`, a phrase cut to fit, or None."""
    ends = [t.endchar for t in _TOKENIZER(clause.text, chars=True)]  # one Token, reused
    if len(ends) <= budget:
        return clause
    if clause.kind != "phrase" or budget < 2:
        return None
    return Clause("phrase", clause.text[:ends[budget - 1]], clause.field, clause.negated)


def _words(text: str) -> list[str]:
    return [t.text for t in _TOKENIZER(text)]


def parse_query(text: str) -> ParsedQuery:
    """Parse what a reader typed. Never fails on odd input; see the module docstring."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query has {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}",
            field="q",
        )
    return _plain_words(text) or _parsed(text)


def _plain_words(text: str) -> ParsedQuery | None:
    """What `_parsed` makes of words of letters and digits between single spaces, no
    operator among them, or of one quoted phrase of such words (most queries), without
    its walk; None for any other query."""
    quoted = len(text) > 2 and text[0] == '"' and text[-1] == '"'
    inner = text[1:-1] if quoted else text
    if not _PLAIN.fullmatch(inner):
        return None
    words = inner.split(" ")
    if len(words) > MAX_WORDS:
        return None
    count = 0
    for word in words:
        count += len(_terms(word))
    if count > MAX_WORDS:
        return None
    if quoted:  # operators are words inside a phrase; `"x"` reads `x`
        if len(words) > 1:
            return _plain_parse(((_clause("phrase", inner),),), f'"{inner}"')
        return _plain_parse(((_clause("word", inner),),), inner)
    if not _OPERATORS.keys().isdisjoint(words):
        return None
    # the text of words between single spaces is the query itself
    return _plain_parse(tuple([(_clause("word", w),) for w in words]), inner)


_new = object.__new__
# The instance's dictionary set at once, the one made here (not a second one filled from
# it, as `__dict__.update` fills the instance's own)
_set = object.__setattr__


def _clause(kind: str, text: str) -> Clause:
    """`Clause(kind, text)` without the frozen dataclass's `__init__`, which sets each of
    its five fields through `object.__setattr__` (the same instance dictionary)."""
    found = _new(Clause)
    _set(found, "__dict__", {"kind": kind, "text": text, "field": None, "negated": False,
                             "synonym": False})
    return found


def _plain_parse(groups: tuple[tuple[Clause, ...], ...], text: str) -> ParsedQuery:
    """`ParsedQuery(groups=groups)` without the frozen `__init__` (eight fields), its
    `text()` already known (the words as typed, a phrase quoted)."""
    found = _new(ParsedQuery)
    _set(found, "__dict__", {"groups": groups, "excluded": (), "since": None, "until": None,
                             "since_text": "", "until_text": "", "ignored": (), "synonyms": (),
                             "_text": text})
    return found


def _parsed(text: str) -> ParsedQuery:
    """The general parse (see the module docstring)."""
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    ignored: list[str] = []
    since = until = None
    since_text = until_text = ""
    pending_or = pending_not = False
    words = prefixes = 0
    seen: set[tuple[object, ...]] = set()  # exclusions met
    # Control characters and odd spaces are separators.
    text = re.sub(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]", " ", text)
    for match in _ITEM.finditer(text):
        word, phrase = match["word"], match["phrase"]
        name = match["field"]
        field_name = FIELDS.get(fold(name).lower()) if name else None
        if name and field_name is None:
            # Not a field we know (http:, 14:30): read the whole thing as words.
            word = f"{name}:{word}" if word is not None else None
            phrase = phrase if word is None else None
        negated = bool(match["neg"]) or pending_not
        if name is None and word in _OPERATORS:
            op = _OPERATORS[word]
            pending_or = op == "or" and bool(groups)
            pending_not = op == "not"
            continue
        if field_name in ("since", "until"):
            value = phrase if phrase is not None else word or ""
            value = value.strip()
            if field_name == "since":
                since, since_text = parse_day(value, name="depuis"), value
            else:
                until, until_text = parse_day(value, name="avant"), value
            pending_or = pending_not = False
            continue
        if phrase is not None:
            clause = Clause("phrase", " ".join(phrase.split()), field_name, negated) \
                if _words(phrase) else None
            if clause and len(clause.terms()) == 1:
                clause = Clause("word", clause.text, field_name, negated)
        else:
            clause = _word_clause(word or "", field_name, negated)
        if clause is not None and clause.kind == "prefix":
            if prefixes >= MAX_PREFIXES:
                clause = Clause("word", clause.text, clause.field, clause.negated)
            prefixes += 1
        if clause is not None and clause.negated:
            key = (clause.kind, tuple(clause.terms()), clause.field)
            clause = None if key in seen else clause
            seen.add(key)
        if clause is not None:
            clause = _within_budget(clause, MAX_WORDS - words)
        if clause is None:
            ignored.append(match.group())
            pending_or = pending_not = False
            continue
        words += max(1, len(clause.terms()))
        if clause.negated:
            excluded.append(clause)
        elif pending_or and groups:
            groups[-1].append(clause)
        else:
            groups.append([clause])
        pending_or = pending_not = False
    return ParsedQuery(
        groups=tuple(tuple(g) for g in groups),
        excluded=tuple(excluded),
        since=since,
        until=until,
        since_text=since_text,
        until_text=until_text,
        ignored=tuple(ignored),
    )


def is_plain_word(clause: Clause) -> bool:
    """A word typed alone, in no field: ranked softly, corrected, matched by synonyms."""
    return clause.kind == "word" and not clause.field and not clause.synonym


def plain_word_group(group: tuple[Clause, ...]) -> bool:
    """A group that is one plain word, and maybe the synonyms it gained."""
    return is_plain_word(group[0]) and all(c.synonym for c in group[1:])


def is_stop_word(clause: Clause) -> bool:
    """True for a plain word that analysis drops entirely (le, la, les, où…)."""
    return clause.kind == "word" and not clause.field and all(
        t in STOP_WORDS for t in clause.terms())


def as_datetime(day: date) -> datetime:
    """Midnight UTC of `day`, naive, as the `date` field stores instants."""
    return datetime(day.year, day.month, day.day)
