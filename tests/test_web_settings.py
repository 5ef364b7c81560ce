"""Settings: defaults → FURET_* environment → explicit overrides, each checked by name."""

from __future__ import annotations

import pytest

from web import create_app
from web.settings import SETTINGS, SettingError, load_settings, settings_table


def test_defaults():
    values = load_settings({}, environ={})
    assert values == {
        "INDEX_DIR": "index", "BACKEND": "whoosh", "DATABASE_URL": "", "SITE_NAME": "Furet",
        "PER_PAGE": 10, "BASE_URL": "",
        "RATELIMIT": "60/minute", "SUGGEST_RATELIMIT": "600/minute",
        "TRUSTED_PROXIES": "127.0.0.1,::1", "QUERY_LOG": None, "QUERY_LOG_ROWS": 100_000,
        "ADMIN_DB": None,
        "RECENCY_HALF_LIFE": 0.0, "CACHE_MAX_AGE": 60, "WORKERS": 2,
        "ALLOWED_HOSTS": "", "SEARCH_TIMEOUT": 10.0,
        "HOST": "127.0.0.1", "PORT": 8000,
    }


def test_environment_then_overrides():
    environ = {"FURET_PER_PAGE": "20", "FURET_SITE_NAME": "123", "FURET_PORT": "9000",
               "FURET_RATELIMIT": "", "FURET_BASE_URL": "https://r.example.org/"}
    values = load_settings({"PORT": 9100, "FURET_WORKERS": "4", "HOST": None}, environ=environ)
    assert values["PER_PAGE"] == 20
    assert values["SITE_NAME"] == "123"  # text stays text
    assert values["RATELIMIT"] == ""
    assert values["BASE_URL"] == "https://r.example.org"
    assert values["PORT"] == 9100  # the override wins over the environment
    assert values["WORKERS"] == 4
    assert values["HOST"] == "127.0.0.1"  # None: not given
    proxies = load_settings(environ={"FURET_TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ::1"})
    assert proxies["TRUSTED_PROXIES"] == "10.0.0.0/8,127.0.0.1/32,::1/128"
    assert load_settings(environ={"FURET_TRUSTED_PROXIES": ""})["TRUSTED_PROXIES"] == ""


@pytest.mark.parametrize("name, value, says", [
    ("FURET_PER_PAGE", "dix", "whole number from 1 to 100"),
    ("FURET_PER_PAGE", "0", "got 0"),
    ("FURET_PORT", "65536", "1 to 65535"),
    ("FURET_RATELIMIT", "beaucoup", "60/minute"),
    ("FURET_BASE_URL", "ftp://exemple.org", "https://"),
    ("FURET_RECENCY_HALF_LIFE", "-3", "days"),
    ("FURET_BACKEND", "solr", "whoosh or postgresql"),
    ("FURET_TRUSTED_PROXIES", "127.0.0.1, nginx", "'nginx'"),
    ("FURET_SUGGEST_RATELIMIT", "vite", "60/minute"),
])
def test_bad_values_name_the_setting(name, value, says):
    with pytest.raises(SettingError) as caught:
        load_settings(environ={name: value})
    assert str(caught.value).startswith(f"{name}: ")
    assert says in str(caught.value)


def test_table():
    table = settings_table()
    names = [name for name, _, _ in table]
    assert len(names) == len(set(names)) == len(SETTINGS)
    assert all(name.startswith("FURET_") for name in names)
    assert all(help_text.endswith(")") or help_text.endswith(".") for _, _, help_text in table)
    for required in ("FURET_INDEX_DIR", "FURET_SITE_NAME", "FURET_PER_PAGE", "FURET_BASE_URL",
                     "FURET_RATELIMIT", "FURET_QUERY_LOG", "FURET_RECENCY_HALF_LIFE",
                     "FURET_WORKERS", "FURET_HOST", "FURET_PORT"):
        assert required in names


def test_app_reads_the_environment(monkeypatch, samples_index):
    monkeypatch.setenv("FURET_INDEX_DIR", str(samples_index))
    monkeypatch.setenv("FURET_SITE_NAME", "Archives")
    monkeypatch.setenv("FURET_PER_PAGE", "3")
    monkeypatch.setenv("FURET_QUERY_LOG", "")
    app = create_app({"TESTING": True, "SITE_NAME": "Mes archives"})
    assert app.config["SITE_NAME"] == "Mes archives"
    client = app.test_client()
    assert client.get("/api/v1/search?q=etats-unis").get_json()["per_page"] == 3
    page = client.get("/recherche?q=etats-unis").get_data(as_text=True)
    assert page.count('class="hit"') == 3
    assert "furet.querylog" not in app.extensions  # "" turns the log off


def test_app_refuses_bad_environment(monkeypatch):
    monkeypatch.setenv("FURET_PER_PAGE", "beaucoup")
    with pytest.raises(SettingError, match="FURET_PER_PAGE"):
        create_app()


def test_query_log_defaults_to_the_index_folder(tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")})
    assert app.extensions["furet.querylog"].path == tmp_path / "index" / "querylog.sqlite"


def test_recency_and_cache_settings(monkeypatch, samples_index):
    seen = {}

    from search.whoosh.backend import WhooshBackend

    real = WhooshBackend.search

    def spy(self, request):
        seen["recency_half_life"] = request.recency_half_life
        return real(self, request)

    monkeypatch.setattr(WhooshBackend, "search", spy)
    app = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                      "RATELIMIT": "", "RECENCY_HALF_LIFE": "30", "CACHE_MAX_AGE": 0})
    response = app.test_client().get("/api/v1/search?q=haifa")
    assert seen["recency_half_life"] == 30.0
    assert response.headers["Cache-Control"] == "no-cache"
