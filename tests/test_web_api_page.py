"""The footer's "API JSON" leads to a page that explains the API to people, in French, and
stays in step with the OpenAPI document."""

from __future__ import annotations

from bs4 import BeautifulSoup

from web.openapi import ERROR_CODES, openapi_document


def test_the_footer_links_a_page_for_people(client):
    home = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    link = home.find("footer").find("a", string="API JSON")
    assert link["href"] == "/aide/api"
    response = client.get(link["href"])
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.html["lang"] == "fr" and page.h1.get_text() == "L’API JSON"
    text = page.get_text(" ")
    for path in openapi_document(server="http://x/api/v1")["paths"]:
        shown = "/api/v1" + path.replace("{id}", "<id>")
        assert shown in text, shown
    for code in ERROR_CODES:
        assert code in text, code
    assert page.find("a", href="/api/v1/openapi.json")
    for example in page.select("td a[href^='/api/']"):
        assert client.get(example["href"]).status_code == 200, example["href"]
