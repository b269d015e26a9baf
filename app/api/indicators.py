"""好差评 indicators and the departments' performance score, beside the other statistics: the same
figures as the pages (supervisors and administrators see every department, a department head their own;
administrators set the score's weights)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.clock import CHINA_TZ
from app.services.statistics import indicators, performance, queries
from app.services.statistics.filters import Filters

from . import bp
from .body import json_object
from .openapi import op, query
from .schemas import bounded_date
from .security import ctx, login_required, principal
from .statistics import StatisticsQuery, filters_from


class PerformanceQuery(Schema):
    class Meta:
        unknown = RAISE

    date_from = bounded_date(data_key="from", load_default=None)
    date_to = bounded_date(data_key="to", load_default=None)
    department = fields.String(load_default=None, validate=validate.Length(1, 64))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("on or before 'to' / 开始日期不能晚于结束日期", "from")


class WeightsBody(Schema):
    """Checked by the service, which answers 422 with a message per field."""

    class Meta:
        unknown = RAISE

    on_time = fields.Raw(load_default=None, metadata={"description": "weight of the on-time rate, 0–1000"})
    good_rating = fields.Raw(load_default=None, metadata={"description": "weight of 好评率, 0–1000"})
    rectification = fields.Raw(load_default=None, metadata={"description": "weight of 差评整改率, 0–1000"})
    supervision = fields.Raw(load_default=None, metadata={"description": "weight of the supervision component, 0–1000"})
    order_cap = fields.Raw(load_default=None, metadata={
        "description": "supervision orders per 100 cases at which the supervision component reaches 0, 1–100"})


def _definitions() -> str:
    return "; ".join(d["en"] for d in indicators.DEFINITIONS.values())


OPENAPI_BODIES: tuple[type[Schema], ...] = (WeightsBody,)
OPENAPI_PATHS = {
    "/statistics/ratings": {"get": op(
        "好差评 indicators per period and dimension (department, item, window, officer, channel) with their "
        "counts: good-rating rate, active good-rating rate, unrated rate, rectification rate, real-name "
        "bad-rating callback rate (fractions; null for a zero denominator). " + _definitions()
        + " (supervisor, admin; a department head for their department)", parameters=query(StatisticsQuery))},
    "/statistics/performance": {"get": op(
        "Each department's performance score over the range with its components. " + performance.FORMULA["en"]
        + " (supervisor, admin; a department head for their department)", parameters=query(PerformanceQuery))},
    "/statistics/performance/weights": {
        "get": op("The performance score's weights and the supervision cap (staff who see statistics)"),
        "put": op("Replace the performance score's weights (admin; audited; 422 with a message per field)",
                  body="WeightsBody")},
}


@bp.get("/statistics/ratings")
@login_required
def statistics_ratings() -> Any:
    return indicators.ratings(ctx(), principal(), filters_from(request.args.to_dict()))


@bp.get("/statistics/performance")
@login_required
def statistics_performance() -> Any:
    q = PerformanceQuery().load(request.args.to_dict())
    since, until = queries.default_range(ctx().clock.now().astimezone(CHINA_TZ).date())
    filters = Filters(since=q["date_from"] or since, until=q["date_to"] or until, department=q["department"])
    return performance.scores(ctx(), principal(), filters)


@bp.get("/statistics/performance/weights")
@login_required
def get_performance_weights() -> Any:
    return performance.get_weights(ctx(), principal()).as_dict()


@bp.put("/statistics/performance/weights")
@login_required
def put_performance_weights() -> Any:
    body = WeightsBody().load(json_object())
    return performance.update_weights(ctx(), principal(), body).as_dict()
