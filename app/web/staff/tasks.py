"""The task page: the case at a glance, its materials, the step's form with its outcome buttons,
comments, history and diagram; completing the step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import DomainError, InvalidForm, ProcessError, TaskAlreadyCompleted, TaskNotFound
from app.forms import FormDefinition
from app.services import portal
from app.services.casework.tasks import complete_task, form_of_task
from app.services.workbench import case_pages as casework
from app.services.workbench import inbox

from ..formjs import form_view, localized, parse_submission, rerender_values
from ..labels import STATUS_NAMES, label
from ..portal.common import ACCEPT, Errors, material_uploads, max_upload_mb, split_errors, upload_store
from ..session import ctx, principal, staff_required
from . import bp
from .cases import case_extras
from .common import reason


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@staff_required
def task(task_id: str) -> Any:
    me = principal()
    try:
        page = casework.task_page(ctx(), me, task_id)
    except casework.TaskCompleted as done:
        flash(_("This task is already completed; here is its case."), "info")
        return redirect(url_for(".case", case_no=done.case_no))
    except (TaskNotFound, TaskAlreadyCompleted):
        abort(404)
    # Only who may complete the step sees its form; a step without a formKey may have inline fields.
    form = _form(task_id) if page.may_work else None
    # Only a case awaiting correction has a correction step: no second lookup for every other task.
    correction = portal.window_correction(ctx(), me, task_id) if page.case["status"] == "correction" else None
    if request.method == "GET":
        return _render(page, form, _prefill(form, page.context), correction=correction)
    if not page.may_work:
        abort(403)  # read only: claimed by someone else, or not offered to this user
    values = rerender_values(form, request.form) if form else None
    if values is not None:  # "add an entry", "remove entry" or Enter: show the form again
        return _render(page, form, values, correction=correction)
    data = parse_submission(form, request.form) if form else {}
    try:
        done = _complete(task_id, data, correction)
    except InvalidForm as error:
        return _render(page, form, data, errors=error.field_errors, correction=correction), 422
    except ProcessError as error:
        message = _("The step could not be completed and the case is unchanged: %(message)s",
                    message=localized(error.message))
        if error.incident_id:
            message += " " + _("(incident no. %(id)s)", id=error.incident_id)
        return _render(page, form, data, problem=message, correction=correction), 422
    except DomainError as error:
        return _render(page, form, data, problem=_("The step was not completed: %(reason)s.",
                                                   reason=reason(error)), correction=correction), 409
    flash(_completed_message(page.task, done), "success")
    return redirect(url_for(".inbox"))


def _complete(task_id: str, data: dict[str, Any], correction: dict[str, Any] | None) -> dict[str, Any]:
    """Complete the step; a walk-in applicant's correction step with the clerk's rescanned files."""
    if correction is None:
        return complete_task(ctx(), principal(), task_id, data)
    return portal.resubmit_at_window(ctx(), principal(), task_id, data,
                                     material_uploads(correction["materials"]), upload_store())


def _form(task_id: str) -> FormDefinition | None:
    """The step's form as deployed with the case's process version (inline fields included); None when
    it cannot be read (the page says so)."""
    try:
        return form_of_task(ctx(), principal(), task_id)
    except ProcessError:
        return None


def _prefill(form: FormDefinition | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Values the process already holds for this form's fields (the application's licence number on
    the reissue step, last round's list on a second preview), as form-js prefills them."""
    if form is None:
        return {}
    tops = {key.split(".")[0] for key in form.field_keys()}
    return {k: v for k, v in data.items() if k in tops and v is not None}


def _render(page: casework.TaskPage, form: FormDefinition | None, values: Mapping[str, Any],
            errors: Mapping[str, list[str]] | None = None, problem: str | None = None,
            correction: dict[str, Any] | None = None) -> str:
    split = split_errors(errors or {}) if correction is not None else Errors(form=dict(errors or {}))
    view = form_view(form, values, split.form, page.context) if form is not None else None
    return render_template("staff/task.html", page=page, task=page.task, case=page.case, view=view,
                           problem=problem, form_missing=page.may_work and bool(page.task.get("form_key")) and form is None,
                           correction=correction, file_errors=split, accept=ACCEPT, max_mb=max_upload_mb(),
                           **case_extras(page.case, page.history))


def _completed_message(task: Mapping[str, Any], done: Mapping[str, Any]) -> str:
    first = _("Case %(case)s: “%(step)s” is done.", case=done["case_no"], step=task["name"])
    steps = done.get("next_tasks", [])
    # Parallel approvals share one name: say which departments are still at it.
    shared = {name for name in (t["name"] for t in steps) if sum(u["name"] == name for u in steps) > 1}
    shared |= {t["name"] for t in steps if t["name"] == task["name"]}  # siblings of the step just done
    departments = dict(inbox.filters(ctx(), principal()).departments) if shared else {}
    following = [f"{t['name']}（{departments.get(t['department'], t['department'])}）"
                 if t["name"] in shared and t.get("department") else t["name"] for t in steps]
    if following:
        return first + " " + _("Next: %(steps)s.", steps="、".join(following))
    return first + " " + _("The case is now: %(status)s.", status=label(STATUS_NAMES, done.get("status")))
