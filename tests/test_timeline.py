"""The timeline: matches per year (per month of a chosen year) in the search results of both
stores, and the bar chart drawn from it on the results page."""

from __future__ import annotations

from collections import Counter

import pytest
from bs4 import BeautifulSoup

from search import open_backend
from search.facets import MAX_TIMELINE_YEARS, timeline_values
from search.results import FacetValue
from tests.test_web_pages import args

QUERIES = ["", "etats-unis", "gaza", "climat OR énergie"]


@pytest.fixture(params=["whoosh", "postgresql"])
def samples(request, samples_index):
    if request.param == "whoosh":
        backend = open_backend(index_dir=samples_index)
    else:
        backend = open_backend(backend="postgresql",
                               database_url=request.getfixturevalue("pg_samples"))
    yield backend
    backend.close()


def _years_of_every_match(backend, query: str, **filters) -> Counter:
    found = backend.search(query, per_page=100, filters=filters, facets=False)
    assert found.total <= 100
    return Counter(hit.published[:4] for hit in found.hits if hit.published)


@pytest.mark.parametrize("query", QUERIES)
def test_years_in_order_with_the_empty_ones(samples, query):
    results = samples.search(query)
    years = [int(v.value) for v in results.timeline]
    assert years == list(range(years[0], years[-1] + 1))  # every year, oldest first
    counted = {v.value: v.count for v in results.timeline if v.count}
    assert counted == dict(_years_of_every_match(samples, query))
    assert {v.value: v.count for v in results.facets["year"]} == counted


def test_months_of_the_chosen_year(samples):
    results = samples.search("", filters={"year": 2024})
    assert [v.value for v in results.timeline] == [f"2024-{m:02d}" for m in range(1, 13)]
    months = Counter(hit.published[:7]
                     for hit in samples.search("", per_page=100, filters={"year": 2024},
                                               facets=False).hits)
    assert {v.value: v.count for v in results.timeline if v.count} == dict(months)
    assert sum(v.count for v in results.timeline) == results.total


def test_no_facets_no_timeline(samples):
    assert samples.search("gaza", facets=False).timeline == []
    assert samples.search("zzzqqq").timeline == []


def test_a_very_long_span_keeps_only_the_years_with_articles():
    far = timeline_values({1850: 2, 1851: 1, 1850 + MAX_TIMELINE_YEARS: 4})
    assert far == [FacetValue("1850", 2), FacetValue("1851", 1),
                   FacetValue(str(1850 + MAX_TIMELINE_YEARS), 4)]
    assert len(timeline_values({2000: 1, 2003: 1})) == 4


# -- the chart on the results page


def _chart(client, url: str):
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    return page, page.find("figure", class_="timeline")


def test_the_chart_links_each_year_with_its_count(client):
    page, chart = _chart(client, "/recherche?q=etats-unis")
    assert chart is not None
    results = page.find("ol", class_="hits")
    assert chart.sourceline < results.sourceline  # above the results
    svg = chart.find("svg")
    assert svg["role"] == "list" and svg["aria-labelledby"] == "titre-chronologie"
    assert chart.find(id="titre-chronologie").get_text() == "Résultats par année"
    links = svg.find_all("a")
    assert links
    counts = {}
    for link in links:
        year, count = link["aria-label"].split(" : ")
        counts[year] = int(count.split()[0])
        assert link.find("text", class_="timeline-count").get_text() == str(counts[year])
        assert link.find("text", class_="timeline-period").get_text() == year
        assert args(link["href"]) == {"q": ["etats-unis"], "annee": [year]}
    facet = page.find("section", attrs={"aria-labelledby": "facette-year"})
    assert counts == {a.contents[0].strip(): int(a.find(class_="count").get_text())
                      for a in facet.find_all("a")}  # every dated match is in a bar


def test_a_chosen_year_shows_its_months_and_the_way_back(client):
    page, chart = _chart(client, "/recherche?q=&annee=2024&tri=recents")
    assert chart.find(id="titre-chronologie").get_text() == "Résultats par mois en 2024"
    back = chart.find("a", string="Toutes les années")
    assert args(back["href"]) == {"tri": ["recents"]}
    periods = [t.get_text() for t in chart.find_all("text", class_="timeline-period")]
    assert periods[0] == "janv." and periods[-1] == "déc." and len(periods) == 12
    january = chart.find("a", attrs={"aria-label": "janvier 2024 : 2 résultats"})
    assert args(january["href"]) == {"annee": ["2024"], "mois": ["2024-01"], "tri": ["recents"]}
    _, chosen = _chart(client, january["href"])
    assert chosen.find("a", attrs={"aria-current": "true"})["aria-label"].startswith(
        "janvier 2024 : 2")


def test_no_chart_without_results(client):
    assert _chart(client, "/recherche?q=zzzqqq")[1] is None
