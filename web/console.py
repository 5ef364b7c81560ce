"""The newsroom console under /admin, in French: analytics, proposed fixes, synonyms, audit.

Who may see it (web/accounts.py): the console answers 404 until an editor's account exists
(`furet-admin user add NAME`); then every page but the login form needs a session, and
without one a page leads to the login form and a POST gets 403. Every form carries a CSRF
token (the session's; the login form's is a double-submit cookie), the session cookie is
HttpOnly, SameSite=Strict, limited to /admin, Secure when the request came over HTTPS, and
a new session is made at each login. Nothing here is cached. What readers typed is shown
as text (Jinja escapes it): a query is never markup.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from search.editorial import EditorialStore, load_rules
from search.synonyms import SynonymError, format_rules
from web.accounts import AccountError, Throttled, end_session, log_in, open_session, same_token
from web.analytics import COLUMNS, PERIODS, read_report, table_row
from web.charts import day_chart
from web.editorial import hide, list_hidden, list_pins, pin, unhide, unpin
from web.fixes import ProposalCache
from web.headers import ADMIN_BODY_BYTES
from web.searching import current_index
from web.settings import query_log_path
from web.synonymstore import accept, add_rules, remove_rule

__all__ = ["bp"]

bp = Blueprint("console", __name__, url_prefix="/admin")

SESSION_COOKIE = "furet_admin"
LOGIN_COOKIE = "furet_login"
_proposals = ProposalCache()


def _admin() -> EditorialStore:
    return current_app.extensions["furet.admin"]


@bp.before_request
def _guard() -> Response | None:
    request.max_content_length = ADMIN_BODY_BYTES
    if not _admin().has_users():
        abort(404)  # the console is off until an account exists
    g.editor = open_session(_admin(), request.cookies.get(SESSION_COOKIE))
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def editor_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page for logged-in editors; a POST must carry the session's CSRF token."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.editor is None:
            if request.method == "GET":
                return redirect(url_for("console.login"), 303)
            abort(403)
        if request.method == "POST" and not same_token(request.form.get("csrf"),
                                                       g.editor.csrf):
            abort(403)
        return view(*args, **kwargs)

    return guarded


def _page(template: str, status: int = 200, **values: Any) -> Response:
    html = render_template(template, editor=g.get("editor"), **values)
    return Response(html, status=status, mimetype="text/html")


def _cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/admin", httponly=True,
                        samesite="Strict", secure=request.is_secure)


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Response:
    """The login form, and logging in."""
    error, status = None, 200
    if request.method == "POST":
        if not same_token(request.form.get("jeton"), request.cookies.get(LOGIN_COOKIE, "")):
            abort(403)
        try:
            session = log_in(_admin(), request.form.get("nom", "")[:200],
                             request.form.get("mot_de_passe", ""), request.remote_addr or "")
        except Throttled as err:
            minutes = max(1, round(err.retry_after / 60))
            error, status = (f"Trop de tentatives de connexion : réessayez dans {minutes} "
                             f"minute{'s' if minutes > 1 else ''}."), 429
        except AccountError:
            error, status = "Nom ou mot de passe incorrect.", 401
        else:
            end_session(_admin(), request.cookies.get(SESSION_COOKIE))  # never reused
            response = redirect(url_for("console.analytics"), 303)
            _cookie(response, SESSION_COOKIE, session.token)
            response.delete_cookie(LOGIN_COOKIE, path="/admin")
            return response
    token = secrets.token_urlsafe(32)
    response = _page("admin_login.html", status, error=error, token=token)
    if status == 429:
        response.headers["Retry-After"] = "60"
    _cookie(response, LOGIN_COOKIE, token, max_age=3600)
    return response


@bp.post("/deconnexion")
@editor_only
def logout() -> Response:
    end_session(_admin(), request.cookies.get(SESSION_COOKIE))
    response = redirect(url_for("console.login"), 303)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


def _days() -> int:
    value = request.args.get("jours", "7")
    return int(value) if value in {str(p) for p in PERIODS} else 7


def _report(days: int) -> Any:
    return read_report(query_log_path(current_app.config), days)


@bp.get("")
@editor_only
def analytics() -> Response:
    """What readers searched, over 7, 30 or 90 days; proposed fixes for failed searches."""
    days = _days()
    found = _report(days)
    choices = current_app.extensions["furet.editorial"].current()
    try:
        index = current_index()
        proposals = {q.query: _proposals.get(index, q.query, choices.synonyms, choices.hidden)
                     for q in found.tables["zero_result_queries"]}
    except Exception:  # noqa: BLE001  (no index yet: the tables still show)
        proposals = {}
    tables = {name: [table_row(name, q) for q in rows] for name, rows in found.tables.items()}
    return _page("admin_analytics.html", report=found, tables=tables, days=days,
                 columns=COLUMNS,
                 periods=PERIODS, chart=day_chart(found.per_day), proposals=proposals,
                 message=request.args.get("fait"))


@bp.get("/export.csv")
@editor_only
def export_csv() -> Response:
    """One table of the report as CSV (UTF-8 with a BOM, for spreadsheets)."""
    name = request.args.get("table", "top_queries")
    if name not in COLUMNS:
        abort(404)
    found = _report(_days())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query", *COLUMNS[name]])
    for q in found.tables[name]:
        row = table_row(name, q)
        # A cell starting with = + - @ is a formula to a spreadsheet: made text.
        writer.writerow([_csv_cell(row[c]) for c in ("query", *COLUMNS[name])])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (f"attachment; filename=furet-{name}-"
                                               f"{found.days}j.csv")
    return response


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@bp.post("/correctifs")
@editor_only
def accept_fix() -> Response:
    """Accept a proposed fix as a synonym or a correction rule."""
    query, target = request.form.get("requete", ""), request.form.get("cible", "")
    kind = request.form.get("type", "")
    if kind not in ("synonym", "correction") or not query.strip() or not target.strip():
        abort(400)
    try:
        accept(_admin(), query, target, kind=kind, user=g.editor.user)
    except SynonymError as err:
        return _page("admin_error.html", 400, problems=err.problems)
    return redirect(url_for("console.analytics", jours=_days(), fait="correctif"), 303)


@bp.get("/synonymes")
@editor_only
def synonyms_page() -> Response:
    return _page("admin_synonyms.html", rules=load_rules(_admin()),
                 message=request.args.get("fait"))


@bp.post("/synonymes")
@editor_only
def synonyms_add() -> Response:
    """Add rules typed or pasted (synonyms.txt lines), or sent as a file."""
    text = request.form.get("regles", "")
    upload = request.files.get("fichier")
    if upload and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return _page("admin_error.html", 400,
                         problems=[(0, "le fichier n’est pas du texte UTF-8")])
    try:
        add_rules(_admin(), text, user=g.editor.user)
    except SynonymError as err:
        return _page("admin_error.html", 400, problems=err.problems)
    return redirect(url_for("console.synonyms_page", fait="ajout"), 303)


@bp.post("/synonymes/<int:number>/retrait")
@editor_only
def synonyms_remove(number: int) -> Response:
    try:
        remove_rule(_admin(), number, user=g.editor.user)
    except IndexError:
        abort(404)
    return redirect(url_for("console.synonyms_page", fait="retrait"), 303)


@bp.get("/synonymes.txt")
@editor_only
def synonyms_export() -> Response:
    response = Response(format_rules(load_rules(_admin())), mimetype="text/plain")
    response.headers["Content-Disposition"] = "attachment; filename=synonyms.txt"
    return response


@bp.get("/articles")
@editor_only
def articles_page() -> Response:
    """Pinned articles per query, and hidden articles."""
    return _page("admin_articles.html", pins=list_pins(_admin()), hidden=list_hidden(_admin()),
                 message=request.args.get("fait"))


def _article_ids(text: str) -> list[str]:
    """Ids typed one per line (or separated by spaces), each an article of the index."""
    ids = [i for i in text.split() if i]
    index = current_index()
    for article_id in ids:
        index.get_article(article_id)  # ArticleNotFoundError: a 404 naming it
    return ids


@bp.post("/articles/epingles")
@editor_only
def pin_articles() -> Response:
    query = request.form.get("requete", "")
    try:
        pin(_admin(), query, _article_ids(request.form.get("articles", "")),
            until=request.form.get("jusqu_au") or None, user=g.editor.user)
    except ValueError as err:
        return _page("admin_error.html", 400, problems=[(0, str(err))])
    return redirect(url_for("console.articles_page", fait="epingle"), 303)


@bp.post("/articles/desepingles")
@editor_only
def unpin_articles() -> Response:
    unpin(_admin(), request.form.get("requete", ""), user=g.editor.user)
    return redirect(url_for("console.articles_page", fait="desepingle"), 303)


@bp.post("/articles/masques")
@editor_only
def hide_articles() -> Response:
    hide(_admin(), _article_ids(request.form.get("articles", "")),
         reason=request.form.get("raison", "")[:500], user=g.editor.user)
    return redirect(url_for("console.articles_page", fait="masque"), 303)


@bp.post("/articles/retablis")
@editor_only
def unhide_articles() -> Response:
    unhide(_admin(), request.form.get("articles", "").split(), user=g.editor.user)
    return redirect(url_for("console.articles_page", fait="retabli"), 303)


@bp.app_template_filter("from_json")
def from_json(value: str) -> Any:
    """An audit log's before/after, as text."""
    data = json.loads(value)
    return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)


@bp.get("/journal")
@editor_only
def audit_page() -> Response:
    """Every change: who, when, what, before and after."""
    return _page("admin_audit.html", entries=_admin().audit(200))
