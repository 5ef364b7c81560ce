"""Editors' accounts: hashed passwords, throttled logins, server-side sessions.

- Passwords are hashed with Werkzeug's `generate_password_hash` (scrypt, salted); an unknown
  name is checked against a dummy hash so that both take the same time.
- Failed logins are counted per account and per address (hashed) over THROTTLE_WINDOW
  seconds; past MAX_FAILURES_PER_ACCOUNT or MAX_FAILURES_PER_ADDRESS, logins are refused
  before any password is checked, until the window has passed.
- A session is a random token in a cookie; only its SHA-256 is stored, with the session's
  CSRF token. A login always creates a new session (a token planted before login is never
  promoted), logout deletes it, and removing an account ends its sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from search.editorial import EditorialStore, now_iso

__all__ = ["AccountError", "Session", "Throttled", "add_user", "end_session", "list_users",
           "log_in", "open_session", "remove_user"]

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
THROTTLE_WINDOW = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
SESSION_IDLE = 8 * 3600  # seconds without a request before a session ends
SESSION_LIFE = 24 * 3600
_NAME = re.compile(r"[\w.@-]{1,64}")
_DUMMY_HASH = generate_password_hash("not a password; compared to take the time of one")


class AccountError(ValueError):
    """A name or password Furet refuses (the message says why)."""


class Throttled(Exception):
    """Too many failed logins: `retry_after` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} seconds")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Session:
    """A logged-in editor."""

    user: str
    csrf: str
    token: str = ""  # the cookie's value, given once, at login


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AccountError(f"{name[:80]!r}: a name is 1 to 64 letters, digits, '.', '@', "
                           f"'_' or '-'")
    return name


def add_user(admin: EditorialStore, name: str, password: str, *,
             by: str = "furet-admin") -> None:
    """Create an account, or change its password."""
    check_name(name)
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} "
                           f"characters")
    with admin.connect() as db:
        known = db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
        db.execute("INSERT INTO users (name, password_hash, created) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
                   (name, generate_password_hash(password), now_iso()))
        db.execute('DELETE FROM sessions WHERE "user" = ?', (name,))
        admin.changed(db, by, "compte : mot de passe changé" if known else "compte : ajout",
                      name)


def remove_user(admin: EditorialStore, name: str, *, by: str = "furet-admin") -> bool:
    """Remove an account and end its sessions; False if there was none."""
    if not admin.exists():
        return False
    with admin.connect() as db:
        gone = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0
        db.execute('DELETE FROM sessions WHERE "user" = ?', (name,))
        if gone:
            admin.changed(db, by, "compte : retrait", name)
    return gone


def list_users(admin: EditorialStore) -> list[tuple[str, str]]:
    """(name, created) of every account."""
    if not admin.exists():
        return []
    with admin.connect() as db:
        return [(r[0], r[1]) for r in db.execute("SELECT name, created FROM users ORDER BY name")]


def _address_key(address: str) -> str:
    return hashlib.sha256(b"furet-login:" + address.encode()).hexdigest()[:32]


def log_in(admin: EditorialStore, name: str, password: str, address: str) -> Session:
    """A new session for a right name and password (AccountError if wrong, Throttled when
    the account or the address failed too often).

    The throttle is checked and this attempt counted as a failure in one transaction (the
    store's write lock), before the password is: parallel attempts each see the others'
    failures, so a burst gets no extra tries. A right password then takes its count back.
    """
    now = time.time()
    keys = (("account", name.casefold()[:64]), ("address", _address_key(address)))
    with admin.connect() as db:
        db.execute("DELETE FROM login_failures WHERE at < ?", (now - THROTTLE_WINDOW,))
        for (kind, key), most in zip(keys, (MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS),
                                     strict=True):
            count, first = db.execute("SELECT count(*), min(at) FROM login_failures WHERE "
                                      "kind = ? AND key = ?", (kind, key)).fetchone()
            if count >= most:
                raise Throttled(max(1, int(first + THROTTLE_WINDOW - now)))
        db.executemany("INSERT INTO login_failures (kind, key, at) VALUES (?, ?, ?)",
                       [(kind, key, now) for kind, key in keys])
        row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    right = check_password_hash(row[0] if row else _DUMMY_HASH, password[:MAX_PASSWORD_CHARS])
    if not (row and right):
        raise AccountError("wrong name or password")
    with admin.connect() as db:
        db.execute("DELETE FROM login_failures WHERE kind = 'account' AND key = ?",
                   (keys[0][1],))
        db.execute("DELETE FROM login_failures WHERE kind = 'address' AND key = ? AND at = ?",
                   (keys[1][1], now))  # this attempt's count only: it did not fail
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        db.execute("DELETE FROM sessions WHERE seen < ? OR created < ?",
                   (now - SESSION_IDLE, now - SESSION_LIFE))
        db.execute('INSERT INTO sessions (id_hash, "user", csrf, created, seen) '
                   "VALUES (?, ?, ?, ?, ?)", (_hash(token), name, csrf, now, now))
    return Session(name, csrf, token)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(admin: EditorialStore, token: str | None) -> Session | None:
    """The session of a cookie's token, if it is current (its last use is noted)."""
    if not token or len(token) > 100 or not admin.exists():
        return None
    now = time.time()
    with admin.connect() as db:
        row = db.execute('SELECT "user", csrf, created, seen FROM sessions WHERE id_hash = ?',
                         (_hash(token),)).fetchone()
        if row is None or row["seen"] < now - SESSION_IDLE \
                or row["created"] < now - SESSION_LIFE:
            return None
        db.execute("UPDATE sessions SET seen = ? WHERE id_hash = ?", (now, _hash(token)))
    return Session(row["user"], row["csrf"])


def end_session(admin: EditorialStore, token: str | None) -> None:
    """Log out: the session is deleted."""
    if token and admin.exists():
        with admin.connect() as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(token),))


def same_token(given: str | None, expected: str) -> bool:
    """Whether a form's CSRF token is the session's (compared in constant time)."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
