"""Electronic supervision pages (电子监察): the supervisor's dashboard, supervision orders (督办单) — the
list, the issue form (supervisors), an order with its reply form (the department's head or approver)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.services.paging import FIRST_DATE, LAST_DATE
from app.services.timelimits import dashboard, supervision
from app.workdays import as_date

from .formjs import localized
from .params import DateOutOfRange, date_arg, page_arg
from .session import ctx, principal, roles_required, staff_required
from .staff.common import CLOCK_NAMES

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

STATE_NAMES = {"open": _l("Awaiting reply"), "replied": _l("Replied"), "closed": _l("Closed")}
LEVEL_NAMES = {"green": _l("Green"), "yellow": _l("Yellow"), "red": _l("Red")}


@bp.get("/")
@roles_required("supervisor")
def index() -> Any:
    context = ctx()
    today = as_date(context.clock.now())
    date_from, date_to, errors = _range(today)
    department, item = request.args.get("department") or None, request.args.get("item") or None
    page = page_arg(request.args)
    board = dashboard.supervision_dashboard(context, principal(), date_from, date_to, department, item, page)
    return render_template("supervision/dashboard.html", board=board, errors=errors,
                           options=dashboard.filter_options(context), level_names=LEVEL_NAMES,
                           clock_names=CLOCK_NAMES, args={"from": date_from.isoformat(), "to": date_to.isoformat(),
                                                          "department": department or "", "item": item or ""}), \
        400 if errors else 200


@bp.get("/orders")
@staff_required
def orders() -> Any:
    return _orders_page({}, {})


@bp.post("/orders")
@roles_required("supervisor")
def issue() -> Any:
    form = {k: request.form.get(k, "").strip() for k in ("case_no", "department", "reason", "reply_by")}
    errors: dict[str, str] = {}
    try:
        reply_by = date_arg(form["reply_by"])
    except ValueError as error:
        errors["reply_by"] = _date_message(error)
        reply_by = None
    if not errors:
        try:
            order = supervision.issue_order(ctx(), principal(), form["case_no"], form["department"], form["reason"],
                                            reply_by)  # type: ignore[arg-type]
        except (InvalidInput, NotFound) as error:
            errors = {str(d.get("field") or "case_no"): _field_message(d) for d in error.as_errors()}
        else:
            flash(_("Supervision order issued to %(dept)s for case %(case_no)s.", dept=order["department"],
                    case_no=order["case_no"]), "success")
            return redirect(url_for(".order", order_id=order["id"]))
    return _orders_page(form, errors), 400


@bp.get("/orders/<id:order_id>")
@staff_required
def order(order_id: int) -> Any:
    try:
        found = supervision.get_order(ctx(), principal(), order_id)
    except NotFound:
        abort(404)
    return render_template("supervision/order.html", order=found, state_names=STATE_NAMES)


@bp.post("/orders/<id:order_id>/reply")
@staff_required
def reply(order_id: int) -> Any:
    try:
        supervision.reply_order(ctx(), principal(), order_id, request.form.get("reply", ""))
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except (InvalidInput, Conflict) as error:
        flash("; ".join(localized(str(d.get("message", ""))) for d in error.as_errors()), "error")
        return redirect(url_for(".order", order_id=order_id))
    flash(_("Your reply has been sent."), "success")
    return redirect(url_for(".order", order_id=order_id))


@bp.post("/orders/<id:order_id>/close")
@roles_required("supervisor")
def close(order_id: int) -> Any:
    try:
        supervision.close_order(ctx(), principal(), order_id)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash("; ".join(localized(str(d.get("message", ""))) for d in error.as_errors()), "error")
        return redirect(url_for(".order", order_id=order_id))
    flash(_("The supervision order is closed."), "success")
    return redirect(url_for(".order", order_id=order_id))


def _orders_page(form: dict[str, str], errors: dict[str, str]) -> str:
    state = request.args.get("state") or None
    if state not in STATE_NAMES:
        state = None
    department = request.args.get("department") or None
    page = supervision.list_orders(ctx(), principal(), state, department, page_arg(request.args))
    who = principal()
    return render_template("supervision/orders.html", page=page, state=state, department=department or "",
                           state_names=STATE_NAMES, form=form, errors=errors,
                           may_issue=who.has("supervisor", "admin"), options=dashboard.filter_options(ctx()),
                           tomorrow=(as_date(ctx().clock.now()) + timedelta(days=1)).isoformat())


def _range(today: date) -> tuple[date, date, dict[str, str]]:
    """The dashboard's date range from the query (default: the last 30 days); bad dates fall back."""
    errors: dict[str, str] = {}
    values: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = request.args.get(key, "").strip()
        try:
            values[key] = date_arg(raw) if raw else None
        except ValueError as error:
            errors[key] = _date_message(error)
            values[key] = None
    date_to = values["to"] or today
    date_from = values["from"] or date_to - timedelta(days=30)
    if date_from > date_to:
        errors["from"] = _("The start date must be on or before the end date.")
        date_from = date_to - timedelta(days=30)
    return date_from, date_to, errors


def _date_message(error: ValueError) -> str:
    if isinstance(error, DateOutOfRange):
        return _("Enter a date from %(first)s to %(last)s.", first=FIRST_DATE.isoformat(), last=LAST_DATE.isoformat())
    return _("Enter a date (YYYY-MM-DD).")


def _field_message(detail: dict[str, Any]) -> str:
    field, message = detail.get("field"), str(detail.get("message", ""))
    if field == "department":
        return _("Choose a department that handles this case (%(codes)s).", codes=message.rpartition(": ")[2])
    if field == "reply_by":
        return _("The reply date must be after today.")
    if field == "reason":
        return _("Enter the reason for the order.")
    if field == "case_no" or not field:
        return _("No case with this number.")
    return localized(message)
