"""The centre's statistics (统计分析): workload, working days per stage, backlog. Supervisors and
administrators see every department, a department head their own."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.clock import CHINA_TZ
from app.models import STAT_CHANNELS
from app.services.statistics import queries
from app.services.statistics.filters import DIMENSIONS, PERIODS, Filters

from . import bp
from .openapi import op, query
from .schemas import bounded_date
from .security import ctx, login_required, principal


class StatisticsQuery(Schema):
    """The filters every statistics question takes; unknown ones are refused (a typo would otherwise
    quietly answer for everything)."""

    class Meta:
        unknown = RAISE

    date_from = bounded_date(data_key="from", load_default=None)
    date_to = bounded_date(data_key="to", load_default=None)
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS))
    by = fields.String(load_default=None, validate=validate.OneOf(DIMENSIONS))
    department = fields.String(load_default=None, validate=validate.Length(1, 64))
    item = fields.String(load_default=None, validate=validate.Length(1, 64))
    officer = fields.String(load_default=None, validate=validate.Length(1, 64))
    channel = fields.String(load_default=None, validate=validate.OneOf(STAT_CHANNELS))
    window = fields.String(load_default=None, validate=validate.Length(1, 32))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("on or before 'to' / 开始日期不能晚于结束日期", "from")


def filters_from(args: dict[str, Any]) -> Filters:
    """Filters from a query string; the range defaults to this year so far (China time).

    :raises ValidationError:"""
    q = StatisticsQuery().load(args)
    today = ctx().clock.now().astimezone(CHINA_TZ).date()
    since, until = queries.default_range(today)
    return Filters(since=q["date_from"] or since, until=q["date_to"] or until, period=q["period"], by=q["by"],
                   department=q["department"], item=q["item"], officer=q["officer"], channel=q["channel"], window=q["window"])


_Q = query(StatisticsQuery)
OPENAPI_PATHS = {
    "/statistics/workload": {"get": op(
        "Workload per period (day, month, year) and dimension (department, item, officer, channel, or the "
        "service window the officer is seated at now): received, accepted, finished (办结, refusals "
        "included), refused, withdrawn, correction notices, on time / late, the on-time rate and corrections "
        "per case, plus the cases open now (supervisor, admin; a department head for their department)",
        parameters=_Q)},
    "/statistics/times": {"get": op(
        "Working days per stage (acceptance, decision, total): cases, average and 90th percentile, per "
        "period and dimension, for the stages that ended in the range; per officer (or window) a stage counts "
        "for the officer who ended it", parameters=_Q)},
    "/statistics/backlog": {"get": op(
        "The cases open now by age in working days since receipt, by dimension (the range does not apply; "
        "not per officer)", parameters=_Q)},
}


@bp.get("/statistics/workload")
@login_required
def statistics_workload() -> Any:
    return queries.workload(ctx(), principal(), filters_from(request.args.to_dict()))


@bp.get("/statistics/times")
@login_required
def statistics_times() -> Any:
    return queries.times(ctx(), principal(), filters_from(request.args.to_dict()))


@bp.get("/statistics/backlog")
@login_required
def statistics_backlog() -> Any:
    return queries.backlog(ctx(), principal(), filters_from(request.args.to_dict()))
