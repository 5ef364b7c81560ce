"""Proposed fixes for failed searches, synonyms on the site and the API, furet-admin's
synonyms and user commands."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from search import SearchRequest
from search.editorial import EditorialCache, load_rules
from search.editorial import SQLiteEditorial as AdminDB
from web.accounts import AccountError, add_user, list_users
from web.admin import main as admin
from web.fixes import propose, variants
from web.synonymstore import accept, add_rules


@pytest.fixture
def index(samples_backend):
    """The samples on each store."""
    return samples_backend


def test_variants_are_french_spellings():
    assert {"daech", "dash", "daeshe"} <= variants("daesh")
    assert "astrophysicienne" in variants("astrofysicienne")
    assert "kalachnikov" in variants("kalashnikov")


@pytest.mark.parametrize("query, kinds, text", [
    # two edits away: Whoosh's corrections miss it, the near forms find it
    ("telefone", ("near", "correction"), "téléphone"),
    ("astrofysicienne", ("near", "correction"), "astrophysicienne"),
    ("shercheur", ("correction",), "chercheur"),
    ("haifa", ("found",), "haifa"),
    ("zzqx wwvk", None, None),
])
def test_proposals(index, query, kinds, text):
    fix = propose(index, query)
    if kinds is None:
        assert fix is None
        return
    assert fix.kind in kinds and fix.text == text and fix.hits > 0
    assert index.search(fix.text).total == fix.hits


def test_proposals_count_no_hidden_article(index):
    """A fix whose only article is hidden is no fix; its count leaves hidden ones out."""
    found = index.search("astrophysicienne")
    ids = frozenset(h.id for h in found.hits)
    assert propose(index, "astrofysicienne", hidden=ids) is None
    fix = propose(index, "telefone", hidden=frozenset(h.id for h in
                                                       index.search("téléphone").hits[:1]))
    assert fix is not None and fix.hits == index.search("téléphone").total - 1


def test_accepting_a_proposal_makes_the_search_find(tmp_path, index):
    db = AdminDB(tmp_path / "admin.sqlite")
    cache = EditorialCache(db)
    assert index.search("telefone", correct_spelling=False).total == 0
    accept(db, "telefone", "téléphone", kind="correction", user="alice")
    found = index.search(SearchRequest("telefone", synonyms=cache.current().synonyms))
    assert found.total == propose(index, "téléphone").hits and found.synonyms == ["téléphone"]
    assert propose(index, "telefone", cache.current().synonyms).kind == "found"
    accept(db, "daesh", "Daech", kind="synonym", user="alice")
    assert [r.text() for r in load_rules(db)] == ["telefone => téléphone", "daesh, Daech"]
    accept(db, "dae'sh", "daech", kind="synonym", user="alice")  # joins the group
    assert load_rules(db)[1].text() == "daesh, Daech, dae'sh"
    audit = db.audit()
    assert audit[0]["user"] == "alice" and "synonym" in audit[0]["action"]
    assert "telefone => téléphone" in audit[0]["before"]


def test_synonyms_reach_the_site_and_the_api_without_restart(app, client):
    db = app.extensions["furet.admin"]
    assert client.get("/api/v1/search?q=zzport").get_json()["synonyms"] == []
    add_rules(db, "zzport, Haïfa", user="alice")
    db._version = None  # what a second's wait does
    body = client.get("/api/v1/search?q=zzport").get_json()
    assert body["total"] >= 2 and body["synonyms"] == ["Haïfa"] and body["query"] == "zzport"
    soup = BeautifulSoup(client.get("/recherche?q=zzport").text, "html.parser")
    notice = soup.select_one(".synonyms").get_text(" ", strip=True)
    assert notice.startswith("Résultats incluant aussi") and "Haïfa" in notice


def test_synonym_entries_are_escaped_on_the_page(app, client):
    db = app.extensions["furet.admin"]
    add_rules(db, "zzport, <script>alert(1)</script>haifa", user="alice")
    db._version = None
    html = client.get("/recherche?q=zzport").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_synonyms_commands(runner, tmp_path):
    env = {"FURET_ADMIN_DB": str(tmp_path / "admin.sqlite"), "FURET_INDEX_DIR": str(tmp_path)}
    rules = tmp_path / "synonyms.txt"
    rules.write_text("# newsroom\nDaech, État islamique, EI\nPM => Premier ministre\n",
                     encoding="utf-8")
    result = runner.invoke(admin, ["synonyms", "import", str(rules)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["added: Daech, État islamique, EI",
                                          "added: PM => Premier ministre"]
    exported = runner.invoke(admin, ["synonyms", "export"], env=env)
    assert exported.output == "Daech, État islamique, EI\nPM => Premier ministre\n"
    bad = tmp_path / "bad.txt"
    bad.write_text("ok, fine\nalpha, , beta\nEI, ISIS\n", encoding="utf-8")
    result = runner.invoke(admin, ["synonyms", "import", str(bad)], env=env)
    assert result.exit_code == 1
    assert f"{bad}:2: an empty entry" in result.output
    result = runner.invoke(admin, ["synonyms", "import", "-"], input="ei, isis\n", env=env)
    assert result.exit_code == 1 and "already in the group" in result.output
    assert runner.invoke(admin, ["synonyms", "list"], env=env).output == (
        "1\tDaech, État islamique, EI\n2\tPM => Premier ministre\n")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("État, Etat-major\n".encode("latin-1"))
    result = runner.invoke(admin, ["synonyms", "import", str(latin1)], env=env)
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_user_commands(runner, tmp_path):
    env = {"FURET_ADMIN_DB": str(tmp_path / "admin.sqlite")}
    result = runner.invoke(admin, ["user", "add", "alice"],
                           input="motdepasse-long\nmotdepasse-long\n", env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(admin, ["user", "add", "bob", "--password-stdin"],
                           input="court\n", env=env)
    assert result.exit_code == 2 and "10 to 1024 characters" in result.output
    result = runner.invoke(admin, ["user", "add", "<b>", "--password-stdin"],
                           input="motdepasse-long\n", env=env)
    assert result.exit_code == 2
    assert runner.invoke(admin, ["user", "list"], env=env).output.startswith("alice\t")
    assert runner.invoke(admin, ["user", "remove", "bob"], env=env).exit_code == 2
    assert runner.invoke(admin, ["user", "remove", "alice"], env=env).exit_code == 0
    assert runner.invoke(admin, ["user", "list"], env=env).output == ""


def test_passwords_are_stored_hashed(tmp_path):
    db = AdminDB(tmp_path / "admin.sqlite")
    add_user(db, "alice", "motdepasse-long")
    assert b"motdepasse-long" not in (tmp_path / "admin.sqlite").read_bytes()
    assert list_users(db)[0][0] == "alice"
    with pytest.raises(AccountError):
        add_user(db, "alice", "x")


def test_report_proposes_fixes(runner, tmp_path, samples_index):
    from web.querylog import QueryLog

    log = QueryLog(tmp_path / "q.sqlite")
    for query in ("telefone", "telefone", "zzqx"):
        log.record(source="html", query=query, filters={}, sort="relevance", page=1, hits=0,
                   took_ms=2.0, corrected=False)
    env = {"FURET_QUERY_LOG": str(tmp_path / "q.sqlite"), "FURET_INDEX_DIR": str(samples_index),
           "FURET_ADMIN_DB": str(tmp_path / "admin.sqlite")}
    result = runner.invoke(admin, ["report", "--json"], env=env)
    assert result.exit_code == 0, result.output
    zero = {z["query"]: z for z in json.loads(result.stdout)["zero_result_queries"]}
    assert zero["telefone"]["count"] == 2
    assert zero["telefone"]["proposal"]["text"] == "téléphone"
    assert zero["zzqx"]["proposal"] is None
    text = runner.invoke(admin, ["report"], env=env).output
    assert "téléphone (" in text
