"""E-licences: the published public keys (anyone), the licence library (证照库: search, a licence with its
versions), a licence's record and PDF (its holder, staff who may see it; any version), revocation with a
reason (the issuing department's heads, administrators)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from flask import request, url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from app.errors import InvalidInput
from app.services.licensing import download, keys, library, records, seals

from . import bp
from .body import json_object
from .openapi import op, path_param, query
from .schemas import Paging, Strict
from .security import ctx, login_required, principal


class Revocation(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class LicenceQuery(Paging):
    holder = fields.String(load_default=None, validate=validate.Length(max=100))
    holder_id = fields.String(load_default=None, validate=validate.Length(max=64))
    number = fields.String(load_default=None, validate=validate.Length(max=64))
    type = fields.String(load_default=None, validate=validate.Length(max=200))
    state = fields.String(load_default=None, validate=validate.OneOf(library.STATES))


class VersionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(load_default=None, validate=validate.Range(1, 1_000_000))


OPENAPI_BODIES = (Revocation,)
_NO = path_param("number")
_VERSION = query(VersionQuery)
OPENAPI_PATHS = {
    "/licences": {"get": op("The licence library (证照库): licences in their latest version, newest first, by holder "
                            "(name part or ID), holder_id, number (beginning), type and state (valid, expired, "
                            "revoked); staff of the issuing department, supervisors, admins; applicants their own",
                            parameters=query(LicenceQuery))},
    "/licence-keys": {"get": op("The departments' public signing keys (Ed25519, base64url raw), retired ones too, "
                                "so any licence can be verified offline", auth=False)},
    "/licences/{number}": {"get": op("An e-licence: its signed facts, signature and state (the latest version, "
                                     "or ?version=N), and all its versions with their states and cases (its "
                                     "holder; staff who may see it)", parameters=[*_NO, *_VERSION])},
    "/licences/{number}/pdf": {"get": op("The e-licence PDF of the latest version or ?version=N (A4, seal, QR code "
                                         "to the verification page; the signed facts attached as licence.json)",
                                         parameters=[*_NO, *_VERSION])},
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


@bp.get("/licences")
@login_required
def list_licences() -> Any:
    args = LicenceQuery().load(request.args.to_dict())
    flt = library.LicenceFilter(holder=args["holder"], holder_id=args["holder_id"], number=args["number"],
                                licence_type=args["type"], state=args["state"])
    page = library.search(ctx(), principal(), flt, args["page"], args["per_page"])
    return {**page.as_dict(), "items": [_summary(i) for i in page.items]}


@bp.get("/licences/<string(maxlength=64):number>")
@login_required
def get_licence(number: str) -> Any:
    version = VersionQuery().load(request.args.to_dict())["version"]
    found = library.detail(ctx(), principal(), number)
    view = found.licence if version is None else records.get(ctx(), principal(), number, version)
    return {**_dump(view), "current_version": found.licence.version, "current_state": found.state,
            "versions": [_version(v) for v in found.versions]}


@bp.get("/licences/<string(maxlength=64):number>/pdf")
@login_required
def licence_pdf(number: str) -> Any:
    version = VersionQuery().load(request.args.to_dict())["version"]
    target = url_for("licences.verify", number=number, sig="{sig}", _external=True)
    body = download.licence_pdf(ctx(), principal(), number, target, version)
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
    return _iso(asdict(view))


def _summary(item: library.LicenceSummary) -> dict[str, Any]:
    return _iso(asdict(item))


def _version(item: library.VersionView) -> dict[str, Any]:
    return _iso(asdict(item))


def _iso(out: dict[str, Any]) -> dict[str, Any]:
    """Dates and times as ISO text (JSON has neither)."""
    return {k: v.isoformat() if isinstance(v, (date, datetime)) else v for k, v in out.items()}
