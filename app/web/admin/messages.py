"""Message templates (/admin/messages): what the applicant reads at each milestone, per event and
language, edited with a preview against a sample case; a template that cannot render is refused."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import InvalidInput
from app.services.messaging import settings, templates

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp

admin_required = roles_required()  # administrators only

EVENT_NAMES = {
    "receipt": _l("Application received"), "correction": _l("Correction notice"),
    "acceptance": _l("Accepted"), "refusal": _l("Not accepted"),
    "special_procedure_start": _l("Special procedure started"), "special_procedure_end": _l("Special procedure ended"),
    "extension": _l("Review period extended"), "decision_granted": _l("Decision: granted"),
    "decision_refused": _l("Decision: refused"), "licence_ready": _l("Licence ready for pickup"),
    "licence_mailed": _l("Licence mailed"), "delay": _l("Case overdue"),
    "rating_invite": _l("Please rate the service"), "rating_reminder": _l("Rating reminder"),
}
LOCALE_NAMES = {"zh": _l("Chinese"), "en": _l("English")}


@bp.get("/messages")
@admin_required
def messages() -> Any:
    views = settings.list_templates(ctx(), principal())
    return render_template("admin/messages.html", views=views, events=EVENT_NAMES, locales=LOCALE_NAMES)


@bp.route("/messages/<event>/<locale>", methods=["GET", "POST"])
@admin_required
def message_edit(event: str, locale: str) -> Any:
    if event not in templates.DEFAULTS or locale not in LOCALE_NAMES:
        abort(404)
    current = next(v for v in settings.list_templates(ctx(), principal()) if (v.event, v.locale) == (event, locale))
    subject, body = current.subject, current.body
    errors: dict[str, list[str]] = {}
    sample = None
    if request.method == "POST":
        subject, body = request.form.get("subject", ""), request.form.get("body", "")
        try:
            if request.form.get("action") == "preview":
                sample = settings.preview(principal(), subject, body)
            else:
                settings.update_template(ctx(), principal(), event, locale, subject, body)
                flash(_("The template was saved; the next message of this kind uses it."), "success")
                return redirect(url_for(".messages"))
        except InvalidInput as error:
            for detail in error.as_errors():
                errors.setdefault(detail.get("field") or "body", []).append(localized(detail["message"]))
    status = 422 if errors else 200
    return render_template("admin/messages_form.html", event=event, locale=locale, subject=subject, body=body,
                           errors=errors, sample=sample, fields=templates.FIELDS, current=current,
                           default=templates.default(event, locale), events=EVENT_NAMES,
                           locales=LOCALE_NAMES), status
