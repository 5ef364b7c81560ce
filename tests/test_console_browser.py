"""An editor in a real browser (headless Chromium, as tests/test_browser.py): a reader's
failed search reaches the console, the editor accepts its fix, adds synonyms, logs out;
clicks on results are counted by the page's script. Set SCREENSHOTS_DIR=docs/screenshots
to keep the screenshots."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from search.editorial import SQLiteEditorial as AdminDB
from tests.test_browser import DESKTOP, browser, screenshot, visit  # noqa: F401  (fixtures)
from web.accounts import add_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "motdepasse-long"
GAZA = "https://www.exemple-actu.fr/international/2023/11/20/bande-de-gaza-convois-humanitaires-rafah"
HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"


@pytest.fixture
def site(furet_server, samples_index, tmp_path):
    add_user(AdminDB(tmp_path / "admin.sqlite"), "alice", PASSWORD)
    return furet_server(samples_index, workers=2)


def _clicks(tmp_path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "querylog.sqlite") as db:
        return db.execute("SELECT query, position FROM clicks").fetchall()


def test_an_editor_fixes_a_failed_search(visit, tmp_path):  # noqa: F811
    reader = visit(viewport=DESKTOP)
    page = reader.goto("/recherche?q=telefone")
    expect(page.locator("h2", has_text="Aucun article")).to_be_visible()
    reader.goto("/recherche?q=gaza")
    page.locator("ol.hits a[data-position]").first.click()
    page.wait_for_load_state()
    deadline = time.monotonic() + 10
    while not _clicks(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _clicks(tmp_path) == [("gaza", 1)]
    for query in ("dinosore", "otan", "telefone", "ukraine", "inflasion", "retraites",
                  "gaza"):  # what a day of readers' searches looks like
        reader.goto(f"/recherche?q={query}")

    editor = visit(viewport=DESKTOP)
    page = editor.goto("/admin")
    assert page.url.endswith("/admin/connexion")
    page.get_by_label("Nom").fill("alice")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Ce que cherchent les lecteurs")).to_be_visible()
    row = page.locator("table.zero-results tr", has_text="telefone")
    expect(row).to_contain_text("téléphone")
    expect(page.locator("table.top_queries")).to_contain_text("gaza")
    expect(page.locator(".day-chart svg rect.chart-bar")).to_have_count(7)
    screenshot(page, "console-analytics.png", tmp_path)
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    page.locator("section", has=page.locator("table.zero-results")).screenshot(
        path=str(folder / "console-fixes.png"))
    row.get_by_role("button", name="comme correction").click()
    expect(page.get_by_role("status")).to_contain_text("Correctif enregistré")

    time.sleep(1.2)  # workers read the rules again at most once a second
    # (another address: the browser may reuse the page it has for FURET_CACHE_MAX_AGE)
    page = reader.goto("/recherche?q=telefone&page=1")
    expect(page.locator("ol.hits li")).not_to_have_count(0)
    expect(page.locator(".synonyms")).to_contain_text("téléphone")

    page = editor.goto("/admin/synonymes")
    page.get_by_label("Règles (une par ligne)").fill("zzport, Haïfa")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.locator("table.synonyms-table")).to_contain_text("zzport, Haïfa")
    time.sleep(1.2)
    page = reader.goto("/recherche?q=zzport")
    expect(page.locator(".synonyms")).to_contain_text("Résultats incluant aussi")
    expect(page.locator("ol.hits li")).not_to_have_count(0)

    page = editor.goto("/admin/articles")
    page.get_by_label("Recherche", exact=True).fill("haifa")
    page.get_by_label("Identifiants des articles (un par ligne, dans l’ordre)").fill(GAZA)
    page.get_by_role("button", name="Mettre en avant").click()
    page.get_by_label("Identifiants des articles à masquer (un par ligne)").fill(HAIFA_TXT)
    page.get_by_label("Motif (pour le journal)").fill("droit à l’oubli")
    page.get_by_role("button", name="Masquer").click()
    expect(page.locator("table.hidden-table")).to_contain_text(HAIFA_TXT)
    time.sleep(1.2)
    page = reader.goto("/recherche?q=haifa&tri=pertinence")
    first = page.locator("ol.hits li").first
    expect(first.locator(".pinned-label")).to_have_text("Sélection de la rédaction")
    expect(first.locator("h2 a")).to_contain_text("Gaza")
    expect(page.locator("ol.hits")).not_to_contain_text("Attaque de drones")
    response = reader.page.goto(reader.base + "/article/" + HAIFA_TXT)
    assert response.status == 404
    reader.errors.clear()  # the browser logs the 404 it was asked to load

    page = editor.goto("/admin/journal")
    expect(page.locator("table")).to_contain_text("correctif accepté (correction)")
    page.get_by_role("button", name="Se déconnecter").click()
    assert page.url.endswith("/admin/connexion")
    editor.goto("/admin")
    assert editor.page.url.endswith("/admin/connexion")
