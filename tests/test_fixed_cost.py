"""What every search pays besides its own work, made cheaper without changing an answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search import open_index, search


def test_timed_results_are_replace_with_took_ms(samples_index):
    index = open_index(samples_index)
    found = search(index, "haifa")
    again = found.timed(12.5)
    assert again == replace(found, took_ms=12.5)
    assert again.to_json() == replace(found, took_ms=12.5).to_json()
    assert again.took_ms == 12.5 and found.took_ms != 12.5  # a copy: the cached one unchanged
    assert type(again) is type(found)


def test_hits_made_without_init_are_hits():
    from search.results import Hit

    fields = dict(id="a", url=None, title="T", title_html="T", snippet_html="", published=None,
                  section="s", authors=["x"], score=1.5)
    made = Hit.made(**fields)
    assert made == Hit(**fields) and type(made) is Hit
    assert made.__dict__ == Hit(**fields).__dict__
    with pytest.raises(TypeError):
        Hit.made(**{k: v for k, v in fields.items() if k != "score"})
    with pytest.raises(TypeError):
        Hit.made(**fields, extra=1)
