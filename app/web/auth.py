"""Sign in and out, and the language switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.errors import AuthenticationFailed, TooManyAttempts
from app.services.identity.auth import authenticate, end_sessions

from .i18n import LANGUAGES
from .session import WebUser, ctx, principal

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            who = authenticate(ctx(), request.form.get("username", "").strip()[:64],
                               request.form.get("password", ""), client=request.remote_addr or "unknown")
        except AuthenticationFailed:
            error = _("Wrong user name or password.")
        except TooManyAttempts as exc:
            page = render_template("auth/login.html", error=wait_message(exc))
            return page, 429, {"Retry-After": str(exc.retry_after)}
        else:
            login_user(WebUser(who))
            return redirect(_safe_next(request.args.get("next")) or url_for("public.home"))
    return render_template("auth/login.html", error=error), 401 if error else 200


def wait_message(exc: TooManyAttempts) -> str:
    """A 429's page text: what was limited and how long to wait, in whole minutes."""
    minutes = max(1, -(-exc.retry_after // 60))
    return _("Too many attempts. Please wait %(minutes)d minutes and try again.", minutes=minutes)


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated:  # the cookie the browser may still hold stops working too
        end_sessions(ctx(), principal().id)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def language(code: str) -> Any:
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("public.index"))


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after login is a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
