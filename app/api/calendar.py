"""The working-day calendar: any staff member reads a year; administrators edit days and import years."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.errors import InvalidInput
from app.services.admin import calendar_admin
from app.services.admin.calendar_files import MAX_NAME, parse_date
from app.workdays import FIRST_YEAR

from . import bp
from .body import json_object
from .schemas import Strict
from .security import ctx, login_required, principal

KINDS = ("holiday", "workday")


class CalendarDayBody(Strict):
    """PUT /calendar/days/<date>: kind null = the weekday rule again; local = a local extra holiday."""

    kind = fields.String(required=True, allow_none=True, validate=validate.OneOf(KINDS))
    name = fields.String(load_default="", validate=validate.Length(0, MAX_NAME))
    local = fields.Boolean(load_default=False)


class CalendarEntry(Strict):
    date = fields.String(required=True, validate=validate.Length(1, 20))
    kind = fields.String(required=True, validate=validate.Length(1, 10))  # holiday | workday | 休 | 班
    name = fields.String(load_default="", validate=validate.Length(0, MAX_NAME))


class CalendarImport(Strict):
    year = fields.Integer(required=True, validate=validate.Range(FIRST_YEAR, 2100))
    days = fields.List(fields.Nested(CalendarEntry), required=True, validate=validate.Length(1, 366))


@bp.get("/calendar/<int:year>")
@login_required
def get_year(year: int) -> Any:
    view = calendar_admin.calendar_year_view(ctx(), year, principal())
    return {"year": year, "published": view["published"], "provisional": not view["published"],
            "source": view["source"], "working_days": view["working_days"],
            "days": [{k: d[k] for k in ("date", "kind", "name", "source", "working")} for d in view["days"]]}


@bp.put("/calendar/days/<day>")
@login_required
def put_day(day: str) -> Any:
    when = parse_date(day)
    if when is None:
        raise InvalidInput("invalid date", [{"field": "date", "message": f"日期无效 / not a date: '{day[:20]}'"}])
    body = CalendarDayBody().load(json_object())
    result = calendar_admin.set_day(ctx(), principal(), when, body["kind"], body["name"], body["local"])
    return {"date": when, "kind": result.kind, "name": body["name"] if result.kind else "",
            "local": bool(result.kind and body["local"]), "published": result.published,
            "deadlines_moved": result.deadlines_moved}


@bp.post("/calendar/import")
@login_required
def import_year() -> Any:
    body = CalendarImport().load(json_object())
    result = calendar_admin.import_year(ctx(), principal(), body["year"], body["days"], ctx().clock.now())
    return {"year": result.year, "days": result.days, "kept_local": result.kept_local,
            "published": result.published, "deadlines_moved": result.deadlines_moved}
