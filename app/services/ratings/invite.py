"""一事一评: when a case is finished (办结), its applicant is invited to rate it, in app and by SMS/e-mail
through the milestone messages (admin-editable `rating_invite`), and the case's rating window opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Case, RatingRequest
from app.services.context import ServiceContext
from app.services.messaging import milestones
from app.workdays import as_date

from . import requests


def rate_link(case_no: str) -> str:
    """The applicant's rating page (the web layer serves it; services know it only as a path)."""
    return f"/my/cases/{case_no}/rate"


def public_link(ctx: ServiceContext, path: str) -> str:
    """`path` as someone reading an SMS or e-mail can open it (the site's public address, when set)."""
    return f"{ctx.public_url.rstrip('/')}{path}" if ctx.public_url else path


def on_step(ctx: ServiceContext, session: Session, step: Any) -> None:
    """Step listener (`step` is casework.steps.SavedStep): a case that reached a finished status opens its
    rating window once and tells the applicant, in the step's transaction."""
    if step.case.channel == "internal" or not any(status in requests.FINISHED for status in step.reached):
        return  # a case the system started for itself (差评整改) is not rated
    request = requests.open_for_case(session, ctx, step.now, step.case)
    if request is not None:
        tell(ctx, session, step.now, step.case, request, "rating_invite")


def tell(ctx: ServiceContext, s: Session, now: datetime, case: Case, request: RatingRequest, event: str) -> None:
    """The invitation or the reminder; the dedupe key (case, event) makes each go once. The in-app message
    links within the site; the text (SMS, e-mail) carries the full address."""
    milestones.notify_at(s, now, case, event, fields(ctx, case, request), occurrence=1, link=rate_link(case.case_no))


def fields(ctx: ServiceContext, case: Case, request: RatingRequest) -> dict[str, Any]:
    return {"rating_link": public_link(ctx, rate_link(case.case_no)),
            "rate_by": as_date(request.expires_at).isoformat()}
