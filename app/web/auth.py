"""Sign in and out, changing one's password (required after an administrator set it), and the language
switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.errors import AuthenticationFailed, InvalidInput, TooManyAttempts
from app.services.identity.auth import AccountDisabled, authenticate, change_password, end_sessions

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
        except AccountDisabled:
            error = _("This account has been disabled. Please ask an administrator.")
        except AuthenticationFailed:
            error = _("Wrong user name or password.")
        except TooManyAttempts as exc:
            page = render_template("auth/login.html", error=wait_message(exc))
            return page, 429, {"Retry-After": str(exc.retry_after)}
        else:
            login_user(WebUser(who))
            target = _safe_next(request.args.get("next"))
            if who.must_change_password:
                return redirect(url_for("auth.change_password", next=target))
            return redirect(target or url_for("public.home"))
    return render_template("auth/login.html", error=error), 401 if error else 200


# What a user whose password an administrator set may still open: everything else leads to the change.
_OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "auth.language", "static"}


@bp.before_app_request
def _require_password_change() -> Any:
    """A password an administrator chose or generated is known to them: until the user picks their own,
    every page leads to the change-password page. (The API gives such a user no token at all.)"""
    if request.path.startswith("/api/") or request.endpoint in _OPEN_WHILE_CHANGING:
        return None
    if current_user.is_authenticated and principal().must_change_password:
        return redirect(url_for("auth.change_password", next=_safe_next(request.full_path.rstrip("?"))))
    return None


@bp.route("/password", methods=["GET", "POST"], endpoint="change_password")
@login_required
def change_password_page() -> Any:
    """Change one's own password, proving the current one."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        if form.get("new_password", "") != form.get("new_password_again", ""):
            errors["new_password_again"] = [_("The two new passwords differ.")]
        else:
            try:
                who = change_password(ctx(), principal().username, form.get("current_password", ""),
                                      form.get("new_password", ""), client=request.remote_addr or "unknown")
            except AuthenticationFailed:
                errors["current_password"] = [_("This is not your current password.")]
            except InvalidInput as exc:
                errors = {str(d.get("field")): [_new_password_message(d)] for d in exc.details}
            else:
                login_user(WebUser(who))  # the new password stamp: this session goes on, older ones end
                flash(_("Your password has been changed."), "success")
                return redirect(_safe_next(request.args.get("next")) or url_for("public.home"))
    page = render_template("auth/change_password.html", errors=errors, forced=principal().must_change_password)
    return page, 400 if errors else 200


def _new_password_message(detail: dict[str, Any]) -> str:
    if "differ" in str(detail.get("message")):
        return _("The new password must differ from the current one.")
    return _("At least 8 and at most 256 characters.")


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
