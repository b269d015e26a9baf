"""The department's seal image (印章) drawn on its licences: upload or replace it from the department's page,
with a preview of the one in force. Administrators only; the seal service checks the bytes and audits."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.errors import DomainError, NotFound
from app.services.admin import departments_admin
from app.services.licensing import seals

from ..formjs import localized
from ..session import ctx, principal
from . import bp
from .organisation import admin_required


def department_has_seal(code: str) -> bool:
    return seals.seal_path(ctx(), code).is_file()


bp.add_app_template_global(department_has_seal, "department_has_seal")


@bp.get("/departments/<id:department_id>/seal.png")
@admin_required
def department_seal(department_id: int) -> Any:
    png = seals.seal_png(ctx(), principal(), _code(department_id))
    if png is None:
        abort(404)
    return png, 200, {"Content-Type": "image/png", "Cache-Control": "private, no-store",
                      "X-Content-Type-Options": "nosniff"}


@bp.post("/departments/<id:department_id>/seal")
@admin_required
def department_seal_upload(department_id: int) -> Any:
    back = url_for(".department_edit", department_id=department_id) + "#seal-title"
    upload = request.files.get("seal")
    if upload is None or not upload.filename:
        flash(_("Choose the seal image (PNG) to upload."), "error")
        return redirect(back)
    try:
        seals.save_seal(ctx(), principal(), _code(department_id), upload.stream.read(seals.MAX_BYTES + 1))
    except DomainError as error:
        flash("; ".join(localized(str(d.get("message", ""))) for d in error.as_errors()), "error")
        return redirect(back)
    flash(_("The seal is saved; licences drawn from now on carry it."), "success")
    return redirect(back)


def _code(department_id: int) -> str:
    try:
        return str(departments_admin.get_department(ctx(), principal(), department_id).code)
    except NotFound:
        abort(404)
