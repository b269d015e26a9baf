"""Cases: apply (with the materials as files), read one case, withdraw, resubmit a correction."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.errors import InvalidForm
from app.services import portal
from app.services.casework import cases
from app.services.documents.files import FileStore
from app.services.licensing import delivery

from . import bp
from .body import json_object
from .deliveries import case_delivery_json
from .multipart import FILES_DOC, body_and_parts, by_part
from .openapi import op, path_param
from .schemas import CaseCreate, Resubmission, Withdrawal
from .security import ctx, login_required, principal


def _files_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "json": {"$ref": f"#/components/schemas/{schema}"},
            "material-0": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}


OPENAPI_PATHS = {
    "/cases/{case_no}": {"get": op(
        "A case: status, stage, process version, open tasks, history, incidents; `licence` (number, state, "
        "pdf_url, verify_url) and `delivery` (method, status awaiting_pickup/collected/awaiting_mail/mailed, "
        "pickup place and hours or mail address, carrier, tracking number, collector) once issued, else null",
        parameters=path_param("case_no"))},
    "/cases": {"post": op(
        "Apply: start a case for an item, with its materials. " + FILES_DOC + ". Every required material "
        "needs a file (a JSON body only for an item that requires none) or, for a material that names a "
        "licence type, `reuse: {\"<index>\": \"<licence number>\"}` naming a valid licence of that type the "
        "applicant holds (减材料): else 422 with one error per missing material or unusable licence, field "
        "`material-<index>`, and nothing is recorded", "201",
        requestBody=_files_body("CaseCreate"))},
    "/cases/{case_no}/resubmit": {"post": op(
        "Resubmit a correction (补正, the applicant): `data` completes the correction step and the files "
        "replace those of the materials the notice lists, each of which needs a new file or a held licence "
        "in `reuse` (as for POST /cases). " + FILES_DOC,
        requestBody=_files_body("Resubmission"), parameters=path_param("case_no"))},
}


@bp.post("/cases")
@login_required
def create_case() -> Any:
    raw, parts = body_and_parts()
    body = CaseCreate().load(raw)
    try:
        case = portal.apply(ctx(), principal(), body["item_code"], body["data"], parts, _store(),
                            body["applicant"], body["reuse"])
    except InvalidForm as exc:
        raise by_part(exc) from exc
    return case, 201


@bp.get("/cases/<case_no>")
@login_required
def get_case(case_no: str) -> Any:
    found = cases.get_case(ctx(), principal(), case_no)
    return {**found, **case_delivery_json(delivery.for_case(ctx(), principal(), case_no))}


@bp.post("/cases/<case_no>/withdraw")
@login_required
def withdraw_case(case_no: str) -> Any:
    body = Withdrawal().load(json_object())
    return cases.withdraw_case(ctx(), principal(), case_no, body["reason"])


@bp.post("/cases/<case_no>/resubmit")
@login_required
def resubmit(case_no: str) -> Any:
    raw, parts = body_and_parts()
    body = Resubmission().load(raw)  # the correction step's data, as completing it takes, and `reuse`
    try:
        return portal.resubmit_parts(ctx(), principal(), case_no, body["data"], parts, _store(), body["reuse"])
    except InvalidForm as exc:
        raise by_part(exc) from exc


def _store() -> FileStore:
    """The upload store with the limits the portal applies (file size, quota, files per application)."""
    return FileStore.from_settings(ctx().upload_dir, current_app.config)
