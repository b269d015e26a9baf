"""The staff case page, comments, and the case's BPMN diagram (XML served after an access check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import CaseNotFound, DomainError, Forbidden
from app.forms import FormDefinition, FormDefinitionError
from app.services.documents import notices
from app.services.timelimits import clock_actions
from app.services.workbench import case_pages as casework

from ..formjs import answers, form_view, localized
from ..params import strict_int
from ..session import ctx, principal, staff_required
from . import bp
from .common import case_action, safe_next


@bp.get("/cases/<case_no>")
@staff_required
def case(case_no: str) -> Any:
    try:
        page = casework.case_page(ctx(), principal(), case_no)
    except (CaseNotFound, Forbidden):
        abort(404)
    found = clock_actions.case_clocks(ctx(), principal(), case_no)
    return render_template("staff/case.html", page=page, case=page.case, clocks=found["clocks"],
                           may_act=found["may_act"], procedures=PROCEDURE_LABELS,
                           extension_states=EXTENSION_STATES, **case_extras(page.case, page.history))


# -- time limits: special procedures and extension ----------------------------------------------------

PROCEDURE_LABELS = {"hearing": _l("Hearing"), "tender": _l("Tendering"), "auction": _l("Auction"),
                    "inspection": _l("Inspection"), "testing": _l("Testing"), "quarantine": _l("Quarantine"),
                    "appraisal": _l("Appraisal"), "expert_review": _l("Expert review")}
EXTENSION_STATES = {"requested": _l("awaiting the department head's approval"), "approved": _l("approved"),
                    "rejected": _l("not approved"), "lapsed": _l("lapsed: decided before the head answered")}
CLOCK_FIELDS = {"procedure": _l("Special procedure"), "expected_days": _l("Expected working days"),
                "reason": _l("Reason for the extension")}


@bp.post("/cases/<case_no>/suspensions")
@staff_required
def start_suspension(case_no: str) -> Any:
    days = strict_int(request.form.get("expected_days"), 0, 99_999) or 0  # the service says what it takes
    return _clock_action(case_no, lambda: clock_actions.start_suspension(
        ctx(), principal(), case_no, request.form.get("procedure", ""), days,
        request.form.get("reason", "").strip()), _("The special procedure has started; the applicant is notified."))


@bp.post("/cases/<case_no>/suspensions/<id:suspension_id>/end")
@staff_required
def end_suspension(case_no: str, suspension_id: int) -> Any:
    return _clock_action(case_no, lambda: clock_actions.end_suspension(ctx(), principal(), case_no, suspension_id),
                         _("The special procedure has ended; the time limit runs again."))


@bp.post("/cases/<case_no>/extensions")
@staff_required
def request_extension(case_no: str) -> Any:
    return _clock_action(case_no, lambda: clock_actions.request_extension(
        ctx(), principal(), case_no, request.form.get("reason", "")[:2000]),
        _("The extension request is with the department head."))


def _clock_action(case_no: str, act: Callable[[], Any], done: str) -> Any:
    return case_action(case_no, "clocks-title", act, done, CLOCK_FIELDS)


@bp.post("/cases/<case_no>/comments")
@staff_required
def comment(case_no: str) -> Any:
    back = safe_next(url_for(".case", case_no=case_no))
    try:
        casework.add_comment(ctx(), principal(), case_no, request.form.get("body", ""),
                             public=request.form.get("public") == "true", task_key=request.form.get("task_key"))
    except (CaseNotFound, Forbidden):
        abort(404)
    except DomainError as error:
        flash("; ".join(localized(str(d.get("message", ""))) for d in error.as_errors()), "error")
        return redirect(back + "#comments")
    flash(_("Your comment has been added."), "success")
    return redirect(back + "#comments")


@bp.get("/cases/<case_no>/diagram.xml")
@staff_required
def diagram(case_no: str) -> Any:
    """The BPMN XML of the case's own process version; the steps done and open in two headers."""
    try:
        found = casework.diagram(ctx(), principal(), case_no)
    except CaseNotFound:
        abort(404)
    response = Response(found.xml, mimetype="application/xml")
    response.headers["X-Diagram-Done"] = " ".join(found.done)
    response.headers["X-Diagram-Current"] = " ".join(found.current)
    response.headers["Cache-Control"] = "private, no-store"
    # Opened directly, the XML is a document on our origin: whatever a designer put in it must not run.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def case_extras(case: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """What the task and case pages both show beside the case: the application as submitted, the
    diagram marks, the notices, and what each completed step entered (with the form's labels)."""
    case_no = case["case_no"]
    try:
        found = casework.diagram(ctx(), principal(), case_no)
    except CaseNotFound:
        found = None
    issued: list[Any] = []
    if hasattr(notices, "for_case"):  # written by the documents area
        try:
            issued = list(notices.for_case(ctx(), principal(), case_no))
        except DomainError:
            issued = []
    try:
        forms = casework.step_forms(ctx(), principal(), case_no)
    except CaseNotFound:
        forms = {}
    return {"diagram": found, "notices": issued, "application": _application(case),
            "entered": _entered(history, forms)}


def _entered(history: list[dict[str, Any]], forms: dict[int, FormDefinition]) -> dict[int, list[tuple[str, str]]]:
    """Per completed-step event, its data as label/value pairs (only where the step's form is known: the
    form of the case's version then, not the forms/ folder's copy)."""
    found: dict[int, list[tuple[str, str]]] = {}
    for event in history:
        form = forms.get(event["id"])
        if event["action"] == "completed" and event.get("data_after") and form is not None:
            found[event["id"]] = answers(form_view(form, event["data_after"], None, {}))
    return found


def _form(key: str | None) -> FormDefinition | None:
    # Only for the item's application form: items name a forms/ file, not a process version's form.
    try:
        return ctx().forms.get(key) if key else None
    except FormDefinitionError:
        return None


def _application(case: dict[str, Any]) -> list[tuple[str, str]]:
    """The application form's answers with their labels (raw keys if the form cannot be read)."""
    data = case.get("application") or {}
    form = _form(case.get("application_form"))
    if form is None:
        return [(str(k), str(v)) for k, v in data.items() if v not in (None, "", [])]
    return answers(form_view(form, data, None, {}))
