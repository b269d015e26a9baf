"""Registering as an applicant under a real name (resident ID number or unified social credit code), and
the account page where an applicant chooses how milestone messages reach them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from app.errors import DuplicateName, InvalidForm, InvalidInput
from app.services.identity.identity import Registration, register_applicant
from app.services.messaging import settings as message_settings

from ..session import WebUser, applicant_required, ctx, principal
from . import bp
from .common import detail_errors, split_errors


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = request.form
    kind = form.get("kind", request.args.get("kind", "person"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        company = kind == "company"
        registration = Registration(
            kind=kind, username=form.get("username", "").strip(), password=form.get("password", ""),
            name=form.get("company_name" if company else "name", ""), id_number=form.get(
                "credit_code" if company else "id_number", ""),
            phone=form.get("phone", ""), contact_name=form.get("contact_name", "") if company else "")
        try:
            who = register_applicant(ctx(), registration)
        except (InvalidInput, DuplicateName) as exc:
            errors = _page_fields(detail_errors(exc), company)
        else:
            login_user(WebUser(who))
            flash(_("Welcome, %(name)s. Your account is ready.", name=who.full_name), "success")
            return redirect(url_for("portal.my_cases"))
    status = 422 if errors else 200
    return render_template("portal/register.html", kind=kind if kind in ("person", "company") else "person",
                           errors=errors), status


def _page_fields(found: dict[str, list[str]], company: bool) -> dict[str, list[str]]:
    """The service names the identity fields generically; the page has one input per kind."""
    rename = {"name": "company_name", "id_number": "credit_code"} if company else {}
    return {rename.get(k, k): v for k, v in split_errors(found).form.items()}


@bp.route("/account", methods=["GET", "POST"])
@applicant_required
def account() -> Any:
    """SMS and e-mail on or off, and the messages' language; the in-app list always gets every message, so
    it has no switch."""
    if request.method == "POST":
        try:
            message_settings.set_preferences(ctx(), principal(), sms=request.form.get("sms") == "on",
                                             email=request.form.get("email") == "on",
                                             locale=request.form.get("locale", "zh")[:8])
        except InvalidForm as exc:
            prefs = message_settings.preferences(ctx(), principal())
            return render_template("portal/account.html", prefs=prefs, errors=exc.field_errors), 422
        flash(_("Your message settings were saved."), "success")
        return redirect(url_for("portal.account"))
    return render_template("portal/account.html", prefs=message_settings.preferences(ctx(), principal()),
                           errors={})
