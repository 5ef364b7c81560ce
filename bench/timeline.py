"""The timeline's cost: counting each query's matches per year (per month of a year) from
the facet table's numpy arrays, and drawing the chart the results page shows.

The counting is timed on its own, over the very documents each benchmark query matches
(search/whoosh/facets.py `count_timeline`, as the Whoosh store calls it), once by year and
once by month of the query's busiest year; the drawing is what the results page does
(web/timeline.py: the bars and their links, then the template), in a request context. A
timeline needs dates: `dated()` gives undated records one, spread over 25 years by a hash
of their id (legi-fr has none).
"""

from __future__ import annotations

import time
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.measure import percentile

FIRST_DAY = date(2000, 1, 1)
DAYS = 25 * 365


def dated(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a `published` date: its own, or one drawn from its id."""
    if record.get("published"):
        return record
    day = FIRST_DAY + timedelta(days=zlib.crc32(record["id"].encode()) % DAYS)
    return {**record, "published": day.isoformat()}


def _ms(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value


def measure_timeline(index_dir: Path, queries: list[dict[str, str]]) -> dict[str, float]:
    """p50/p95 of counting (years, months) and drawing, and of the whole, per query."""
    from search import Results, SearchRequest, open_index
    from search.whoosh.compile import compile_query
    from search.whoosh.facets import count_timeline
    from web import create_app
    from web.timeline import results_timeline

    index = open_index(index_dir)
    generation = index.current()
    table = generation.facets
    years_of = table.arrays()["year"]
    app = create_app({"INDEX_DIR": str(index_dir), "QUERY_LOG": "", "RATELIMIT": ""})
    counting, months, drawing, whole = [], [], [], []
    with app.test_request_context("/recherche"):
        template = app.jinja_env.get_template("_timeline.html")
        for query in (q for q in queries if not q.get("repeat")):
            request = SearchRequest(query["text"])
            compiled = compile_query(request.parsed, generation.searcher.reader(),
                                     typed=request.typed)
            if compiled.match is None:
                continue
            docs = generation.evaluator.evaluate(compiled.match).docs
            count_ms, values = _ms(lambda d=docs: count_timeline(table, d))
            found = Results(query=request.query, total=len(docs), total_is_exact=True, page=1,
                            per_page=10, took_ms=0.0, timeline=values)
            draw_ms, _ = _ms(lambda f=found, r=request: template.render(
                timeline=results_timeline(f, r)))
            counting.append(count_ms)
            drawing.append(draw_ms)
            whole.append(count_ms + draw_ms)
            years = years_of[docs]
            if len(years[years > 0]):
                busiest = int(max(values, key=lambda v: v.count).value)
                chosen = docs[years == busiest]
                months.append(_ms(lambda d=chosen, y=busiest: count_timeline(
                    table, d, months_of=y))[0])
    index.close()
    out: dict[str, float] = {}
    for name, values in (("timeline_count", counting), ("timeline_months_count", months),
                         ("timeline_draw", drawing), ("timeline", whole)):
        out[f"{name}_p50_ms"] = percentile(values, 50)
        out[f"{name}_p95_ms"] = percentile(values, 95)
    return out
