"""Statistics pages (统计分析): workload, working days per stage, backlog; each chart followed by its table,
with CSV and XLSX downloads of the same table. Supervisors and administrators see every department, a
department head their own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.clock import CHINA_TZ
from app.errors import DomainError, Forbidden
from app.models import STAT_CHANNELS
from app.services.statistics import export, queries
from app.services.statistics import filters as filters_module
from app.services.statistics.filters import DIMENSIONS, PER_OFFICER, PERIODS, Filters

from .params import date_arg
from .session import ctx, principal, roles_required

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

TABS = {"workload": _l("Workload"), "times": _l("Handling times"), "backlog": _l("Backlog")}
ANSWERS = {"workload": queries.workload, "times": queries.times, "backlog": queries.backlog}
BY_NAMES = {"": _l("Totals"), "department": _l("Department"), "item": _l("Item"), "officer": _l("Officer"),
            "channel": _l("Channel"), "window": _l("Service window")}
PERIOD_NAMES = {"day": _l("Day"), "month": _l("Month"), "year": _l("Year")}
CHANNEL_NAMES = {"online": _l("Online"), "window": _l("At a window")}
FIELDS = ("from", "to", "period", "by", "department", "item", "officer", "channel", "window")
# The filters each tab takes (the backlog is a picture of now, by case: no range, period, officer or window).
TAB_FIELDS = {"workload": FIELDS, "times": FIELDS, "backlog": ("by", "department", "item", "channel")}


@bp.get("/")
@roles_required("supervisor", "head")
def index() -> Any:
    tab = request.args.get("tab", "workload")
    if tab not in TABS:
        tab = "workload"
    args = _args(tab)
    filters, errors = _filters(args, tab)
    result, sheet = None, None
    try:
        choices = filters_module.choices(ctx(), principal())
    except Forbidden:
        abort(403)
    if filters is not None:
        try:
            result = ANSWERS[tab](ctx(), principal(), filters)
        except Forbidden:
            abort(403)
        except DomainError as error:
            errors.update({str(d.get("field") or "_"): d["message"] for d in error.as_errors()})
        else:
            sheet = export.SHEETS[tab](result)
    return render_template("statistics/index.html", tab=tab, tabs=TABS, args=args, errors=errors, result=result,
                           query={k: v for k, v in args.items() if v}, fields=TAB_FIELDS[tab],
                           sheet=sheet, chart=_chart(tab, result) if result else None, by_names=BY_NAMES,
                           period_names=PERIOD_NAMES, channel_names=CHANNEL_NAMES,
                           choices=choices,
                           sees_everything=principal().sees_everything), \
        400 if errors else 200


@bp.get("/export.<any(csv, xlsx):kind>")
@roles_required("supervisor", "head")
def download(kind: str) -> Any:
    tab = request.args.get("tab", "workload")
    args = _args(tab if tab in TABS else "workload")
    filters, errors = _filters(args, tab if tab in TABS else "workload")
    if tab not in TABS or filters is None:
        abort(400)
    try:
        result = ANSWERS[tab](ctx(), principal(), filters)
    except Forbidden:
        abort(403)
    except DomainError:
        abort(400)
    sheet = export.SHEETS[tab](result)
    name = f"statistics-{tab}-{filters.since.isoformat()}-{filters.until.isoformat()}"
    if kind == "csv":
        body, mimetype = export.to_csv(sheet), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(sheet, result["filters"])
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'})


def _args(tab: str) -> dict[str, str]:
    """The query string's filters that the tab takes ('' for the others, which it ignores)."""
    return {k: (request.args.get(k) or "").strip() if k in TAB_FIELDS[tab] else "" for k in FIELDS}


def _filters(args: dict[str, str], tab: str) -> tuple[Filters | None, dict[str, str]]:
    """Filters from the query string, or readable messages per field."""
    errors: dict[str, str] = {}
    today = ctx().clock.now().astimezone(CHINA_TZ).date()
    since, until = queries.default_range(today)
    dates = {}
    for key, default in (("from", since), ("to", until)):
        try:
            dates[key] = date_arg(args[key]) if args[key] else default
        except ValueError:
            errors[key] = _("Enter a date as YYYY-MM-DD.")
    choices = {"period": PERIODS, "by": DIMENSIONS, "channel": STAT_CHANNELS}
    for key, allowed in choices.items():
        if args[key] and args[key] not in allowed:
            errors[key] = _("Choose one of the offered values.")
    if tab == "backlog" and args["by"] in PER_OFFICER:
        errors["by"] = _("The backlog is not kept per officer or window.")
    if errors:
        return None, errors
    return Filters(since=dates["from"], until=dates["to"], period=args["period"] or "month", by=args["by"] or None,
                   department=args["department"] or None, item=args["item"] or None,
                   officer=args["officer"] or None, channel=args["channel"] or None,
                   window=args["window"] or None), errors


def _chart(tab: str, result: dict[str, Any]) -> dict[str, Any]:
    """What static/js/statistics.js draws: categories and series, read from the same answer as the table."""
    if tab == "workload":
        rows = result["rows"]
        categories = [f"{r['period']} {r['label']}" if result["filters"]["by"] else r["period"] for r in rows]
        series = [{"name": label, "data": [r[key] for r in rows]} for key, label in export.WORKLOAD_COLUMNS[:6]]
        return {"type": "bar", "title": str(TABS[tab]), "categories": categories, "series": series}
    if tab == "times":
        rows = result["rows"]
        categories = [" ".join(filter(None, (r["period"], r["label"] if result["filters"]["by"] else "",
                                             "· " + str(export.STAGE_NAMES.get(r["stage"], r["stage"])))))
                      for r in rows]
        series = [{"name": label, "data": [r[key] for r in rows]} for key, label in export.TIMES_COLUMNS[1:]]
        return {"type": "bar", "title": str(TABS[tab]), "categories": categories, "series": series}
    categories = [r["label"] for r in result["rows"]]
    series = [{"name": b, "data": [r[b] for r in result["rows"]], "stack": "age"} for b in result["buckets"]]
    return {"type": "bar", "title": str(TABS[tab]), "categories": categories, "series": series}
