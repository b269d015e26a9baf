"""The form editor's server check: a form-js form as the deploy would judge it."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from app.services.casework import processes

from ..formjs import localized
from ..session import ctx, roles_required
from . import bp

designer_required = roles_required("designer")


@bp.post("/forms/check")
@designer_required
def check_form() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("form"), str):
        return jsonify(ok=False, problems=[{"message": _("Send the form's JSON text.")}]), 400
    key = body.get("key") if isinstance(body.get("key"), str) else ""
    problems = processes.check_form(ctx(), body["form"].encode("utf-8"), key or "form.form")
    problems = [{**p, "message": localized(str(p.get("message", "")))} for p in problems]
    return jsonify(ok=not problems, problems=problems)
