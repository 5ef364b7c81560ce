"""The editors' synonym rules, kept in the editors' store and applied by every worker.

Rules are stored as their synonyms.txt lines and checked as a whole before any change is
written (search/synonyms.py: loops, an entry in two groups, bad lines are refused with
their line). Each worker keeps the rules it parsed and reads them again only when the
console's version changed (web/editorial.py), so a change reaches every worker within a
second or two, without a restart.
"""

from __future__ import annotations

from search.editorial import EditorialStore, load_rules
from search.synonyms import (
    Rule,
    SynonymError,
    Synonyms,
    entry_key,
    format_rules,
    parse_rules,
)

__all__ = ["accept", "add_rules", "load_rules", "remove_rule", "replace_rules"]


def replace_rules(admin: EditorialStore, rules: list[Rule], *, user: str, action: str) -> None:
    """Store `rules` in place of all (SynonymError if they conflict), audited."""
    text = format_rules(rules)
    parse_rules(text)  # checks the whole set again, with its new line numbers
    with admin.connect() as db:
        before = "".join(row[0] + "\n" for row in
                         db.execute("SELECT rule FROM synonyms ORDER BY line"))
        db.execute("DELETE FROM synonyms")
        db.executemany("INSERT INTO synonyms (line, rule) VALUES (?, ?)",
                       [(n, rule.text()) for n, rule in enumerate(rules, 1)])
        admin.changed(db, user, action, "synonymes", before, text)


def add_rules(admin: EditorialStore, text: str, *, user: str) -> list[Rule]:
    """Parse `text` (synonyms.txt lines) and add its rules to those stored; the new rules.
    SynonymError names the lines of `text` at fault, or the conflict with a stored rule."""
    new = parse_rules(text)
    current = load_rules(admin)
    try:
        Synonyms(current + new)
    except SynonymError as err:
        raise SynonymError([(0, f"conflicts with the rules already there: {message}")
                            for _, message in err.problems]) from None
    replace_rules(admin, current + new, user=user, action="synonymes : ajout")
    return new


def accept(admin: EditorialStore, query: str, target: str, *, kind: str, user: str) -> Rule:
    """Accept a proposed fix: `query` finds `target` too, as a synonym (both ways: joins
    the target's group when it has one) or as a correction (one way); the rule written."""
    rules = load_rules(admin)
    if kind == "correction":
        rule = Rule((query,), (target,))
        rules.append(rule)
    else:
        key = entry_key(target)
        group = next((n for n, r in enumerate(rules) if not r.one_way
                      and key in {entry_key(e) for e in r.left}), None)
        if group is None:
            rule = Rule((query, target))
            rules.append(rule)
        else:
            rule = Rule((*rules[group].left, query))
            rules[group] = rule
    replace_rules(admin, rules, user=user, action=f"correctif accepté ({kind})")
    return rule


def remove_rule(admin: EditorialStore, number: int, *, user: str) -> Rule:
    """Remove the `number`th rule (from 1); IndexError when there is none."""
    rules = load_rules(admin)
    if not 1 <= number <= len(rules):
        raise IndexError(f"no rule number {number}; there are {len(rules)}")
    removed = rules.pop(number - 1)
    replace_rules(admin, rules, user=user, action="synonymes : retrait")
    return removed
