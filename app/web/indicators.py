"""The statistics area's 好差评 indicators and performance pages (/statistics/ratings, /statistics/performance):
filters, a chart, the same figures as a table, CSV and XLSX downloads of that table, the formulas stated;
administrators set the score's weights here. Supervisors and administrators see every department, a
department head their own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.clock import CHINA_TZ
from app.errors import DomainError, Forbidden, InvalidForm
from app.models import STAT_CHANNELS
from app.services.statistics import export, indicator_sheets, indicators, performance, queries
from app.services.statistics.export import Sheet
from app.services.statistics.filters import DIMENSIONS, PERIODS, Filters

from .params import date_arg
from .session import ctx, principal, roles_required

bp = Blueprint("indicators", __name__, url_prefix="/statistics")

PAGES = {"ratings": _l("Rating indicators"), "performance": _l("Performance")}
BY_NAMES = {"": _l("Totals"), "department": _l("Department"), "item": _l("Item"), "window": _l("Service window"),
            "officer": _l("Officer"), "channel": _l("Rating channel")}
PERIOD_NAMES = {"day": _l("Day"), "month": _l("Month"), "year": _l("Year")}
CHANNEL_NAMES = {"online": _l("Online ratings"), "window": _l("Window ratings")}
FIELDS = {"ratings": ("from", "to", "period", "by", "department", "item", "window", "officer", "channel"),
          "performance": ("from", "to", "department")}
WEIGHT_FIELDS = {"on_time": _l("On-time rate"), "good_rating": _l("Good-rating rate"),
                 "rectification": _l("Rectification rate"), "supervision": _l("Supervision orders"),
                 "order_cap": _l("Orders per 100 cases that score 0")}
staff_required = roles_required("supervisor", "head")


@bp.get("/ratings")
@staff_required
def ratings() -> Any:
    return _page("ratings")


@bp.get("/performance")
@staff_required
def performance_page() -> Any:
    return _page("performance")


@bp.post("/performance/weights")
@roles_required()
def weights() -> Any:
    form = {k: request.form.get(k, "") for k in WEIGHT_FIELDS}
    try:
        performance.update_weights(ctx(), principal(), form)
    except InvalidForm as error:
        return _page("performance", weight_form=form, weight_errors=error.field_errors, status=422)
    flash(_("The performance weights were saved."), "success")
    return redirect(url_for("indicators.performance_page"))


@bp.get("/<any(ratings, performance):page>/export.<any(csv, xlsx):kind>")
@staff_required
def download(page: str, kind: str) -> Any:
    args = _args(page)
    filters, errors = _filters(args)
    if filters is None:
        abort(400)
    try:
        result, sheet = _answer(page, filters)
    except Forbidden:
        abort(403)
    except DomainError:
        abort(400)
    name = f"statistics-{page}-{filters.since.isoformat()}-{filters.until.isoformat()}.{kind}"
    return attachment(sheet, kind, name, result["filters"])


def attachment(sheet: Sheet, kind: str, name: str, about: dict[str, Any]) -> Response:
    if kind == "csv":
        body, mimetype = export.to_csv(sheet), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(sheet, about)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _page(page: str, weight_form: dict[str, str] | None = None, weight_errors: dict[str, list[str]] | None = None,
          status: int = 200) -> Any:
    args = _args(page)
    filters, errors = _filters(args)
    result = sheet = None
    if filters is not None:
        try:
            result, sheet = _answer(page, filters)
        except Forbidden:
            abort(403)
        except DomainError as error:
            errors.update({str(d.get("field") or "_"): d["message"] for d in error.as_errors()})
    current = performance.get_weights(ctx(), principal())
    return render_template(
        "statistics/indicators.html", page=page, pages=PAGES, args=args, errors=errors, result=result,
        sheet=sheet, chart=chart(page, result) if result else None, query={k: v for k, v in args.items() if v},
        by_names=BY_NAMES, period_names=PERIOD_NAMES, channel_names=CHANNEL_NAMES,
        definitions=indicators.DEFINITIONS, formula=performance.FORMULA, weight_fields=WEIGHT_FIELDS,
        weights=weight_form or {k: str(v) for k, v in current.as_dict().items()}, weight_errors=weight_errors or {},
        head_department=None if principal().sees_everything else principal().department,
    ), 400 if errors else status


def _answer(page: str, filters: Filters) -> tuple[dict[str, Any], Sheet]:
    if page == "ratings":
        result = indicators.ratings(ctx(), principal(), filters)
        return result, indicator_sheets.ratings_sheet(result)
    result = performance.scores(ctx(), principal(), filters)
    return result, indicator_sheets.performance_sheet(result)


def _args(page: str) -> dict[str, str]:
    args = {k: "" for k in FIELDS["ratings"]}
    args.update({k: (request.args.get(k) or "").strip()[:64] for k in FIELDS[page]})
    return args


def _filters(args: dict[str, str]) -> tuple[Filters | None, dict[str, str]]:
    """Filters from the query string, or readable messages per field."""
    errors: dict[str, str] = {}
    since, until = queries.default_range(ctx().clock.now().astimezone(CHINA_TZ).date())
    dates = {}
    for key, default in (("from", since), ("to", until)):
        try:
            dates[key] = date_arg(args[key]) if args[key] else default
        except ValueError:
            errors[key] = _("Enter a date as YYYY-MM-DD.")
    for key, allowed in (("period", PERIODS), ("by", DIMENSIONS), ("channel", STAT_CHANNELS)):
        if args[key] and args[key] not in allowed:
            errors[key] = _("Choose one of the offered values.")
    if errors:
        return None, errors
    return Filters(since=dates["from"], until=dates["to"], period=args["period"] or "month", by=args["by"] or None,
                   department=args["department"] or None, item=args["item"] or None, officer=args["officer"] or None,
                   channel=args["channel"] or None, window=args["window"] or None), errors


def chart(page: str, result: dict[str, Any]) -> dict[str, Any]:
    """What static/js/statistics.js draws, read from the same answer as the table."""
    if page == "performance":
        rows = [r for r in result["rows"] if r["score"] is not None]
        return {"type": "bar", "title": str(PAGES[page]), "categories": [r["label"] for r in rows],
                "series": [{"name": label, "data": [r[key] for r in rows]}
                           for key, label in indicator_sheets.PERFORMANCE_COLUMNS if key in (*performance.COMPONENTS,
                                                                                               "score")]}
    rows = result["rows"]
    categories = [f"{r['period']} {r['label']}" if result["filters"]["by"] else r["period"] for r in rows]
    return {"type": "bar", "title": str(PAGES[page]), "categories": categories,
            "series": [{"name": label, "data": [indicator_sheets.percent(r[key]) for r in rows]}
                       for key, label in indicator_sheets.RATE_COLUMNS]}
