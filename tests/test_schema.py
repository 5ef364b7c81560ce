"""The schema's weighted field: the fast indexing path equals Whoosh's token pipeline."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import RamStorage

from search.analysis import FrenchFilter
from search.schema import PART_GAP, Parts, WeightedText, build_schema

texts = st.text(alphabet=st.one_of(st.sampled_from(list("aàbcdeéèfgilmnoœprstuy’'- .,«»\n")),
                                   st.characters(blacklist_categories=("Cs",))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(texts, st.sampled_from([1.0, 1.5, 3.0])), max_size=3))
def test_fast_path_equals_token_pipeline(parts):
    schema = build_schema()
    for name in ("text", "exact", "title", "title_exact"):
        field = schema[name]
        assert isinstance(field, WeightedText)
        value = Parts(parts)
        french = field.analyzer.items[1]
        assert isinstance(french, FrenchFilter)
        fast = sorted(field._fast_index(value.words(), french))
        slow = sorted(field._token_index(value))
        assert fast == slow, name


def test_parts_weigh_and_are_spaced():
    schema = build_schema()
    ix = RamStorage().create_index(schema)
    with ix.writer() as w:
        parts = Parts([("Haïfa attaquée", 3.0), ("La ville de Haïfa", 1.0)])
        w.add_document(id="a", text=parts, exact=parts)
    with ix.searcher() as s:
        m = s.reader().postings("text", "haif")
        assert m.weight() == 4.0  # 3 (title) + 1 (body)
        m = s.reader().postings("exact", "haifa")
        assert m.value_as("positions") == [0, 2 + PART_GAP + 3]  # la ville de haifa


def test_schema_pickles():
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert isinstance(schema["text"], WeightedText)
    assert Parts([("a", 1)]).items == pickle.loads(pickle.dumps(Parts([("a", 1)]))).items
