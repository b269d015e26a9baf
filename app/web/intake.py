"""Window intake (窗口收件): a clerk records a walk-in application on behalf of an applicant, who is
found or registered by ID number or credit code; the case enters the same process as online ones."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for

from app.errors import Forbidden, InvalidForm, InvalidInput, ItemNotFound, ProcessError
from app.forms import FormDefinition
from app.services.documents import notices as notice_service
from app.services.portal import WalkIn, catalogue, item_guide, window_intake

from .formjs import form_view, localized, parse_submission, rerender_values
from .portal.common import (
    ACCEPT,
    Errors,
    detail_errors,
    material_uploads,
    max_upload_mb,
    reuse_choices,
    split_errors,
    upload_store,
)
from .session import ctx, principal, roles_required

bp = Blueprint("intake", __name__, url_prefix="/staff/intake")


@bp.route("", methods=["GET", "POST"])
@roles_required("clerk")
def intake() -> Any:
    code = request.values.get("item", "").strip()
    items = catalogue(ctx())
    if not code:
        return render_template("intake/intake.html", items=items, item=None)
    try:
        item = item_guide(ctx(), code)
    except ItemNotFound:
        abort(404)
    form = ctx().forms.get(item["form_key"]) if item.get("form_key") else None
    if request.method == "GET":
        return _page(items, item, form, {}, Errors())
    data = parse_submission(form, request.form) if form else {}
    refresh = rerender_values(form, request.form) if form else None
    if refresh is not None:
        return _page(items, item, form, refresh, Errors())
    return _record(items, item, form, data)


def _record(items: list[dict[str, Any]], item: dict[str, Any], form: FormDefinition | None,
            data: dict[str, Any]) -> Any:
    f = request.form
    walk_in = WalkIn(kind=f.get("kind", "person"), id_number=f.get("id_number", ""), name=f.get("name", ""),
                     phone=f.get("phone", ""), contact_name=f.get("contact_name", ""))
    try:
        case = window_intake(ctx(), principal(), walk_in, item["code"], data, material_uploads(item["materials"]),
                             upload_store(), reuse_choices(item["materials"]))
    except Forbidden:
        abort(403)
    except InvalidForm as exc:
        return _page(items, item, form, data, split_errors(exc.field_errors), 422)
    except InvalidInput as exc:
        return _page(items, item, form, data, Errors(applicant=split_errors(detail_errors(exc)).form), 422)
    except ProcessError as exc:
        return _page(items, item, form, data, Errors(general=[localized(exc.message)]), 422)
    return render_template("intake/done.html", case=case, receipt=_receipt(case["case_no"]),
                           staff_case_url=_staff_case_url(case["case_no"]))


def _page(items: list[dict[str, Any]], item: dict[str, Any], form: FormDefinition | None, values: dict[str, Any],
          errors: Errors, status: int = 200) -> Any:
    view = form_view(form, values, errors.form) if form else None
    chosen = {m["name"]: request.form.get(f"reuse-{m['index']}", "") for m in (item or {}).get("materials") or []}
    return render_template("intake/intake.html", items=items, item=item, view=view, errors=errors, accept=ACCEPT,
                           max_mb=max_upload_mb(), files={}, chosen=chosen), status


def _receipt(case_no: str) -> dict[str, Any] | None:
    """The 收件回执 issued on receipt, once the documents pages exist."""
    for_case = getattr(notice_service, "for_case", None)
    if for_case is None or "documents.notice" not in current_app.view_functions:
        return None
    found = next((n for n in for_case(ctx(), principal(), case_no) if n.kind == "receipt"), None)
    return {"number": found.number, "url": url_for("documents.notice", notice_id=found.id)} if found else None


def _staff_case_url(case_no: str) -> str:
    for endpoint in ("staff.case", "staff.case_page"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, case_no=case_no)
    return f"/staff/cases/{case_no}"


