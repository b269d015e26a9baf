"""Server-rendered pages (Jinja2, little JavaScript): staff inboxes and task pages, the applicant
portal, printable notices. Sessions with Flask-Login, CSRF on every form, zh_CN/en with Flask-Babel."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, render_template, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.errors import TooManyAttempts
from app.services.identity import ratelimit
from app.services.identity.auth import principal_by_id

from .auth import wait_message
from .i18n import select_locale, translation_directories
from .labels import NOTICE_NAMES, ROLE_NAMES, STAGE_NAMES, STATUS_NAMES, label
from .session import WebUser, ctx

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def init_web(app: Flask) -> None:
    """Register the page blueprints and the session, CSRF and language machinery."""
    from app.api import bp as api_bp

    from . import (
        admin,
        archive,
        auth,
        design,
        documents,
        files,
        indicators,
        intake,
        licences,
        notifications,
        portal,
        public,
        ratings,
        results,
        staff,
        statistics,
        supervision,
    )

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_directories())
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a clerk's form stays open all morning
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    csrf.init_app(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    for module in (public, auth, staff, portal, documents, files, intake, notifications, admin, design, supervision,
                   licences, archive, ratings, statistics, indicators, results):
        app.register_blueprint(module.bp)
    app.context_processor(_template_globals)
    app.before_request(_count_registration)
    app.after_request(_registration_outcome)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(TooManyAttempts, _too_many)
    for code in (400, 403, 404, 413):
        app.register_error_handler(code, _error_page)


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    user_id, _, rest = session_id.partition(":")
    stamp, _, version = rest.rpartition(":")
    if not user_id.isdigit() or not version.isdigit():  # sessions from before versions: sign in again
        return None
    who = principal_by_id(ctx(), int(user_id), stamp, int(version))
    return WebUser(who) if who else None


def _template_globals() -> dict[str, Any]:
    who = current_user.principal if current_user.is_authenticated else None
    return {
        "me": who, "locale": select_locale(),
        "role_name": lambda code: label(ROLE_NAMES, code),
        "status_name": lambda code: label(STATUS_NAMES, code),
        "stage_name": lambda code: label(STAGE_NAMES, code),
        "notice_name": lambda code: label(NOTICE_NAMES, code),
    }


def _count_registration() -> None:
    """Registering says whether an ID number is already registered, so refused tries are counted per
    client address: a slot is taken before the (portal's) view runs and handed back if it registered.

    :raises TooManyAttempts: answered by `_too_many`.
    """
    if request.method == "POST" and request.endpoint == "portal.register":
        ratelimit.take(ctx(), ratelimit.REGISTER, _client())
        g.registration_slot = True


def _registration_outcome(response: Response) -> Response:
    if g.pop("registration_slot", False) and response.status_code == 302:  # registered and signed in
        ratelimit.give_back(ctx(), ratelimit.REGISTER, _client())
    return response


def _client() -> str:
    return request.remote_addr or "unknown"


def _too_many(error: TooManyAttempts) -> Any:
    headers = {"Retry-After": str(error.retry_after)}
    if request.path.startswith("/api/"):
        from app.api.errors import error_response

        response, status = error_response(error.status, error.as_errors())
        response.headers.update(headers)
        return response, status
    page = render_template("errors/error.html", code=429, message=wait_message(error))
    return page, 429, headers


def _csrf_error(error: CSRFError) -> Any:
    return render_template("errors/error.html", code=400, message=error.description), 400


def _error_page(error: Any) -> Any:
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):  # the API answers in its own JSON shape
        from app.api.errors import error_response

        return error_response(code, [{"message": getattr(error, "description", "") or str(error)}])
    return render_template("errors/error.html", code=code, message=getattr(error, "description", "")), code
