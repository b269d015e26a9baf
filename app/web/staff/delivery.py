"""Delivery of the licence on the staff case page: record the mail tracking number, record who collected
the licence at the window; and `case_delivery`, the licence and delivery both case pages show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import CaseNotFound
from app.services.licensing import delivery

from ..session import ctx, principal, staff_required
from . import bp
from .common import case_action

FIELDS = {"tracking_no": _l("Tracking number"), "carrier": _l("Carrier"), "collector_name": _l("Collected by"),
          "collector_id_number": _l("ID number of the collector"), "relation": _l("Relation to the applicant")}


def case_delivery(case_no: str) -> delivery.CaseDelivery | None:
    """For the case pages (staff and applicant): None when the viewer may not see the case."""
    try:
        return delivery.for_case(ctx(), principal(), case_no)
    except CaseNotFound:
        return None


bp.add_app_template_global(case_delivery, "case_delivery")


@bp.post("/cases/<case_no>/delivery")
@staff_required
def record_tracking(case_no: str) -> Any:
    form = request.form
    return _act(case_no, lambda: delivery.record_tracking(
        ctx(), principal(), case_no, form.get("carrier", "")[:200], form.get("tracking_no", "")[:200]),
        _("The tracking number is recorded; the applicant is notified."))


@bp.post("/cases/<case_no>/collection")
@staff_required
def record_collection(case_no: str) -> Any:
    form = request.form
    return _act(case_no, lambda: delivery.record_collection(
        ctx(), principal(), case_no, form.get("collector_name", "")[:200], form.get("collector_id_number", "")[:64],
        form.get("relation", "")[:16]), _("The collection is recorded. Print the pickup receipt for signing."))


def _act(case_no: str, act: Callable[[], Any], done: str) -> Any:
    return case_action(case_no, "delivery-title", act, done, FIELDS)
