"""A reader in a real browser: headless Chromium driven by Playwright, against furet-serve.

Each test starts the real server (gunicorn, samples index) on a free port of 127.0.0.1
and stops it afterwards. Every page must load only from that address and log no console
error. Set SCREENSHOTS_DIR (e.g. docs/screenshots) to keep the screenshots taken.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 780}


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium package "
                    "(scripts/test does it with apt-get when run as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(furet_server, samples_index):
    return furet_server(samples_index, workers=2)


class Visit:
    """A browser context on the site, recording every request and every console error."""

    def __init__(self, browser: Browser, base: str, **options) -> None:
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(locale="fr-FR", **options)
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def goto(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def close(self) -> None:
        """Close, then check nothing left 127.0.0.1 and nothing went wrong."""
        self.context.close()
        outside = [url for url in self.requests
                   if not url.startswith(self.base + "/") and not url.startswith("data:")]
        assert not outside, f"requests outside the site: {outside}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def visit(browser, site):
    visits: list[Visit] = []

    def open_visit(**options) -> Visit:
        visits.append(Visit(browser, site.url, **options))
        return visits[-1]

    yield open_visit
    for v in visits:
        v.close()


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=False)


def search_from_field(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label)
    field.click()
    field.fill("")
    field.press_sequentially(text, delay=20)
    field.press("Enter")


@pytest.mark.slow
def test_search_facet_pages_and_correction(visit, tmp_path):
    v = visit(viewport=DESKTOP)
    page = v.goto("/")
    expect(page.get_by_label("Rechercher dans les articles")).to_be_focused()  # autofocus
    search_from_field(page, "Rechercher dans les articles", "haifa")
    page.wait_for_url(re.compile(r"/recherche\?q=haifa$"))
    expect(page.locator("h1")).to_have_text("Résultats pour « haifa »")
    expect(page.locator("ol.hits > li")).to_have_count(2)
    snippets = page.locator(".hit-snippet").all_inner_texts()
    assert snippets and any("Haïfa" in s for s in snippets)
    assert "<mark>Haïfa</mark>" in page.locator("ol.hits").inner_html()
    expect(page.locator("ol.hits time").first).to_have_text(re.compile(r"\d+ janvier 2024"))

    # A facet narrows the results; its chip removes the filter again.
    page.locator("aside.facets a", has_text="Économie").click()
    page.wait_for_url(re.compile(r"rubrique=%C3%89conomie"))
    expect(page.locator("ol.hits > li")).to_have_count(1)
    chip = page.get_by_role("link", name="Retirer le filtre Rubrique : Économie")
    chip.click()
    expect(page.locator("ol.hits > li")).to_have_count(2)

    # A broader search from the header field, then the second page.
    search_from_field(page, "Rechercher dans les articles", "etats-unis")
    page.wait_for_url(re.compile(r"q=etats-unis"))
    expect(page.locator(".timeline a").first).to_be_visible()  # matches over several years
    screenshot(page, "search-desktop.png", tmp_path)
    page.locator("nav.pagination a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator(".summary")).to_contain_text("page 2 sur")
    expect(page.locator("ol.hits")).to_have_attribute("start", "11")
    expect(page.locator("nav.pagination a[aria-current=page]")).to_have_text("2")

    # A misspelt word: the results of the correction, and a link to it (no question asked
    # about what was corrected already).
    search_from_field(page, "Rechercher dans les articles", "hiafa")
    expect(page.locator(".did-you-mean")).to_contain_text("voici les résultats pour « haïfa »")
    expect(page.locator(".did-you-mean")).not_to_contain_text("Vouliez-vous dire")
    page.locator(".did-you-mean a").click()
    page.wait_for_url(re.compile(r"q=ha%C3%AFfa"))
    expect(page.locator("h1")).to_have_text("Résultats pour « haïfa »")
    expect(page.locator("ol.hits > li")).to_have_count(2)
    expect(page.locator(".did-you-mean")).to_have_count(0)


@pytest.mark.slow
def test_suggestions_while_typing(visit):
    v = visit(viewport=DESKTOP)
    page = v.goto("/")
    field = page.get_by_role("combobox", name="Rechercher dans les articles")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.press_sequentially("hai", delay=60)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_have_text("haïfa")
    field.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", re.compile(r"-0$"))
    field.press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?q=ha%C3%AFfa$"))
    expect(page.locator("ol.hits > li")).to_have_count(2)
    # Escape closes the list; the field keeps what was typed.
    field = page.get_by_role("combobox")
    field.fill("")
    field.press_sequentially("gaz", delay=60)
    expect(page.get_by_role("listbox")).to_be_visible()
    field.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(field).to_have_value("gaz")


@pytest.mark.slow
def test_works_without_javascript(visit):
    v = visit(viewport=DESKTOP, java_script_enabled=False)
    page = v.goto("/")
    field = page.get_by_label("Rechercher dans les articles")
    expect(field).not_to_have_attribute("role", "combobox")  # plain field, no script ran
    field.fill("haifa")
    field.press("Enter")
    page.wait_for_url(re.compile(r"/recherche\?q=haifa$"))
    assert "<mark>Haïfa</mark>" in page.locator("ol.hits").inner_html()
    page.locator("aside.facets a", has_text="2024").click()
    page.wait_for_url(re.compile(r"annee=2024"))
    expect(page.locator("aside.facets h3", has_text="Mois")).to_be_visible()
    page.get_by_role("link", name="plus récents").click()
    page.wait_for_url(re.compile(r"tri=recents"))
    expect(page.locator("ol.hits > li")).to_have_count(2)


@pytest.mark.slow
def test_mobile_360px(visit, tmp_path):
    v = visit(viewport=MOBILE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = v.goto("/")
    for path in ("/", "/recherche?q=haifa", "/recherche?q=etats-unis", "/aide",
                 "/article/txt/haifa-attaque-drones-port.txt"):
        page.goto(v.base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], (path, width)
    page.goto(v.base + "/recherche?q=haifa")
    expect(page.get_by_role("button", name="Rechercher")).to_be_in_viewport()
    screenshot(page, "search-mobile.png", tmp_path)
    page.get_by_role("link", name="Affiner les résultats").click()
    expect(page.locator("#titre-affiner")).to_be_in_viewport()
    search_from_field(page, "Rechercher dans les articles", "gaza")
    page.wait_for_url(re.compile(r"q=gaza"))
    expect(page.locator("ol.hits > li").first).to_be_visible()


def test_keyboard(visit):
    v = visit(viewport=DESKTOP)
    page = v.goto("/recherche?q=haifa")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # visible when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused  # the next stop is inside the results
    # Focus is visible: an outline, or (a bar of the timeline's SVG) its target's border.
    shown = page.evaluate("""() => {
        const el = document.activeElement;
        const target = el.querySelector('.timeline-target');
        return getComputedStyle(el).outlineStyle !== 'none'
            || (target !== null && getComputedStyle(target).stroke !== 'none');
    }""")
    assert shown
