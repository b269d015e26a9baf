"""好差评: the applicant rates a finished case, anyone rates a window visit by its QR token, supervisors
list the ratings, administrators set the rules and the windows."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from marshmallow import Schema, fields, validate

from app.models import RATING_CHANNELS, RATING_KINDS
from app.services.ratings import listing, rate, rules, windows
from app.services.ratings.levels import GRADES

from . import bp
from .body import json_object
from .openapi import op, path_param, query
from .schemas import Paging, Strict, bounded_date
from .security import ctx, login_required, principal


class RatingBody(Strict):
    level = fields.Integer(load_default=None, metadata={"description": "整体满意度: 5 非常满意 … 1 非常不满意"})
    dimensions = fields.Dict(keys=fields.String(validate=validate.Length(max=32)), load_default=dict,
                             metadata={"description": "online: efficiency, guide_accuracy, convenience, usability; "
                                                      "window: efficiency, competence, attitude (each 1–5)"})
    reasons = fields.List(fields.String(validate=validate.Length(max=32)), load_default=list,
                          validate=validate.Length(max=30), metadata={"description": "reason codes (bad ratings)"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class Reason(Strict):
    code = fields.String(required=True)
    zh = fields.String(required=True)
    en = fields.String(load_default="")


class RulesBody(Strict):
    reasons = fields.List(fields.Nested(Reason), required=True)
    window_days = fields.Integer(required=True)
    reminder_hours = fields.Integer(required=True)
    default_level = fields.Integer(load_default=None, allow_none=True)


class WindowBody(Strict):
    name = fields.String(required=True, validate=validate.Length(max=100))
    department = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    active = fields.Boolean(load_default=True)
    clerks = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list,
                         validate=validate.Length(max=50))


class RatingQuery(Paging):
    department = fields.String(load_default=None, validate=validate.Length(max=64))
    item = fields.String(load_default=None, validate=validate.Length(max=64))
    window = fields.String(load_default=None, validate=validate.Length(max=32))
    officer = fields.String(load_default=None, validate=validate.Length(max=64))
    level = fields.Integer(load_default=None, validate=validate.Range(1, 5))
    grade = fields.String(load_default=None, validate=validate.OneOf(GRADES))
    channel = fields.String(load_default=None, validate=validate.OneOf(RATING_CHANNELS))
    kind = fields.String(load_default=None, validate=validate.OneOf(RATING_KINDS))
    since = bounded_date(data_key="from", load_default=None)
    until = bounded_date(data_key="to", load_default=None)


OPENAPI_BODIES: tuple[type[Schema], ...] = (RatingBody, RulesBody, WindowBody)
_CASE, _TOKEN, _CODE = path_param("case_no"), path_param("token"), path_param("code")
OPENAPI_PATHS = {
    "/cases/{case_no}/ratings": {
        "get": op("The applicant's ratings of their case and whether they can rate (or follow up) now",
                  parameters=_CASE),
        "post": op("Rate a finished case (the applicant): overall level, the online dimensions, reasons for a bad "
                   "rating; a second rating is the one follow-up (追加评价); 409 after that or once the window "
                   "closed", "201", body="RatingBody", parameters=_CASE)},
    "/visits/{token}": {"get": op("A window visit named by its QR token: when and where it was served, whether "
                                  "it can be rated", auth=False, parameters=_TOKEN)},
    "/visits/{token}/ratings": {"post": op("Rate a window visit by its QR token, without signing in (once)",
                                           "201", body="RatingBody", auth=False, parameters=_TOKEN)},
    "/visits": {"post": op("Record a visit without a case (a consultation) at the clerk's window; returns its "
                           "rating token and page", "201")},
    "/ratings": {"get": op("Ratings, newest first, with filters (supervisor, admin; paginated)",
                           parameters=query(RatingQuery))},
    "/rating-rules": {"get": op("The rating rules: reasons for a bad rating, window and reminder, default level",
                                auth=False),
                      "put": op("Replace the rating rules (admin)", body="RulesBody")},
    "/windows": {"get": op("Service windows with their clerks (admin)")},
    "/windows/{code}": {"put": op("Create or update a service window and seat its clerks (admin)",
                                  body="WindowBody", parameters=_CODE)},
}


def _submission(body: dict[str, Any]) -> rate.Submission:
    return rate.Submission(body["level"], body["dimensions"], body["reasons"], body["comment"])


@bp.get("/cases/<case_no>/ratings")
@login_required
def case_ratings(case_no: str) -> Any:
    state = rate.case_state(ctx(), principal(), case_no)
    rate_by = state["rate_by"]
    return {**state, "rate_by": rate_by.isoformat() if rate_by else None}


@bp.post("/cases/<case_no>/ratings")
@login_required
def rate_case(case_no: str) -> Any:
    body = RatingBody().load(json_object())
    return rate.rate_case(ctx(), principal(), case_no, _submission(body)), 201


@bp.get("/visits/<string(maxlength=200):token>")
def visit(token: str) -> Any:
    state = rate.visit_state(ctx(), token)
    return {**state, "served_at": state["served_at"].isoformat(),
            "expires_at": state["expires_at"].isoformat() if state["expires_at"] else None}


@bp.post("/visits/<string(maxlength=200):token>/ratings")
def rate_visit(token: str) -> Any:
    body = RatingBody().load(json_object())
    return rate.rate_visit(ctx(), token, _submission(body)), 201


@bp.post("/visits")
@login_required
def serve_visitor() -> Any:
    token = windows.serve_visitor(ctx(), principal())
    return {"token": token, "url": url_for("ratings.visit", token=token, _external=True)}, 201


@bp.get("/ratings")
@login_required
def list_ratings() -> Any:
    q = RatingQuery().load(request.args)
    page, per_page = q.pop("page"), q.pop("per_page")
    return listing.list_ratings(ctx(), principal(), listing.RatingFilter(**q), page, per_page).as_dict()


@bp.get("/rating-rules")
def get_rules() -> Any:
    return rules.get(ctx()).as_dict()


@bp.put("/rating-rules")
@login_required
def put_rules() -> Any:
    return rules.update(ctx(), principal(), RulesBody().load(json_object())).as_dict()


@bp.get("/windows")
@login_required
def list_windows() -> Any:
    return {"items": [w.as_dict() for w in windows.list_windows(ctx(), principal())]}


@bp.put("/windows/<string(maxlength=32):code>")
@login_required
def put_window(code: str) -> Any:
    body = WindowBody().load(json_object())
    return windows.save_window(ctx(), principal(), code, body["name"], body["department"], body["active"],
                               body["clerks"]).as_dict()
