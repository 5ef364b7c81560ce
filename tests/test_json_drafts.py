"""A JSON record's fields: the documented names, and the other names read for them."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import jsonfiles
from indexer.jsonfiles import ALIASES, KNOWN_KEYS

_draft = jsonfiles._draft


def _draft_as_first_written(record: dict) -> dict:
    """Every known key, then every alias in ALIASES's order when its field is None."""
    draft = {key: record[key] for key in KNOWN_KEYS if key in record}
    for alias, key in ALIASES.items():
        if alias in record and draft.get(key) is None:
            draft[key] = record[alias]
    return draft


_KEYS = sorted(KNOWN_KEYS - {"html"}) + list(ALIASES) + ["path", "extra"]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(_KEYS), st.one_of(st.none(), st.sampled_from("abc")),
                       max_size=8))
def test_draft_keeps_the_known_keys_and_the_first_alias(record):
    assert _draft(record, "x") == _draft_as_first_written(record)


def test_the_documented_name_then_aliases_in_their_order():
    for order in itertools.permutations(["summary", "description", "lead"]):
        record = dict.fromkeys(order, None) | {"summary": "s", "description": "d"}
        assert _draft(record, "x")["lead"] == "d"
        assert _draft({**record, "lead": "l"}, "x")["lead"] == "l"
    assert _draft({"content": "c", "text": None}, "x")["body"] == "c"
    assert _draft({"content": "c", "text": "t"}, "x")["body"] == "t"
    assert _draft({"title": "t", "path": "p.md", "text": "b"}, "x") == {"title": "t", "body": "b"}
