"""The inbox: views with counts, filters, search, sorting, pagination; claim, unclaim, bulk claim and a
head's reassignment."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, Forbidden, InvalidInput
from app.services.casework.tasks import claim_task, unclaim_task
from app.services.paging import MAX_PER_PAGE
from app.services.workbench import assignment
from app.services.workbench import inbox as service

from ..formjs import localized
from ..params import page_arg, strict_int
from ..session import ctx, principal, staff_required
from . import bp
from .common import reason, safe_next

VIEW_LABELS = {
    "mine": _l("Assigned to me"), "group": _l("To claim in my department"), "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"), "done": _l("Done by me"), "department": _l("All of my department"),
}
SORT_LABELS = {"deadline": _l("Deadline, earliest first"), "-deadline": _l("Deadline, latest first"),
               "received": _l("Received, oldest first"), "-received": _l("Received, newest first")}


@bp.get("/inbox")
@staff_required
def inbox() -> Any:
    me = principal()
    args = request.args
    view = args.get("view") or service.default_view(ctx(), me)
    query = service.InboxQuery(
        view=view, item=args.get("item") or None, department=args.get("department") or None,
        step=args.get("step") or None, q=(args.get("q") or "").strip() or None,
        sort=args.get("sort") or "deadline", page=page_arg(args),
        per_page=strict_int(args.get("per_page"), 1, MAX_PER_PAGE) or 20)
    try:
        page = service.inbox(ctx(), me, query)
    except Forbidden:
        abort(403)
    except InvalidInput:
        abort(400)
    colleagues = assignment.colleagues(ctx(), me, [r.task_id for r in page.rows if r.task_id and
                                                r.department == me.department]) if view != "done" else {}
    views = [v for v in service.VIEWS if v != "department" or page.is_head]
    return render_template(
        "staff/inbox.html", page=page, query=query, views=views, view_labels=VIEW_LABELS,
        sort_labels=SORT_LABELS, filters=service.filters(ctx(), me), colleagues=colleagues,
        args={**{k: v for k, v in args.items() if k != "page" and v}, "view": view})


@bp.post("/inbox/claim")
@staff_required
def claim_selected() -> Any:
    back = safe_next(url_for(".inbox"))
    ids = request.form.getlist("task_ids")
    if not ids:
        flash(_("Choose the tasks to claim first."), "error")
        return redirect(back)
    try:
        outcomes = assignment.claim_many(ctx(), principal(), ids)
    except InvalidInput as error:
        flash(" ".join(localized(d["message"]) for d in error.as_errors()), "error")
        return redirect(back)
    claimed = [o for o in outcomes if o.ok]
    if claimed:
        flash(_("Claimed %(n)s task(s): %(cases)s.", n=len(claimed), cases=", ".join(str(o.case_no) for o in claimed)),
              "success")
    for o in outcomes:
        if not o.ok:
            flash(_("Not claimed: %(case)s — %(reason)s.", case=o.case_no or o.task_id, reason=reason(o.reason or "")),
                  "error")
    return redirect(back)


@bp.post("/tasks/<task_id>/claim")
@staff_required
def claim(task_id: str) -> Any:
    back = safe_next(url_for(".task", task_id=task_id))
    try:
        done = claim_task(ctx(), principal(), task_id)
    except DomainError as error:
        flash(_("The task was not claimed: %(reason)s.", reason=reason(error)), "error")
        return redirect(back)
    flash(_("You have claimed “%(step)s” of case %(case)s.", step=done["name"], case=done["case_no"]), "success")
    return redirect(back)


@bp.post("/tasks/<task_id>/unclaim")
@staff_required
def unclaim(task_id: str) -> Any:
    back = safe_next(url_for(".inbox"))
    try:
        done = unclaim_task(ctx(), principal(), task_id)
    except DomainError as error:
        flash(_("The task was not given back: %(reason)s.", reason=reason(error)), "error")
        return redirect(back)
    flash(_("“%(step)s” of case %(case)s is back with its group.", step=done["name"], case=done["case_no"]), "success")
    return redirect(back)


@bp.post("/tasks/<task_id>/reassign")
@staff_required
def reassign(task_id: str) -> Any:
    if not service.is_head(principal()):
        abort(403)  # the page never offers it: only a department head reassigns
    back = safe_next(url_for(".inbox"))
    username = request.form.get(f"assignee-{task_id}") or request.form.get("assignee") or ""
    if not username:
        flash(_("Choose the colleague to give the task to."), "error")
        return redirect(back)
    try:
        done = assignment.reassign(ctx(), principal(), task_id, username)
    except DomainError as error:
        message = "; ".join(localized(str(d.get("message", ""))) for d in error.as_errors())
        flash(_("The task was not reassigned: %(reason)s.", reason=message), "error")
        return redirect(back)
    flash(_("Case %(case)s: the task is now with %(name)s.", case=done["case_no"], name=done["assignee_name"]),
          "success")
    return redirect(back)
