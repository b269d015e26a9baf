"""Notifications (通知) for every signed-in user: the bell in the header, the list, marking read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.errors import NotFound
from app.services.messaging import notifications as service
from app.services.paging import MAX_PAGE

from .params import page_arg, strict_int
from .session import ctx, principal

bp = Blueprint("notifications", __name__)

KIND_NAMES = {
    "alarm": _l("Time-limit alarm"), "deemed_accepted": _l("Deemed accepted"), "extension": _l("Extension"),
    "suspension": _l("Suspension"), "supervision_order": _l("Supervision order"),
    "order_reply": _l("Reply to a supervision order"), "calendar_missing": _l("Working-day calendar"),
    "notice": _l("Notice"),
}


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """`unread_notifications()` for the header: counted once per request, and only if a page asks."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" not in g:
            g.unread_notifications = service.unread_count(ctx(), principal())
        return int(g.unread_notifications)

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required
def index() -> Any:
    unread = request.args.get("unread") == "1"
    page = service.list_notifications(ctx(), principal(), unread=unread, page=page_arg(request.args))
    g.unread_notifications = page.unread  # the header shows the same number without counting again
    return render_template("notifications/index.html", page=page, unread_only=unread, kind_names=KIND_NAMES,
                           case_link=_case_link)


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def read(notification_id: int) -> Any:
    try:
        service.mark_read(ctx(), principal(), notification_id)
    except NotFound:
        abort(404)
    return redirect(_back())


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Any:
    count = service.mark_all_read(ctx(), principal())
    flash(_("Marked %(n)s notification(s) read.", n=count), "success")
    return redirect(_back())


def _case_link(case_no: str | None) -> str | None:
    """Staff open a case's staff page, applicants their own case page."""
    if not case_no:
        return None
    return url_for("staff.case" if principal().is_staff else "portal.case", case_no=case_no)


def _back() -> str:
    """The list again, with its filter and page (only those two: nothing the form could point elsewhere)."""
    args = {k: v for k in ("unread", "page") if (v := strict_int(request.form.get(k), 1, MAX_PAGE)) is not None}
    return url_for(".index", **args)
