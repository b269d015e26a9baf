"""Delivery of a case's licence (送达): the mail tracking number, recorded or corrected later, and the
collection at the window (领证); both for staff of the issuing department or window."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for
from marshmallow import fields, validate

from app.services.licensing import delivery

from . import bp
from .body import json_object
from .openapi import op, path_param
from .schemas import Strict
from .security import ctx, login_required, principal


class Tracking(Strict):
    carrier = fields.String(load_default="", validate=validate.Length(max=64))
    tracking_no = fields.String(required=True, validate=validate.Length(1, 32))


class Collection(Strict):
    collector_name = fields.String(required=True, validate=validate.Length(1, 100))
    collector_id_number = fields.String(required=True, validate=validate.Length(1, 32))
    relation = fields.String(required=True, validate=validate.OneOf(["self", "proxy", "本人", "代领"]))


OPENAPI_BODIES = (Tracking, Collection)
_CASE = path_param("case_no")
OPENAPI_PATHS = {
    "/cases/{case_no}/delivery": {"put": op(
        "Record or correct the mail tracking number of a mailed licence (staff of the issuing department or "
        "window): the applicant is told once per number (in app, SMS, e-mail); the same number again changes "
        "nothing; 409 for a licence collected at the window", body="Tracking", parameters=_CASE)},
    "/cases/{case_no}/delivery/collection": {"post": op(
        "Record who collected the licence at the window (领证; staff of the issuing department or window): "
        "name, resident ID number, relation self/proxy (本人/代领); once only (409 after, and for a mailed "
        "licence); the pickup receipt prints it", body="Collection", parameters=_CASE)},
}


@bp.put("/cases/<case_no>/delivery")
@login_required
def put_tracking(case_no: str) -> Any:
    body = Tracking().load(json_object())
    view = delivery.record_tracking(ctx(), principal(), case_no, body["carrier"], body["tracking_no"])
    return delivery_json(view)


@bp.post("/cases/<case_no>/delivery/collection")
@login_required
def post_collection(case_no: str) -> Any:
    body = Collection().load(json_object())
    view = delivery.record_collection(ctx(), principal(), case_no, body["collector_name"],
                                      body["collector_id_number"], body["relation"])
    return delivery_json(view)


def case_delivery_json(found: delivery.CaseDelivery) -> dict[str, Any]:
    """The `licence` and `delivery` objects of the case detail (each null until the case is issued)."""
    lic = found.licence
    licence = None if lic is None else {
        **asdict(lic), "pdf_url": url_for("licences.pdf", number=lic.number),
        "verify_url": url_for("licences.verify", number=lic.number, sig=lic.short_signature)}
    return {"licence": licence, "delivery": delivery_json(found.delivery) if found.delivery else None}


def delivery_json(view: delivery.DeliveryView) -> dict[str, Any]:
    out = asdict(view)
    for key in ("ready_at", "mailed_at", "collected_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out
