"""Time limits: a case's clocks, special procedures (suspensions), extensions and open alarms."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields, validate

from app.models import PROCEDURES
from app.services.paging import MAX_PER_PAGE
from app.services.timelimits import clock_actions

from . import bp
from .body import json_object
from .schemas import Paging
from .security import ctx, login_required, principal


class SuspensionStart(Schema):
    procedure = fields.String(required=True, validate=validate.OneOf(PROCEDURES))
    expected_days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 365))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ExtensionRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ExtensionDecision(Schema):
    approve = fields.Boolean(required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class AlarmQuery(Paging):
    level = fields.String(load_default=None, validate=validate.OneOf(("yellow", "red")))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PER_PAGE))


@bp.get("/cases/<case_no>/clocks")
@login_required
def case_clocks(case_no: str) -> Any:
    return clock_actions.case_clocks(ctx(), principal(), case_no)


@bp.post("/cases/<case_no>/suspensions")
@login_required
def start_suspension(case_no: str) -> Any:
    body = SuspensionStart().load(json_object())
    return clock_actions.start_suspension(ctx(), principal(), case_no, body["procedure"], body["expected_days"],
                                          body["reason"]), 201


@bp.post("/cases/<case_no>/suspensions/<id:suspension_id>/end")
@login_required
def end_suspension(case_no: str, suspension_id: int) -> Any:
    return clock_actions.end_suspension(ctx(), principal(), case_no, suspension_id)


@bp.post("/cases/<case_no>/extensions")
@login_required
def request_extension(case_no: str) -> Any:
    body = ExtensionRequest().load(json_object())
    return clock_actions.request_extension(ctx(), principal(), case_no, body["reason"]), 201


@bp.post("/cases/<case_no>/extensions/<id:extension_id>/decision")
@login_required
def decide_extension(case_no: str, extension_id: int) -> Any:
    body = ExtensionDecision().load(json_object())
    return clock_actions.decide_extension(ctx(), principal(), case_no, extension_id, body["approve"], body["comment"])


@bp.get("/alarms")
@login_required
def alarms() -> Any:
    query = AlarmQuery().load(request.args.to_dict())
    return clock_actions.open_alarms(ctx(), principal(), query["level"], query["page"], query["per_page"])
