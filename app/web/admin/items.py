"""The item catalogue pages (事项目录, /admin/items): the list with filters, creating and editing an item
as a draft revision, publishing it (by a second administrator, or an author with the publish right),
activating and deactivating, and the revision history with the fields each revision changed."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import Conflict, DomainError, Forbidden, InvalidInput, ItemNotFound, NotFound
from app.models import CASE_KINDS, LIMIT_UNITS, TYPE_CODES
from app.services.admin import item_catalogue as catalogue

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp
from .item_form import blank, field_errors, parse

admin_required = roles_required()  # administrators only (roles_required always admits "admin")
STATES = {"draft": _l("Draft"), "published": _l("Published"), "superseded": _l("Superseded")}
FIELD_LABELS = {
    "name": _l("Item name"), "type_code": _l("Item type"), "department": _l("Lead department"),
    "legal_basis": _l("Legal basis"), "case_kind": _l("Kind of case"), "statutory_limit": _l("Statutory limit"),
    "promised_limit": _l("Promised limit"), "limit_unit": _l("Limit unit"), "joint": _l("Joint handling"),
    "departments": _l("Co-approving departments"), "materials": _l("Materials"), "fees": _l("Fees"),
    "process_key": _l("Process"), "form_key": _l("Application form"), "case_prefix": _l("Case number prefix"),
    "yellow_ratio": _l("Yellow at share of the limit"), "yellow_days": _l("Yellow at working days left"),
    "implementing_agency": _l("Implementing agency"), "accepting_agency": _l("Accepting agency"),
    "acceptance_conditions": _l("Acceptance conditions"), "result_name": _l("Result"),
    "result_sample": _l("Result sample (description)"), "result_sample_file": _l("Result sample file"),
    "office_hours": _l("Office hours"), "location": _l("Address"), "phone": _l("Telephone"),
    "complaint_channel": _l("Supervision and complaints"),
    "pickup_place": _l("Where licences are collected"), "pickup_hours": _l("When licences are collected"),
}
ACTIVE_FILTER = {"1": True, "0": False}


@bp.get("/items")
@admin_required
def items() -> Any:
    args = request.args
    flt = catalogue.ItemFilter(department=args.get("department") or None,
                               type_code=args.get("type_code") if args.get("type_code") in TYPE_CODES else None,
                               case_kind=args.get("case_kind") if args.get("case_kind") in CASE_KINDS else None,
                               active=ACTIVE_FILTER.get(args.get("active", "")), query=args.get("q", "")[:100])
    page = catalogue.list_items(ctx(), principal(), flt, page=args.get("page", 1, type=int) or 1)
    kept = {k: v for k, v in (("department", flt.department), ("type_code", flt.type_code), ("case_kind", flt.case_kind),
                              ("active", args.get("active") if flt.active is not None else None),
                              ("q", flt.query)) if v}
    return render_template("admin/items.html", page=page, flt=flt, args=kept, choices=catalogue.choices(ctx()),
                           case_kinds=CASE_KINDS, active=args.get("active", ""))


@bp.get("/items/new")
@admin_required
def new_item() -> Any:
    return _form_page(None, blank(), {})


@bp.post("/items/new")
@admin_required
def create_item() -> Any:
    data, errors = parse(request.form, request.files, principal(), None)
    if not errors:
        try:
            catalogue.create_item(ctx(), principal(), data)
        except InvalidInput as error:
            errors = field_errors(error)
    if errors:
        return _form_page(None, data, errors), 400
    flash(_("Item %(code)s saved as draft revision 1. It enters the guide once the revision is published.",
            code=data["code"]), "success")
    return redirect(url_for(".edit_item", code=data["code"]))


@bp.get("/items/<code>")
@admin_required
def edit_item(code: str) -> Any:
    detail = _detail(code)
    return _form_page(detail, detail["values"], {})


@bp.post("/items/<code>")
@admin_required
def save_item(code: str) -> Any:
    detail = _detail(code)
    data, errors = parse(request.form, request.files, principal(), code)
    if not errors:
        try:
            saved = catalogue.save_draft(ctx(), principal(), code, data)
        except InvalidInput as error:
            errors = field_errors(error)
    if errors:
        return _form_page(detail, data, errors), 400
    flash(_("Saved as draft revision %(n)s. The guide keeps showing the published revision until it is "
            "published.", n=saved["number"]), "success")
    return redirect(url_for(".edit_item", code=code))


@bp.post("/items/<code>/revisions/<id:number>/publish")
@admin_required
def publish_item(code: str, number: int) -> Any:
    try:
        catalogue.publish(ctx(), principal(), code, number)
    except ItemNotFound:
        abort(404)
    except InvalidInput as error:
        flash(_("Revision %(n)s was not published: %(reasons)s", n=number, reasons=_reasons(error)), "error")
        return redirect(url_for(".edit_item", code=code))
    except (Forbidden, Conflict, NotFound) as error:
        flash(_reasons(error), "error")
        return redirect(url_for(".edit_item", code=code))
    flash(_("Revision %(n)s is published: the guide and new applications use it; running cases keep theirs.",
            n=number), "success")
    return redirect(url_for(".edit_item", code=code))


@bp.post("/items/<code>/active")
@admin_required
def set_active(code: str) -> Any:
    active = request.form.get("active") == "1"
    try:
        catalogue.set_active(ctx(), principal(), code, active)
    except ItemNotFound:
        abort(404)
    except Conflict as error:
        flash(_reasons(error), "error")
        return redirect(url_for(".edit_item", code=code))
    flash(_("The item is active: it is in the guide and takes applications.") if active else
          _("The item is inactive: it left the guide; running cases go on."), "success")
    return redirect(url_for(".edit_item", code=code))


@bp.get("/items/<code>/history")
@admin_required
def item_history(code: str) -> Any:
    try:
        revisions = catalogue.history(ctx(), principal(), code)
    except ItemNotFound:
        abort(404)
    return render_template("admin/items_history.html", code=code, revisions=revisions, states=STATES,
                           labels=FIELD_LABELS, show=_shown)


@bp.get("/items/<code>/files/<sha256>")
@admin_required
def item_file(code: str, sha256: str) -> Any:
    """Any revision's file, drafts included, for administrators checking what they upload."""
    try:
        ref, path = catalogue.admin_file(ctx(), principal(), code, sha256)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype=ref["content_type"], as_attachment=True, download_name=ref["filename"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _detail(code: str) -> dict[str, Any]:
    try:
        return catalogue.item_detail(ctx(), principal(), code)
    except ItemNotFound:
        abort(404)


def _form_page(detail: dict[str, Any] | None, values: dict[str, Any], errors: dict[str, str]) -> str:
    materials = [m for m in values.get("materials") or [] if isinstance(m, dict)]
    choices = catalogue.choices(ctx())
    keys = list(dict.fromkeys([*choices["process_keys"], *([values["process_key"]] if values.get("process_key") else [])]))
    return render_template("admin/items_form.html", detail=detail, values=values, errors=errors,
                           materials=materials, choices=choices, case_kinds=CASE_KINDS, limit_units=LIMIT_UNITS,
                           type_options=[(c, f"{c} {n}") for c, n in TYPE_CODES.items()],
                           process_options=[(k, k) for k in keys], states=STATES, labels=FIELD_LABELS)


def _shown(field: str, value: Any) -> str:
    """A revision's value as the history shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field == "materials":
        return "；".join(_material_text(m) for m in value if isinstance(m, dict))
    if isinstance(value, dict):
        return str(value.get("filename") or "")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _material_text(m: dict[str, Any]) -> str:
    files = [f"{label}: {m[k]['filename']}" for k, label in (("template", _("template")), ("sample", _("sample")))
             if isinstance(m.get(k), dict)]
    required = _("required") if m.get("required") else _("if applicable")
    licence = [_("licence: %(type)s", type=m["licence_type"])] if m.get("licence_type") else []
    return f"{m.get('name')} ({', '.join([required, *licence, *files])})"


def _reasons(error: DomainError) -> str:
    return "; ".join(localized(str(d.get("message") or "")) for d in error.as_errors())
