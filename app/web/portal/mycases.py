"""My cases: the list, one case with its notices and files, resubmission during correction, withdrawal
before acceptance."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import CaseNotFound, Conflict, InvalidForm, ProcessError
from app.forms import FormDefinition
from app.services import portal as service
from app.services.casework.cases import withdraw_case
from app.services.documents import notices as notice_service

from ..formjs import form_view, localized, parse_submission
from ..session import applicant_required, ctx, principal
from . import bp
from .common import ACCEPT, Errors, material_uploads, max_upload_mb, reuse_choices, split_errors, upload_store


@bp.get("/my/cases")
@applicant_required
def my_cases() -> Any:
    return render_template("portal/my_cases.html", cases=service.my_cases(ctx(), principal()),
                           drafts=service.list_drafts(ctx(), principal()))


@bp.get("/my/cases/<case_no>")
@applicant_required
def case(case_no: str) -> Any:
    found = _own_case(case_no)
    return _case_page(found, _correction_form(found), {}, Errors())


@bp.post("/my/cases/<case_no>/resubmit")
@applicant_required
def resubmit(case_no: str) -> Any:
    found = _own_case(case_no)
    correction = found["correction"]
    if correction is None:
        flash(_("This case is not awaiting correction."), "error")
        return redirect(url_for("portal.case", case_no=case_no))
    form = _correction_form(found)
    data = parse_submission(form, request.form) if form else {}
    try:
        service.resubmit(ctx(), principal(), case_no, data, material_uploads(_resubmit_materials(found)),
                         upload_store(), reuse_choices(_resubmit_materials(found)))
    except InvalidForm as exc:
        return _case_page(found, form, data, split_errors(exc.field_errors), 422)
    except (Conflict, ProcessError) as exc:
        flash(localized(exc.message), "error")
        return redirect(url_for("portal.case", case_no=case_no))
    flash(_("Your corrected materials were submitted."), "success")
    return redirect(url_for("portal.case", case_no=case_no))


@bp.route("/my/cases/<case_no>/withdraw", methods=["GET", "POST"])
@applicant_required
def withdraw(case_no: str) -> Any:
    found = _own_case(case_no)
    if not found["withdrawable"]:
        flash(_("Only applications that are not yet accepted can be withdrawn."), "error")
        return redirect(url_for("portal.case", case_no=case_no))
    if request.method == "POST":
        try:
            withdraw_case(ctx(), principal(), case_no, request.form.get("reason", "").strip()[:2000])
        except CaseNotFound:
            abort(404)
        except Conflict as exc:
            flash(localized(exc.message), "error")
            return redirect(url_for("portal.case", case_no=case_no))
        flash(_("Your application %(case_no)s was withdrawn.", case_no=case_no), "success")
        return redirect(url_for("portal.case", case_no=case_no))
    return render_template("portal/withdraw.html", case=found)


def _own_case(case_no: str) -> dict[str, Any]:
    try:
        return service.my_case(ctx(), principal(), case_no)
    except CaseNotFound:
        abort(404)


def _correction_form(found: dict[str, Any]) -> FormDefinition | None:
    """The correction step's form as deployed with the case's process version; None without a correction
    step or form. A form the version cannot read shows none: submitting then says why."""
    if found["correction"] is None:
        return None
    try:
        return service.correction_form(ctx(), principal(), found["case_no"])
    except CaseNotFound:
        abort(404)
    except ProcessError:
        return None


def _resubmit_materials(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The materials the correction notice lists, or every material if it lists none."""
    listed = {d["material"] for d in found["correction"]["deficiencies"]} if found["correction"] else set()
    return [m for m in found["materials"] if m["name"] in listed] or found["materials"]


def _case_page(found: dict[str, Any], form: FormDefinition | None, values: dict[str, Any], errors: Errors,
               status: int = 200) -> Any:
    correction = found["correction"]
    view = form_view(form, values, errors.form) if correction and form is not None else None
    return render_template(
        "portal/case.html", case=found, notices=_notices(found["case_no"]),
        notice_pages="documents.notice" in current_app.view_functions, correction_view=view,
        resubmit_materials=_resubmit_materials(found) if correction else [], errors=errors, accept=ACCEPT,
        max_mb=max_upload_mb(),
        reuse_offers=service.licence_offers(ctx(), principal(), _resubmit_materials(found)) if correction else {}
    ), status


def _notices(case_no: str) -> list[Any]:
    """The notices received, once the documents service offers them."""
    for_case = getattr(notice_service, "for_case", None)
    if for_case is None:
        return []
    try:
        return list(for_case(ctx(), principal(), case_no))
    except CaseNotFound:
        return []
