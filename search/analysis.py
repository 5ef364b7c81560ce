"""French analysis for Furet: fold, tokenise, split elisions, drop stop words, stem.

Parts:
- `fold` turns any text into ASCII with unidecode (é→e, œ→oe, æ→ae, ß→ss, ’→'), character
  by character, so folding the whole text first makes `analyzer(x) == analyzer(unidecode(x))`
  hold for every text, whatever odd symbol it holds.
- `FoldingTokenizer` folds the text, finds the words of the folded text and reports the
  offsets of each word in the *original* text, so snippets highlight `Haïfa`, not `Haifa`.
  It skips elided articles (l’, d’, qu’, jusqu’… with ’ or '): `l’attaque` gives `attaque`.
- `FrenchFilter` lowercases, drops stop words and stems with Snowball French (PyStemmer),
  memoised per raw token.
- `french_analyzer()` (stemmed) and `exact_analyzer()` (folded, unstemmed, stop words kept
  for phrases) are what the schema uses; `analyze()` is the same analysis as a list of terms,
  and `stem()` the stemmed term of one word (one memo shared by every query-side caller).

Whoosh pickles analyzers into every index: this module's path and its class names are
part of the index format. Never move or rename them; add new classes instead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Analyzer, Filter, Token, Tokenizer
from whoosh.lang import stopwords_for_language

__all__ = [
    "ELISIONS",
    "STOP_WORDS",
    "FoldingTokenizer",
    "FrenchFilter",
    "analyze",
    "exact_analyzer",
    "fold",
    "fold_lower_uneven",
    "fold_uneven",
    "uneven_offsets",
    "french_analyzer",
    "stem",
    "words",
]

# Articles and conjunctions that French elides before a vowel: l’arme, qu’il, jusqu’à.
ELISIONS = ("l", "d", "j", "n", "s", "c", "m", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu")

# Snowball's French list lacks a few very common words; everything is folded like the text.
_EXTRA_STOP_WORDS = {"les", "cette", "cet", "leurs", "dont", "où", "ces", "aux", "ils", "elles"}
STOP_WORDS: frozenset[str] = frozenset(
    unidecode(w) for w in set(stopwords_for_language("fr")) | _EXTRA_STOP_WORDS
)

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Words of the folded text: letters and digits with inner apostrophes ("aujourd'hui"), after
# any elided articles ("l'", "qu'", "jusqu'"), which are skipped. Hyphens, dots and
# underscores separate words: "Etats-Unis" is two words, "nefaste.L'appreciation" too.
_ELIDED = "|".join(sorted(ELISIONS, key=len, reverse=True))
_WORD = re.compile(rf"(?:(?i:{_ELIDED})')*([A-Za-z0-9]+(?:'[A-Za-z0-9]+)*)")
# The same words found faster: the runs `_WORD` matches (letters and digits with inner
# apostrophes), the elided articles cut afterwards from the few runs holding an apostrophe.
# A match of `_WORD` is always a whole run (it starts at the run's first character and its
# last part is greedy), so cutting a run with `_WORD.fullmatch` gives the same word.
_RUN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")
_WHOLE_WORD = _WORD.fullmatch
_MAX_TOKEN = 64  # longer "words" (hashes, base64) are noise; cut them like Lucene does


@lru_cache(maxsize=65536)
def _fold_char(char: str) -> str:
    if "\ud800" <= char <= "\udfff":
        return ""  # a lone surrogate is no character: unidecode drops it too, with a warning
    return unidecode(char)


def _fold_table() -> tuple[dict[int, str], re.Pattern[str]]:
    """unidecode of the characters news text is made of, for str.translate, and a pattern
    matching the characters that do not fold to exactly one character (œ, «, …)."""
    table: dict[int, str] = {}
    even: list[str] = []
    for start, end in ((0x80, 0x530), (0x1E00, 0x1F00), (0x2000, 0x2070), (0x20A0, 0x20C0),
                       (0xFB00, 0xFB07)):
        for code in range(start, end):
            table[code] = _fold_char(chr(code))
            if len(table[code]) == 1:
                even.append(re.escape(chr(code)))
    return table, re.compile("[^\\x00-\\x7f" + "".join(even) + "]")


_TABLE, _UNEVEN_CHAR = _fold_table()


_RUNS: dict[str, str] = {}  # folded runs of non-ASCII characters: French has few ("é", "’")


def _fold_cached(match: re.Match[str]) -> str:
    run = match.group()
    folded = _RUNS.get(run)
    if folded is None:
        folded = run.translate(_TABLE)
        if not folded.isascii():  # characters outside the table
            folded = "".join(map(_fold_char, run))
        if len(_RUNS) > 50_000:
            _RUNS.clear()
        _RUNS[run] = folded
    return folded


# French text's usual non-ASCII characters, most frequent first, with their folded forms: each
# replaced with str.replace (a C loop) is ~6 times faster than a regex callback per accented
# run; what is left, if anything, goes through the callback.
_USUAL = [(c, _TABLE[ord(c)]) for c in
          "éàèê—’ôçîùâûœÉ«»°À\u00a0\u202fÈïë€§–…“”‘ÊÎÔÂÇ²³×æŒÆÛÙÜüöäËÏÖÄ"]

_RECENT: dict[str, str] = {}  # the last texts folded: an article's are folded twice (words,
# compounds) while it is indexed


def fold(text: str) -> str:
    """Return `unidecode(text)`, fast on French text (the same, character for character)."""
    if text.isascii():
        return text
    folded = _RECENT.get(text)
    if folded is None:
        folded = text
        for char, plain in _USUAL:
            if char in folded:
                folded = folded.replace(char, plain)
                if folded.isascii():
                    break
        else:
            folded = _NON_ASCII.sub(_fold_cached, folded)
        if len(_RECENT) >= 8:
            _RECENT.clear()
        _RECENT[text] = folded
    return folded


_UNEVEN_USUAL = frozenset(char for char, plain in _USUAL if len(plain) != 1)


# fold_uneven's usual characters in three parts: those outside Latin-1 (replaced first, as
# `fold` does), the Latin-1 ones folding to one character (one `bytes.translate`), the
# Latin-1 ones folding to several (replaced last).
_WIDE_USUAL = [(c, p) for c, p in _USUAL if ord(c) > 0xFF] + [("\u2015", _TABLE[0x2015])]
_LATIN1_EVEN = bytes(ord(_TABLE[c]) if chr(c) in dict(_USUAL) and len(_TABLE[c]) == 1 else c
                     for c in range(256))
_LATIN1_UNEVEN = [(c, p) for c, p in _USUAL if ord(c) <= 0xFF and len(p) != 1]


def fold_uneven(text: str) -> tuple[str, list[str] | None]:
    """`fold(text)`, and the characters of `text` that do not fold to exactly one character
    (œ, «, …) when every non-ASCII character of `text` is one of French text's usual ones,
    else None (then not known: OffsetMap finds them). Not kept in `fold`'s memo: snippets
    fold a text once.

    Most articles are Latin-1 once their few usual wider characters (’, —, œ) are
    replaced: their accented letters are then folded by one `bytes.translate` (a C loop
    over the text) instead of a `str.replace` and a search through the text for each of
    the usual characters in turn."""
    if text.isascii():
        return text, []
    return _fold_uneven(text, _WIDE_USUAL, _LATIN1_EVEN, _LATIN1_UNEVEN, False)


# The same tables giving lower-case text: `fold_lower_uneven`.
_WIDE_USUAL_LOWER = [(c, p.lower()) for c, p in _WIDE_USUAL]
_LATIN1_EVEN_LOWER = _LATIN1_EVEN.lower()  # bytes.lower lowers A-Z only
_LATIN1_UNEVEN_LOWER = [(c, p.lower()) for c, p in _LATIN1_UNEVEN]


def fold_lower_uneven(text: str) -> tuple[str, list[str] | None]:
    """`fold(text).lower()` (ASCII: its offsets are those of `fold(text)`), and the
    characters that do not fold to exactly one, as `fold_uneven` gives them. The folding's
    `bytes.translate` lowers the letters too: no `str.lower` pass over the folded text."""
    if text.isascii():
        return text.lower(), []
    return _fold_uneven(text, _WIDE_USUAL_LOWER, _LATIN1_EVEN_LOWER, _LATIN1_UNEVEN_LOWER,
                        True)


def _fold_uneven(text: str, wide: list[tuple[str, str]], even: bytes,
                 latin1_uneven: list[tuple[str, str]], lower: bool
                 ) -> tuple[str, list[str] | None]:
    """`fold_uneven` of a text that is not ASCII, with these tables (`lower`: the tables
    give lower-case text, and the text is lowered where they are not used)."""
    folded = text
    uneven = []
    for char, plain in wide:
        if char in folded:
            folded = folded.replace(char, plain)
            if len(plain) != 1:
                uneven.append(char)
    try:
        raw = folded.encode("latin-1")
    except UnicodeEncodeError:  # an unusual character: the usual ones replaced, as `fold`
        for char, plain in _USUAL:
            if char in folded:
                folded = folded.replace(char, plain)
        folded = _NON_ASCII.sub(_fold_cached, folded)
        return (folded.lower() if lower else folded), None
    raw = raw.translate(even)
    if raw.isascii():
        return raw.decode("ascii"), uneven
    folded = raw.decode("latin-1")
    for char, plain in latin1_uneven:
        if char in folded:
            folded = folded.replace(char, plain)
            uneven.append(char)
            if folded.isascii():
                return folded, uneven
    folded = _NON_ASCII.sub(_fold_cached, folded)
    return (folded.lower() if lower else folded), None


# Every byte that is no letter, digit or apostrophe made a space: the runs are then what
# `bytes.split` gives, in C at a few nanoseconds a character (the regex tried a match at
# every character).
_SPACED = bytes(c if chr(c).isascii() and (chr(c).isalnum() or chr(c) == "'") else 32
                for c in range(256))


def words(text: str) -> list[str]:
    """The words of `text` as FoldingTokenizer finds them (folded, elisions skipped)."""
    folded = fold(text)
    if not folded.isascii():  # unidecode's output is ASCII; kept safe all the same
        return _runs(folded)
    spaced = folded.encode("ascii").translate(_SPACED).decode("ascii")
    if "'" not in spaced:
        return spaced.split()
    # Apostrophes inside words only: each split piece is one run. Otherwise ("''", a word
    # starting or ending with one) the runs are found by the pattern.
    if "''" in spaced or " '" in spaced or "' " in spaced or spaced[0] == "'" \
            or spaced[-1] == "'":
        return _runs(folded)
    return _cut_spaced(spaced)


_ELIDED_SET = frozenset(ELISIONS)


def _cut_spaced(spaced: str) -> list[str]:
    """`_cut_elisions(spaced.split())` of a text of runs (letters, digits, apostrophes
    inside words only) and spaces, worked out an apostrophe at a time instead of a word at
    a time: a word loses its leading pieces while each, followed by an apostrophe, is an
    elided article (what `_WORD` skips), and the text is split once they are cut."""
    pieces = spaced.split("'")
    kept: list[str] = []
    starts_word = True  # whether `before` starts at the start of a word
    before = pieces[0]
    for after in pieces[1:]:
        space = before.rfind(" ")
        if (space >= 0 or starts_word) and before[space + 1:].lower() in _ELIDED_SET:
            kept.append(before[:space + 1])  # the article and its apostrophe dropped
            starts_word = True
        else:
            kept.append(before)
            kept.append("'")
            starts_word = False
        before = after
    kept.append(before)
    return "".join(kept).split()


def _runs(folded: str) -> list[str]:
    """`words` of folded text, its runs found by the pattern."""
    return _cut_elisions(_RUN.findall(folded))


def _cut_elisions(found: list[str]) -> list[str]:
    """The runs of `found` without their elided articles (in place)."""
    for i, run in enumerate(found):
        if "'" in run:
            found[i] = _WHOLE_WORD(run).group(1)  # type: ignore[union-attr]
    return found


class OffsetMap:
    """Maps offsets in folded text back to offsets in the original text."""

    __slots__ = ("_fstarts", "_ostarts", "_identity")

    def __init__(self, text: str, until: int | None = None,
                 uneven: list[int] | None = None) -> None:
        """`until`: the largest folded offset to be mapped, when known (the text after it
        is not read). `uneven`: the offsets of the characters of `text` that do not fold to
        exactly one character (at least those up to `until`), in order, when known (see
        `uneven_offsets`); else a pattern finds them, trying every character of the text."""
        self._fstarts: list[int] = [0]
        self._ostarts: list[int] = [0]
        self._identity: list[bool] = [True]
        shift = 0  # folded offset minus original offset, so far
        # Only characters that do not fold to exactly one character move offsets apart.
        found = (m.start() for m in _UNEVEN_CHAR.finditer(text)) if uneven is None else uneven
        for i in found:
            if until is not None and i + shift > until:
                break  # every later part starts past `until`: never looked up
            folded = _fold_char(text[i])
            if folded:
                self._fstarts.append(i + shift)
                self._ostarts.append(i)
                self._identity.append(False)
            shift += len(folded) - 1
            self._fstarts.append(i + 1 + shift)
            self._ostarts.append(i + 1)
            self._identity.append(True)

    def original(self, folded_index: int) -> int:
        """Offset in the original text of the character at `folded_index` of the folded."""
        k = bisect_right(self._fstarts, folded_index) - 1
        # Several segments can start at the same folded offset (characters that fold to
        # nothing); bisect_right lands on the last one, which is the one holding the char.
        if self._identity[k]:
            return self._ostarts[k] + folded_index - self._fstarts[k]
        return self._ostarts[k]


def uneven_offsets(text: str, chars: list[str], until: int | None = None) -> list[int]:
    """The offsets in `text`, in order, of `chars` (the characters of `text` that do not
    fold to exactly one character, as `fold_uneven` gives them), up to the folded offset
    `until` at least: found with `str.find`, a C search, for OffsetMap."""
    # None of them folds to nothing: a folded offset is never below the original one, so a
    # character past `until` is past it folded too.
    last = len(text) if until is None else until + 1
    found = []
    for char in chars:
        at = text.find(char, 0, last)
        while at != -1:
            found.append(at)
            at = text.find(char, at + 1, last)
    found.sort()
    return found


# Snowball's French rules read accented endings (-ée, -ées, -ière, -ité); on folded words
# they would miss, and "fusionnees" would not meet "fusionne" (fusionné). Folded endings are
# given their usual accent back before stemming: the same for every spelling of a word, so
# folding first still makes accents irrelevant. Measured on piaf-dev and legi-fr words:
# words sharing a stem when accented share it when folded 97.6 % of the time (74 % without).
_REACCENT = (("ees", "ées"), ("ee", "ée"), ("ieres", "ières"), ("iere", "ière"),
             ("ites", "ités"), ("ite", "ité"))


def _reaccent(word: str) -> str:
    for plain, accented in _REACCENT:
        if word.endswith(plain):
            return word[: -len(plain)] + accented
    return word


class FoldingTokenizer(Tokenizer):
    """Yields the words of the ASCII-folded text, with offsets into the original text."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = fold(value)
        if not tokenize:
            t.original = t.text = folded
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        offsets = OffsetMap(value) if chars and folded is not value else None
        pos = start_pos
        for match in _WORD.finditer(folded):
            t.text = match.group(1)
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                start, end = match.span(1)
                if offsets is not None:
                    t.startchar = start_char + offsets.original(start)
                    t.endchar = start_char + offsets.original(end - 1) + 1
                else:
                    t.startchar, t.endchar = start_char + start, start_char + end
            yield t


class _TermCache(dict[str, str | None]):
    """Raw word -> term, each word analysed once (a lookup stays in C for known words)."""

    def __init__(self, analysed: Callable[[str], str | None]) -> None:
        super().__init__()
        self._analysed = analysed

    def __missing__(self, raw: str) -> str | None:
        result = self._analysed(raw)
        if len(self) > 200_000:
            self.clear()
        self[raw] = result
        return result


class FrenchFilter(Filter):
    """Lowercase, drop stop words and stem folded French words (memoised per raw token)."""

    def __init__(self, stem: bool = True, stop: bool = True) -> None:
        self.stem = stem
        self.stop = stop
        self._setup()

    def _setup(self) -> None:
        self._cache = _TermCache(self._analysed)
        self.lookup = self._cache.__getitem__  # `term` without a Python call per known word
        self._stemmer = Stemmer.Stemmer("french") if self.stem else None
        if self._stemmer is not None:
            # Its own memo of stems off: `_cache` remembers every word, and PyStemmer's
            # (10,000 words, pruned each time it fills) cost more than the stemming.
            self._stemmer.maxCacheSize = 0

    def __getstate__(self) -> dict[str, bool]:
        return {"stem": self.stem, "stop": self.stop}

    def __setstate__(self, state: dict[str, bool]) -> None:
        self.stem = state.get("stem", True)
        self.stop = state.get("stop", True)
        self._setup()

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.stem == other.stem  # type: ignore[attr-defined]
            and self.stop == other.stop  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.stem, self.stop))

    def term(self, raw: str) -> str | None:
        """Return the indexed term for a raw folded word, or None for a stop word."""
        return self._cache[raw]

    def _analysed(self, raw: str) -> str | None:
        """`term(raw)`, worked out (the cache calls it for a word it has not seen)."""
        word = raw.lower()[:_MAX_TOKEN]
        if self.stop and word in STOP_WORDS:
            return None
        if self._stemmer is not None and "'" not in word:
            return fold(self._stemmer.stemWord(_reaccent(word)))
        return word

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        term = self.term
        for t in tokens:
            text = term(t.text)
            if text is None:
                if t.removestops:
                    continue
                t.stopped = True
                t.text = t.text.lower()
            else:
                t.stopped = False
                t.text = text
            yield t


def french_analyzer() -> Analyzer:
    """Fold, tokenise, split elisions, drop stop words, stem: the main text analysis."""
    return FoldingTokenizer() | FrenchFilter(stem=True, stop=True)


def exact_analyzer() -> Analyzer:
    """Fold, tokenise, split elisions; no stemming, stop words kept: exact forms, phrases."""
    return FoldingTokenizer() | FrenchFilter(stem=False, stop=False)


_ANALYZERS = {True: french_analyzer(), False: exact_analyzer()}
_STEMMER = FrenchFilter(stem=True, stop=True)  # one memo for every query-side caller


def stem(word: str) -> str | None:
    """The stemmed term of one folded word, or None for a stop word (as the index has it)."""
    return _STEMMER.term(word)


def stem_all(found: Iterable[str]) -> Iterator[str | None]:
    """`stem()` of each word, without a call of its own per word."""
    return map(_STEMMER.lookup, found)


def analyze(text: str, *, stem: bool = True) -> list[str]:
    """Return the terms Furet indexes for `text` (stemmed, or exact forms)."""
    return [t.text for t in _ANALYZERS[stem](text)]
