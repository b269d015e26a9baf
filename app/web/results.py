"""The centre's public results of 好差评 (§10 公开, /public/ratings): per department and per item for a month
or a year, without signing in. Rates and counts only: no officer, window, rater or comment is named."""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from app.clock import CHINA_TZ
from app.services.statistics import indicator_sheets, indicators
from app.services.statistics.indicator_sheets import RATE_COLUMNS, percent

from .params import strict_int
from .session import ctx

bp = Blueprint("results", __name__, url_prefix="/public")
FIRST_YEAR = 2000


@bp.get("/ratings")
def ratings() -> Any:
    today = ctx().clock.now().astimezone(CHINA_TZ).date()
    errors: dict[str, str] = {}
    year = _number("year", FIRST_YEAR, today.year, today.year, errors)
    raw_month = (request.args.get("month") or "").strip()
    month = None if raw_month in ("", "all") else _number("month", 1, 12, today.month, errors)
    if "year" not in errors and month is not None and date(year, month, 1) > today:
        errors["month"] = _("Choose a month that has begun.")
    if errors:
        year, month = today.year, today.month
    since = date(year, month or 1, 1)
    until = min(date(year, month or 12, monthrange(year, month or 12)[1]), today)
    results = indicators.public_results(ctx(), since, until)
    tables = {by: (results[by], indicator_sheets.public_sheet(results[by], group))
              for by, group in (("department", "部门 / department"), ("item", "事项 / item"))}
    departments = tables["department"][0]["rows"]
    chart = {"type": "bar", "title": _("Good-rating rate by department"), "categories": [r["label"] for r in departments],
             "series": [{"name": label, "data": [percent(r[key]) for r in departments]}
                        for key, label in RATE_COLUMNS[:3]]}
    return render_template("statistics/public.html", year=year, month=month, since=since, until=until,
                           tables=tables, chart=chart, errors=errors, years=range(today.year, FIRST_YEAR - 1, -1)[:10],
                           definitions=indicators.DEFINITIONS), 400 if errors else 200


def _number(name: str, low: int, high: int, default: int, errors: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    value = strict_int(raw, low, high)
    if value is None:
        errors[name] = _("Choose one of the offered values.")
        return default
    return value
