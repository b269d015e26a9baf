"""The counter's own printable pages (存档回执单, 审批签批表): read from the case as it stands, staff only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, render_template
from flask_login import login_required

from app.clock import CHINA_TZ
from app.errors import CaseNotFound
from app.forms import FormDefinition
from app.services.documents import counter
from app.services.workbench import case_pages

from ..formjs import answers, form_view
from ..ratings import visit_qr
from ..session import ctx, principal
from . import bp, doc_date, doc_datetime


@bp.get("/cases/<case_no>/archive-receipt")
@login_required
def archive_receipt(case_no: str) -> Any:
    """存档回执单: what the window filed, for the case's file and the applicant's copy."""
    try:
        receipt = counter.archive_receipt(ctx(), principal(), case_no)
    except CaseNotFound:
        abort(404)
    return render_template("documents/archive_receipt.html", doc=receipt, f=receipt.facts,
                           rating_qr=visit_qr(case_no), **_helpers())


@bp.get("/cases/<case_no>/signoff")
@login_required
def signoff(case_no: str) -> Any:
    """审批签批表: every completed step's officer, opinion and time."""
    try:
        sheet = counter.signoff_sheet(ctx(), principal(), case_no)
        forms = case_pages.step_forms(ctx(), principal(), case_no)
    except CaseNotFound:
        abort(404)
    opinions = {step.event_id: _labelled(step.data, forms.get(step.event_id)) for step in sheet.steps}
    return render_template("documents/signoff.html", doc=sheet, f=sheet.facts, opinions=opinions, **_helpers())


def _labelled(data: dict[str, Any], form: FormDefinition | None) -> list[tuple[str, str]]:
    """The step's conclusion and opinion as the form labels them (option labels, not codes)."""
    opinion = counter.opinion_of(data, form)
    if form is None:
        return [(k, str(v)) for k, v in opinion.items()]
    return answers(form_view(form, opinion, None, {}))


def _helpers() -> dict[str, Any]:
    return {"doc_date": doc_date, "doc_datetime": lambda moment: doc_datetime(_china(moment))}


def _china(moment: datetime | None) -> datetime | None:
    """Stored moments are UTC (naive ones from SQLite too); documents show China time."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CHINA_TZ)
