"""The editors' store on both stores: a SQLite file beside a Whoosh index, the `furet`
schema in PostgreSQL (shared by every web server of a site, and taking in once what the
console's file held before); logins throttled atomically on both."""

from __future__ import annotations

import json
import threading
from unittest.mock import ANY

import pytest

from search.editorial import EditorialCache, SQLiteEditorial, open_editorial
from tests.stores import clear_editorial
from web import create_app
from web.accounts import MAX_FAILURES_PER_ACCOUNT, AccountError, Throttled, add_user, log_in
from web.admin import main as admin_command
from web.editorial import hide, list_hidden, list_pins, pin
from web.synonymstore import add_rules

PASSWORD = "motdepasse-long"
HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
GAZA = "https://www.exemple-actu.fr/international/2023/11/20/bande-de-gaza-convois-humanitaires-rafah"


@pytest.fixture(params=["whoosh", "postgresql"])
def editorial(request, tmp_path):
    """The editors' store of either kind (PostgreSQL: a fresh database)."""
    if request.param == "whoosh":
        yield SQLiteEditorial(tmp_path / "admin.sqlite")
        return
    url = request.getfixturevalue("pg_url")
    yield open_editorial(backend="postgresql", path=tmp_path / "none.sqlite", database_url=url)
    clear_editorial(url)


def test_both_stores_keep_the_same_choices(editorial):
    assert not editorial.has_users()
    add_user(editorial, "alice", PASSWORD)
    add_rules(editorial, "daesh, daech, état islamique\nPM => Premier ministre\n", user="alice")
    pin(editorial, "Haïfa", [GAZA, HAIFA_TXT], until="2099-01-01", user="alice")
    hide(editorial, [HAIFA_TXT], reason="droit à l’oubli", user="alice")
    choices = EditorialCache(editorial).current()
    assert choices.hidden == {HAIFA_TXT}
    assert choices.pinned("haifa") == [GAZA]  # a hidden article is never pinned
    assert choices.synonyms is not None and len(choices.synonyms.rules) == 2
    assert list_pins(editorial) == [{"query": "Haïfa", "ids": [GAZA, HAIFA_TXT],
                                     "until": "2099-01-01"}]
    assert list_hidden(editorial)[0]["user"] == "alice"
    assert [e["action"] for e in editorial.audit()][:2] == ["article masqué", "épinglage"]
    assert editorial.has_users()


@pytest.mark.parametrize("kind", ["whoosh", "postgresql"])
def test_parallel_logins_get_no_extra_tries(kind, tmp_path, request):
    """A burst of wrong passwords at once: exactly MAX_FAILURES_PER_ACCOUNT are checked,
    every other attempt is throttled (the check and the count are one transaction)."""
    if kind == "whoosh":
        store = SQLiteEditorial(tmp_path / "admin.sqlite")
    else:
        store = open_editorial(backend="postgresql", path=tmp_path / "none.sqlite",
                               database_url=request.getfixturevalue("pg_url"))
    add_user(store, "alice", PASSWORD)
    attempts = 4 * MAX_FAILURES_PER_ACCOUNT
    start = threading.Barrier(attempts)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        start.wait()
        try:
            log_in(store, "alice", f"mauvais-{n:04d}", f"192.0.2.{n}")
        except AccountError:
            outcomes.append("checked")
        except Throttled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("checked") == MAX_FAILURES_PER_ACCOUNT
    assert outcomes.count("throttled") == attempts - MAX_FAILURES_PER_ACCOUNT
    with pytest.raises(Throttled):  # the right password waits too
        log_in(store, "alice", PASSWORD, "198.51.100.1")


def test_every_web_server_sees_the_same_choices(samples_index, pg_samples, tmp_path):
    """Two web servers (each with its own console file setting) on one database: what an
    editor does on one, or with furet-admin, the other obeys without a restart."""
    def server(name: str):
        return create_app({"TESTING": True, "RATELIMIT": "", "QUERY_LOG": "",
                           "ADMIN_DB": str(tmp_path / f"{name}.sqlite"),
                           "INDEX_DIR": str(samples_index), "BACKEND": "postgresql",
                           "DATABASE_URL": pg_samples})

    one, two = server("one"), server("two")
    try:
        def ids(app) -> list[str]:
            app.extensions["furet.admin"].forget_version()
            body = app.test_client().get("/api/v1/search?q=haifa").get_json()
            return [h["id"] for h in body["hits"]]

        assert HAIFA_TXT in ids(two)
        hide(one.extensions["furet.admin"], [HAIFA_TXT], reason="justice", user="alice")
        assert HAIFA_TXT not in ids(two)
        assert two.test_client().get(f"/api/v1/articles/{HAIFA_TXT}").status_code == 404
        from click.testing import CliRunner

        result = CliRunner().invoke(admin_command, [
            "pin", "haifa", GAZA, "--backend", "postgresql", "--database-url", pg_samples,
            "--index-dir", str(samples_index)], env={"FURET_ADMIN_DB": str(tmp_path / "x")})
        assert result.exit_code == 0, result.output
        assert ids(one)[0] == GAZA and ids(two)[0] == GAZA
        assert not list((tmp_path).glob("*.sqlite"))  # nothing was written beside them
    finally:
        clear_editorial(pg_samples)


def test_a_console_file_is_taken_in_once(pg_url, tmp_path):
    """A site that kept its settings in the console's SQLite file before finds them in the
    database, once; the file is left as it was."""
    old = SQLiteEditorial(tmp_path / "admin.sqlite")
    add_user(old, "alice", PASSWORD)
    add_rules(old, "daesh, daech\n", user="alice")
    pin(old, "haifa", [GAZA], user="alice")
    hide(old, [HAIFA_TXT], reason="justice", user="alice")
    store = open_editorial(backend="postgresql", path=old.path, database_url=pg_url)
    choices = EditorialCache(store).current()
    assert choices.hidden == {HAIFA_TXT} and choices.pinned("haifa") == [GAZA]
    assert choices.synonyms is not None
    assert store.has_users()
    log_in(store, "alice", PASSWORD, "192.0.2.1")  # the same account, the same password
    assert store.audit()[0]["action"] == "import du fichier de la console"
    assert len(store.audit()) == len(old.audit()) + 1
    hide(old, [GAZA], reason="later", user="alice")  # written to the old file afterwards:
    again = open_editorial(backend="postgresql", path=old.path, database_url=pg_url)
    assert EditorialCache(again).current().hidden == {HAIFA_TXT}  # not taken in again


@pytest.mark.parametrize("kind", ["whoosh", "postgresql"])
def test_furet_search_obeys_the_editors(kind, runner, samples_index, tmp_path, request):
    from search.cli import main as search_command

    args = ["--index-dir", str(samples_index), "--json"]
    env = {"FURET_ADMIN_DB": str(tmp_path / "admin.sqlite")}
    if kind == "whoosh":
        store = SQLiteEditorial(tmp_path / "admin.sqlite")
    else:
        url = request.getfixturevalue("pg_samples")
        args += ["--backend", "postgresql", "--database-url", url]
        store = open_editorial(backend="postgresql", path=None, database_url=url)
        request.addfinalizer(lambda: clear_editorial(url))

    def search(*extra: str) -> dict:
        result = runner.invoke(search_command, [*extra, *args], env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    raw = search("haifa")
    hide(store, [HAIFA_TXT], reason="justice", user="alice")
    pin(store, "Haïfa", [GAZA], user="alice")
    add_rules(store, "daesh, haifa\n", user="alice")
    found = search("daesh")
    assert found["synonyms"] == ["haifa"] and found["pinned"] == []
    assert HAIFA_TXT not in {h["id"] for h in found["hits"]}
    shown = search("haifa")
    assert shown["pinned"] == [GAZA] and shown["hits"][0]["id"] == GAZA
    assert HAIFA_TXT not in {h["id"] for h in shown["hits"]}
    assert shown["total"] == raw["total"]  # one hidden, one pinned
    assert search("haifa", "--no-editorial") == raw | {"took_ms": ANY}
    text = runner.invoke(search_command, ["haifa", *(a for a in args if a != "--json")],
                         env=env).stdout
    assert "1. Bande de Gaza" in text and "Sélection de la rédaction" in text
    assert search("daesh", "--no-editorial")["total"] == 0
