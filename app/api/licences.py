"""E-licences: the published public keys (anyone), a licence's record and PDF (its applicant, staff who may
see its case), revocation with a reason (the issuing department's heads, administrators)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import request, url_for
from marshmallow import fields, validate

from app.errors import InvalidInput
from app.services.licensing import download, keys, records, seals

from . import bp
from .body import json_object
from .openapi import op, path_param
from .schemas import Strict
from .security import ctx, login_required, principal


class Revocation(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


OPENAPI_BODIES = (Revocation,)
_NO = path_param("number")
OPENAPI_PATHS = {
    "/licence-keys": {"get": op("The departments' public signing keys (Ed25519, base64url raw), retired ones too, "
                                "so any licence can be verified offline", auth=False)},
    "/licences/{number}": {"get": op("An e-licence: its signed facts, signature and state (its applicant; staff "
                                     "who may see its case)", parameters=_NO)},
    "/licences/{number}/pdf": {"get": op("The e-licence PDF (A4, seal, QR code to the verification page; the "
                                         "signed facts attached as licence.json)", parameters=_NO)},
    "/licences/{number}/revoke": {"post": op("Revoke a licence with a reason (the issuing department's head, "
                                             "admin)", body="Revocation", parameters=_NO)},
    "/departments/{code}/seal": {"put": op(
        "Upload a department's seal image drawn on its licences: the PNG as the request body (admin)",
        parameters=path_param("code"),
        requestBody={"required": True, "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}})},
}


@bp.get("/licence-keys")
def licence_keys() -> Any:
    return {"keys": [{**asdict(k), "created_at": k.created_at.isoformat(),
                      "retired_at": k.retired_at.isoformat() if k.retired_at else None}
                     for k in keys.published(ctx())]}


@bp.get("/licences/<string(maxlength=64):number>")
@login_required
def get_licence(number: str) -> Any:
    return _dump(records.get(ctx(), principal(), number))


@bp.get("/licences/<string(maxlength=64):number>/pdf")
@login_required
def licence_pdf(number: str) -> Any:
    target = url_for("licences.verify", number=number, sig="{sig}", _external=True)
    body = download.licence_pdf(ctx(), principal(), number, target)
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'attachment; filename="licence-{number}.pdf"'}


@bp.post("/licences/<string(maxlength=64):number>/revoke")
@login_required
def revoke(number: str) -> Any:
    body = Revocation().load(json_object())
    return _dump(records.revoke(ctx(), principal(), number, body["reason"]))


@bp.put("/departments/<string(maxlength=64):code>/seal")
@login_required
def put_seal(code: str) -> Any:
    if request.content_length is not None and request.content_length > seals.MAX_BYTES:
        raise InvalidInput("印章图片过大 / seal too large", [{"field": "file", "message": "≤ 1 MB"}])
    seals.save_seal(ctx(), principal(), code, request.get_data(cache=False)[:seals.MAX_BYTES + 1])
    return {"department": code, "seal": True}


def _dump(view: records.LicenceView) -> dict[str, Any]:
    out = asdict(view)
    out["issued_at"] = view.issued_at.isoformat()
    out["revoked_at"] = view.revoked_at.isoformat() if view.revoked_at else None
    return out
