"""`furet-search`: readable output, JSON, options, exit codes."""

from __future__ import annotations

import json

from search.cli import main


def run(runner, index_dir, *args):
    return runner.invoke(main, [*args, "--index-dir", str(index_dir)])


def test_readable_results(runner, samples_index):
    result = run(runner, samples_index, "haifa")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 résultats pour « haifa »")
    assert "Haïfa" in result.stdout and "<mark>" not in result.stdout
    assert "janvier 2024" in result.stdout


def test_json_has_the_documented_shape(runner, samples_index):
    result = run(runner, samples_index, "haifa", "--json")
    data = json.loads(result.stdout)
    assert set(data) == {"query", "total", "total_is_exact", "page", "per_page", "took_ms",
                         "hits", "facets", "timeline", "suggestion", "corrected", "synonyms",
                         "pinned"}
    assert set(data["hits"][0]) == {"id", "url", "title", "title_html", "snippet_html",
                                    "published", "section", "authors", "score"}
    assert "<mark>Haïfa</mark>" in data["hits"][0]["snippet_html"] + \
        data["hits"][1]["snippet_html"]


def test_filters_and_sort(runner, samples_index):
    result = run(runner, samples_index, "etats-unis", "--section", "Politique", "--json",
                 "--sort", "newest", "--since", "2024", "--per-page", "100")
    data = json.loads(result.stdout)
    assert data["total"] > 0
    assert all(h["section"] == "Politique" and h["published"] >= "2024" for h in data["hits"])
    dates = [h["published"] for h in data["hits"]]
    assert dates == sorted(dates, reverse=True)
    result = run(runner, samples_index, "", "--author", "Jean-Luc Moreau", "--json",
                 "--per-page", "100", "--until", "2023")
    assert all("Jean-Luc Moreau" in h["authors"] and h["published"] < "2024"
               for h in json.loads(result.stdout)["hits"])


def test_no_results_is_not_an_error(runner, samples_index):
    result = run(runner, samples_index, "zzzzqqq")
    assert result.exit_code == 0
    assert result.stdout.startswith("0 résultat pour")


def test_correction_is_shown(runner, samples_index):
    result = run(runner, samples_index, "hiafa")
    assert "Résultats pour « haïfa »" in result.stdout


def test_exit_codes(runner, samples_index, tmp_path):
    assert run(runner, samples_index, "haifa", "--sort", "date").exit_code == 2
    assert run(runner, samples_index, "haifa", "--per-page", "500").exit_code == 2
    bad = run(runner, samples_index, "haifa", "--since", "hier")
    assert bad.exit_code == 2 and "since: expected a date like 2024-01-15" in bad.stderr
    assert run(runner, samples_index, "x" * 1001).exit_code == 2
    missing = run(runner, tmp_path / "none", "haifa")
    assert missing.exit_code == 1
    assert "holds no index yet; build one with: furet-index build" in missing.stderr


def test_no_index_names_the_folder_and_how_to_name_another(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # run from a folder holding no index/
    result = runner.invoke(main, ["haifa"], env={"FURET_INDEX_DIR": None})
    assert result.exit_code == 1
    assert f"(looked in {tmp_path / 'index'};" in result.stderr
    assert "--index-dir DIR or FURET_INDEX_DIR=DIR" in result.stderr
    assert "holds no index yet; build one with: furet-index build" in result.stderr
