"""Sign in and out, and the language switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from app.errors import AuthenticationFailed
from app.services.identity.auth import authenticate

from .i18n import LANGUAGES
from .session import WebUser, ctx

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        try:
            who = authenticate(ctx(), request.form.get("username", "").strip(), request.form.get("password", ""))
        except AuthenticationFailed:
            error = _("Wrong user name or password.")
        else:
            login_user(WebUser(who))
            return redirect(_safe_next(request.args.get("next")) or url_for("public.home"))
    return render_template("auth/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> Any:
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
