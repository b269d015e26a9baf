"""Electronic supervision (电子监察): supervision orders (督办单) and the supervisor's dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.models.clock import ORDER_STATES
from app.services.timelimits import dashboard, supervision
from app.workdays import as_date

from . import bp
from .body import json_object
from .schemas import Paging, bounded_date
from .security import ctx, login_required, principal


class OrderCreate(Schema):
    case_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    department = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    reply_by = bounded_date(required=True)


class OrderReply(Schema):
    reply = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class OrderQuery(Paging):
    state = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATES))
    department = fields.String(load_default=None, validate=validate.Length(max=64))


class DashboardQuery(Paging):
    date_from = bounded_date(data_key="from", load_default=None)
    date_to = bounded_date(data_key="to", load_default=None)
    department = fields.String(load_default=None, validate=validate.Length(max=64))
    item = fields.String(load_default=None, validate=validate.Length(max=64))
    # a page of the overdue list
    per_page = fields.Integer(load_default=dashboard.PER_PAGE, validate=validate.Range(1, dashboard.MAX_PER_PAGE))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("on or before 'to'", "from")


def dashboard_range(date_from: Any, date_to: Any, today: Any) -> tuple[Any, Any]:
    """Default range: the last 30 days up to today."""
    date_to = date_to or today
    return date_from or (date_to - timedelta(days=30)), date_to


@bp.get("/supervision-orders")
@login_required
def list_orders() -> Any:
    query = OrderQuery().load(request.args.to_dict())
    return supervision.list_orders(ctx(), principal(), **query).as_dict()


@bp.post("/supervision-orders")
@login_required
def issue_order() -> Any:
    body = OrderCreate().load(json_object())
    return supervision.issue_order(ctx(), principal(), body["case_no"], body["department"], body["reason"],
                                   body["reply_by"]), 201


@bp.get("/supervision-orders/<id:order_id>")
@login_required
def get_order(order_id: int) -> Any:
    return supervision.get_order(ctx(), principal(), order_id)


@bp.post("/supervision-orders/<id:order_id>/reply")
@login_required
def reply_order(order_id: int) -> Any:
    body = OrderReply().load(json_object())
    return supervision.reply_order(ctx(), principal(), order_id, body["reply"])


@bp.post("/supervision-orders/<id:order_id>/close")
@login_required
def close_order(order_id: int) -> Any:
    return supervision.close_order(ctx(), principal(), order_id)


@bp.get("/dashboard")
@login_required
def supervision_dashboard() -> Any:
    query = DashboardQuery().load(request.args.to_dict())
    context = ctx()
    date_from, date_to = dashboard_range(query["date_from"], query["date_to"], as_date(context.clock.now()))
    return dashboard.supervision_dashboard(context, principal(), date_from, date_to, query["department"],
                                           query["item"], query["page"], query["per_page"])
