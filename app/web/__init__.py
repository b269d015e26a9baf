"""Server-rendered pages (Jinja2, little JavaScript): staff inboxes and task pages, the applicant
portal, printable notices. Sessions with Flask-Login, CSRF on every form, zh_CN/en with Flask-Babel."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.services.identity.auth import principal_by_id

from .i18n import select_locale, translation_directories
from .labels import NOTICE_NAMES, ROLE_NAMES, STAGE_NAMES, STATUS_NAMES, label
from .session import WebUser, ctx

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def init_web(app: Flask) -> None:
    """Register the page blueprints and the session, CSRF and language machinery."""
    from app.api import bp as api_bp

    from . import admin, auth, documents, files, intake, notifications, portal, public, staff, supervision

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translation_directories())
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a clerk's form stays open all morning
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    csrf.init_app(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    for module in (public, auth, staff, portal, documents, files, intake, notifications, admin, supervision):
        app.register_blueprint(module.bp)
    app.context_processor(_template_globals)
    app.register_error_handler(CSRFError, _csrf_error)
    for code in (400, 403, 404, 413):
        app.register_error_handler(code, _error_page)


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    who = principal_by_id(ctx(), int(user_id), stamp)
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


def _csrf_error(error: CSRFError) -> Any:
    return render_template("errors/error.html", code=400, message=error.description), 400


def _error_page(error: Any) -> Any:
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):  # the API answers in its own JSON shape
        from app.api.errors import error_response

        return error_response(code, [{"message": getattr(error, "description", "") or str(error)}])
    return render_template("errors/error.html", code=code, message=getattr(error, "description", "")), code
