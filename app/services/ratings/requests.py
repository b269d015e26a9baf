"""The rating window each finished case (一事一评) or window visit (一次一评) opens.

Its row carries what the scheduler looks for: `remind_at` (served + the reminder delay, cases only: a
visit's rater is anonymous) and `expires_at` (the end of the N-th working day after the service). A
reminder that would fall after the window closes is not planned at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, RatingRequest, WindowVisit
from app.services.context import ServiceContext
from app.workdays import end_of_day

from . import rules

# 办结: a decision was made and the case ended; a withdrawn application was never served to the end.
FINISHED = ("issued", "closed", "refused")


def closes_at(ctx: ServiceContext, s: Session, served_at: datetime, window_days: int) -> datetime:
    """The end of the `window_days`-th working day after `served_at` (the service day does not count)."""
    return end_of_day(ctx.calendar.get(s).add_workdays(served_at, window_days))


def open_for_case(s: Session, ctx: ServiceContext, now: datetime, case: Case) -> RatingRequest | None:
    """The case's rating window, opened now unless it is open already; None when it already was."""
    if s.scalar(select(RatingRequest.id).where(RatingRequest.case_id == case.id)) is not None:
        return None
    current = rules.current(s)
    expires = closes_at(ctx, s, now, current.window_days)
    remind = now + timedelta(hours=current.reminder_hours)
    request = RatingRequest(case_id=case.id, channel="online", served_at=now, expires_at=expires,
                            remind_at=remind if remind < expires else None, state="open")
    s.add(request)
    s.flush()
    return request


def open_for_visit(s: Session, ctx: ServiceContext, now: datetime, visit: WindowVisit) -> RatingRequest:
    current = rules.current(s)
    request = RatingRequest(visit_id=visit.id, channel="window", served_at=visit.served_at, remind_at=None,
                            expires_at=closes_at(ctx, s, visit.served_at, current.window_days), state="open")
    s.add(request)
    s.flush()
    return request
