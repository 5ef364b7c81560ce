"""Synonyms applied when a query is parsed: no reindexing, the same on every store.

Rules are written in the Solr `synonyms.txt` format, the de facto exchange format:

    Daech, État islamique, EI, ISIS      equivalent: each finds the others
    PM => Premier ministre               one-way: PM finds Premier ministre (and PM)
    # a comment, and blank lines

An entry is analysed as the index analyses text (folded, lowercased, stemmed), so
« etat islamique » and « État islamique » are one entry, and it matches a query's word,
phrase, or run of plain words with the same stems. A matched clause gains the rule's other
entries as alternatives (a one-word entry as a word, a longer one as a phrase), which the
stores compile like any `a OR b`: a plain word stays a plain word for ranking. What was
added is listed in `ParsedQuery.synonyms`, so results can say so.

Refused, with the line of each problem: an empty entry, an entry of stop words only, one
over MAX_ENTRY_CHARS or MAX_ENTRY_WORDS, a rule of more than MAX_GROUP entries, an entry in
two groups (say which), a one-way rule whose target leads back to it (a loop), and more
than MAX_RULES rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from search.errors import FuretError
from search.query import Clause, ParsedQuery, is_plain_word

__all__ = ["MAX_ENTRY_CHARS", "MAX_RULES", "Rule", "SynonymError", "Synonyms", "entry_key",
           "format_rules", "parse_rules"]

MAX_RULES = 20_000
MAX_ENTRY_CHARS = 200
MAX_ENTRY_WORDS = 8
MAX_GROUP = 100  # entries of one rule: each finds all the others
MAX_ALTERNATIVES = 20  # per clause: a group of a hundred names would swamp the query
MAX_ADDED = 40  # per query


class SynonymError(FuretError):
    """Synonym rules Furet refuses: every problem, each with its line."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "; ".join(f"line {line}: {message}" for line, message in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class Rule:
    """One line: equivalent entries, or entries (left) that also find others (right)."""

    left: tuple[str, ...]
    right: tuple[str, ...] = ()  # empty: the left entries are equivalent
    line: int = 0

    @property
    def one_way(self) -> bool:
        return bool(self.right)

    def text(self) -> str:
        """The rule in the synonyms.txt format."""
        if self.one_way:
            return f"{', '.join(self.left)} => {', '.join(self.right)}"
        return ", ".join(self.left)


@lru_cache(maxsize=65536)
def entry_key(text: str) -> tuple[str, ...]:
    """What an entry matches: its stems, as the index analyses it."""
    return tuple(Clause("phrase", text).stems())


def _entries(text: str, line: int, problems: list[tuple[int, str]]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in text.replace("\\,", "\x00").split(","):
        entry = " ".join(raw.replace("\x00", ",").split())
        if not entry:
            problems.append((line, "an empty entry (two commas side by side, or a comma "
                                   "at an end)"))
        elif len(entry) > MAX_ENTRY_CHARS:
            problems.append((line, f"an entry of {len(entry):,} characters; at most "
                                   f"{MAX_ENTRY_CHARS}"))
        elif len(Clause("phrase", entry).terms()) > MAX_ENTRY_WORDS:
            problems.append((line, f"« {entry[:40]} » has more than {MAX_ENTRY_WORDS} words"))
        elif not entry_key(entry):
            problems.append((line, f"« {entry} » holds only stop words, which are not "
                                   f"searched"))
        elif entry_key(entry) not in {entry_key(e) for e in out}:
            out.append(entry)  # a duplicate in one line is said once
    return tuple(out)


def parse_rules(text: str) -> list[Rule]:
    """The rules of a synonyms.txt text (SynonymError listing every bad line)."""
    rules: list[Rule] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.count("=>") > 1:
            problems.append((number, "more than one => in a rule"))
            continue
        if "=>" in line:
            left_text, right_text = line.split("=>")
            if not left_text.strip() or not right_text.strip():
                problems.append((number, "a one-way rule needs entries on both sides of =>"))
                continue
            left = _entries(left_text, number, problems)
            right = _entries(right_text, number, problems)
            if len(left) + len(right) > MAX_GROUP:
                problems.append((number, f"{len(left) + len(right):,} entries in one rule; "
                                         f"at most {MAX_GROUP}"))
            elif left and right:
                rules.append(Rule(left, right, number))
            elif not problems or problems[-1][0] != number:
                problems.append((number, "a one-way rule needs entries on both sides of =>"))
            continue
        entries = _entries(line, number, problems)
        if len(entries) > MAX_GROUP:
            problems.append((number, f"{len(entries):,} entries in one rule; at most "
                                     f"{MAX_GROUP}"))
            continue
        if len(entries) == 1 and (not problems or problems[-1][0] != number):
            problems.append((number, f"« {entries[0]} » alone: a group needs two entries "
                                     f"or more"))
        elif len(entries) > 1:
            rules.append(Rule(entries, (), number))
    if len(rules) > MAX_RULES:
        problems.append((0, f"{len(rules):,} rules; at most {MAX_RULES:,}"))
    if not problems:
        Synonyms(rules)  # raises on groups sharing an entry, and on loops
    if problems:
        raise SynonymError(problems)
    return rules


def format_rules(rules: Iterable[Rule]) -> str:
    """The rules as a synonyms.txt text."""
    return "".join(rule.text() + "\n" for rule in rules)


@dataclass
class Synonyms:
    """Rules ready to expand queries (SynonymError for conflicting rules)."""

    rules: list[Rule]
    version: str = field(init=False)
    _alternatives: dict[tuple[str, ...], list[str]] = field(init=False, repr=False)
    _starts: set[str] = field(init=False, repr=False)  # first stems of longer entries

    def __post_init__(self) -> None:
        self._alternatives = {}
        problems: list[tuple[int, str]] = []
        grouped: dict[tuple[str, ...], int] = {}  # entry -> line of its group
        targets: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for rule in self.rules:
            keys = [entry_key(e) for e in rule.left]
            if not rule.one_way:
                for entry, key in zip(rule.left, keys, strict=True):
                    if key in grouped:
                        problems.append((rule.line, f"« {entry} » is already in the group "
                                                    f"of line {grouped[key]}"))
                    grouped[key] = rule.line
                    self._add(key, [e for e, k in zip(rule.left, keys, strict=True)
                                    if k != key])
                continue
            for key in keys:
                targets.setdefault(key, set()).update(entry_key(e) for e in rule.right)
                self._add(key, [e for e in rule.right if entry_key(e) != key])
        lines = {entry_key(e): rule.line for rule in self.rules if rule.one_way
                 for e in rule.left}
        names = {entry_key(e): e for rule in self.rules for e in rule.left + rule.right}
        for key in targets:
            if loop := _loop(targets, key):
                chain = " => ".join(names[k] for k in loop)
                problems.append((lines[key], f"a loop: {chain}"))
                break
        if problems:
            raise SynonymError(problems)
        self._starts = {k[0] for k in self._alternatives if len(k) > 1}
        digest = hashlib.sha256(format_rules(self.rules).encode()).hexdigest()
        self.version = digest[:16]

    def _add(self, key: tuple[str, ...], entries: list[str]) -> None:
        known = self._alternatives.setdefault(key, [])
        keys = {entry_key(e) for e in known}
        for entry in entries:
            if entry_key(entry) not in keys:
                keys.add(entry_key(entry))
                known.append(entry)

    def __bool__(self) -> bool:
        return bool(self._alternatives)

    def alternatives(self, text: str) -> list[str]:
        """The entries a query's word or phrase `text` also finds."""
        return list(self._alternatives.get(entry_key(text), ()))[:MAX_ALTERNATIVES]

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """`parsed` with each matched clause's alternatives added to its group, and each
        excluded clause's excluded too (`-daesh` leaves out « Daech » as well)."""
        if not self._alternatives:
            return parsed
        parsed = self._exclude(parsed)
        groups: list[tuple[Clause, ...]] = []
        added: list[str] = []
        items = list(parsed.groups)
        n = 0
        while n < len(items):
            run = self._run(items, n) if len(added) < MAX_ADDED else None
            if run is not None:  # plain words side by side matching a longer entry
                length, text, found = run
                groups.append((Clause("phrase", text), *_clauses(found, None)))
                added += found
                n += length
                continue
            group = items[n]
            extra: list[Clause] = []
            for clause in group:
                if clause.kind == "prefix" or clause.field in ("author", "section") \
                        or len(added) >= MAX_ADDED:
                    continue
                found = [e for e in self.alternatives(clause.text)
                         if e not in added][:MAX_ADDED - len(added)]
                extra += _clauses(found, clause.field)
                added += found
            groups.append(group + tuple(extra))
            n += 1
        if not added:
            return parsed
        return replace(parsed, groups=tuple(groups), synonyms=tuple(added))

    def _exclude(self, parsed: ParsedQuery) -> ParsedQuery:
        """`parsed` with the alternatives of its exclusions excluded too (not listed in
        `synonyms`: nothing is added to the results)."""
        excluded = list(parsed.excluded)
        seen = {c.text for c in excluded}
        for clause in parsed.excluded:
            if clause.kind == "prefix" or clause.field in ("author", "section"):
                continue
            found = [e for e in self.alternatives(clause.text) if e not in seen][:MAX_ADDED]
            seen.update(found)
            excluded += _clauses(found, clause.field, negated=True)
        if len(excluded) == len(parsed.excluded):
            return parsed
        return replace(parsed, excluded=tuple(excluded))

    def _run(self, items: list[tuple[Clause, ...]], start: int
             ) -> tuple[int, str, list[str]] | None:
        """The longest run of plain words from `start` matching an entry of 2+ words."""
        first = items[start]
        if len(first) != 1 or not is_plain_word(first[0]) \
                or entry_key(first[0].text)[:1] not in [(s,) for s in self._starts]:
            return None
        words: list[str] = []
        for group in items[start:start + MAX_ENTRY_WORDS]:
            if len(group) != 1 or not is_plain_word(group[0]):
                break
            words.append(group[0].text)
        for length in range(len(words), 1, -1):
            text = " ".join(words[:length])
            if len(entry_key(text)) > 1 and (found := self.alternatives(text)):
                return length, text, found
        return None


def _clauses(entries: list[str], field_name: str | None, *, negated: bool = False
             ) -> list[Clause]:
    return [Clause("phrase" if len(entry_key(e)) > 1 else "word", e, field_name,
                   negated=negated, synonym=True) for e in entries]


def _loop(targets: dict[tuple[str, ...], set[tuple[str, ...]]], start: tuple[str, ...]
          ) -> list[tuple[str, ...]] | None:
    """A chain of one-way rules from `start` back to it, or None."""
    path = [start]
    seen = {start}

    def visit(key: tuple[str, ...]) -> list[tuple[str, ...]] | None:
        for target in sorted(targets.get(key, ())):
            if target == start:
                return path + [start]
            if target not in seen:
                seen.add(target)
                path.append(target)
                if found := visit(target):
                    return found
                path.pop()
        return None

    return visit(start)
