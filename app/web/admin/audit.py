"""The audit trail page (/admin/audit): administrative changes, newest first, filtered by what changed
(object type and id), who, the action and a date range; each entry's before and after as a field diff."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models import AUDIT_OBJECTS
from app.services import audit as audit_service

from ..params import DateOutOfRange, date_arg, page_arg
from ..session import ctx, principal, roles_required
from . import bp

admin_required = roles_required()
PER_PAGE = 50
OBJECT_NAMES = {"process": _l("Process"), "form": _l("Form"), "migration": _l("Migration"), "item": _l("Item"),
                "user": _l("User"), "department": _l("Department"), "group": _l("Group"),
                "calendar": _l("Calendar"), "template": _l("Message template"), "licence": _l("E-licence"),
                "rating": _l("Rating rules"), "window": _l("Service window"),
                "performance": _l("Performance weights"), "rectification": _l("Rectification of bad ratings")}
# Field names as the pages label them; fields other entries carry are shown as recorded.
FIELD_NAMES = {"username": _l("User name"), "full_name": _l("Full name"), "role": _l("Role"),
               "department": _l("Staff department"), "groups": _l("Groups"), "staff_no": _l("Staff number"),
               "phone": _l("Phone"), "email": _l("E-mail"), "active": _l("Active"),
               "must_change_password": _l("must change password"), "password": _l("Password"),
               "members": _l("Members"), "name": _l("Name"), "code": _l("Code"), "published": _l("Published")}


@bp.get("/audit")
@admin_required
def audit() -> Any:
    args = request.args
    errors: dict[str, list[str]] = {}
    dates = {name: _date(args.get(name, ""), name, errors) for name in ("since", "until")}
    if dates["since"] and dates["until"] and dates["since"] > dates["until"]:
        errors["until"] = [_("The end date is before the start date.")]
    object_type = args.get("object_type", "")
    if object_type and object_type not in AUDIT_OBJECTS:
        errors["object_type"] = [_("Choose one of the listed kinds.")]
    flt = audit_service.AuditFilter(object_type or None, args.get("object_id", "").strip()[:128] or None,
                                    args.get("actor", "").strip()[:64] or None,
                                    args.get("action", "").strip()[:64] or None, dates["since"], dates["until"])
    page = None if errors else audit_service.search(ctx(), principal(), flt, page_arg(args), PER_PAGE)
    kept = {k: v for k, v in args.items() if k != "page" and v}
    html = render_template("admin/audit.html", page=page, flt=flt, args=kept, errors=errors, form=args,
                           object_names=OBJECT_NAMES, diff=field_diff)
    return html, 400 if errors else 200


def _date(raw: str, name: str, errors: dict[str, list[str]]) -> Any:
    if not raw.strip():
        return None
    try:
        return date_arg(raw)
    except DateOutOfRange:
        errors[name] = [_("Choose a date between 2000 and 2199.")]
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    return None


def field_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field either side names, values as short readable text."""
    before, after = before or {}, after or {}
    return [(str(FIELD_NAMES.get(key, key)), _text(before.get(key)), _text(after.get(key)))
            for key in dict.fromkeys([*before, *after])]


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)
