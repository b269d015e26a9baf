"""The scheduler's rating job: remind once after the delay, close each window after N working days.

Work is found by the indexed `rating_requests` (state, remind_at / expires_at), never by scanning cases.
Each batch is one transaction: claim due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
schedulers take disjoint rows; SQLite's write lock serializes them), handle each in its own savepoint,
commit. A reminder is sent once: its row's `remind_at` is cleared with it, and the message's dedupe key
(case, event) is a second guard. A row whose handling fails rolls back to its savepoint alone, is logged
and postponed by RETRY, and the others go on. Closing comes first, so a scheduler that was down for
days does not remind anyone of a window that has already closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Rating, RatingRequest, ServiceWindow, WindowVisit
from app.services.context import ServiceContext

from . import invite, rules

BATCH = 50  # savepoints per transaction stay below PostgreSQL's 64 cached subtransactions
RETRY = timedelta(hours=1)
log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    reminded: int = 0
    expired: int = 0
    failed: int = 0


def sweep_ratings(ctx: ServiceContext, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """Close every window due by `now` (未评 or the default level), then send the due reminders."""
    now = now or ctx.clock.now()
    result = SweepResult()
    _run(ctx, now, batch, RatingRequest.expires_at, _expire, result, "expired")
    _run(ctx, now, batch, RatingRequest.remind_at, _remind, result, "reminded")
    return result


def _run(ctx: ServiceContext, now: datetime, batch: int, due: object,
         act: Callable[[ServiceContext, Session, RatingRequest, datetime], None], result: SweepResult,
         counter: str) -> None:
    skip: set[int] = set()
    while True:
        with ctx.uow(write=True) as uow:
            s = uow.session
            query = (select(RatingRequest).where(RatingRequest.state == "open", due <= now)  # type: ignore[operator]
                     .order_by(due).limit(batch))
            if skip:
                query = query.where(RatingRequest.id.not_in(skip))
            if ctx.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            claimed = list(s.scalars(query))
            for request in claimed:
                try:
                    with s.begin_nested():
                        act(ctx, s, request, now)
                    setattr(result, counter, getattr(result, counter) + 1)
                except Exception:  # noqa: BLE001  (one request's failure never stops the others)
                    log.exception("scheduler ratings: request %s failed, retried in %s", request.id, RETRY)
                    result.failed += 1
                    skip.add(request.id)
                    _postpone(s, request, now)
            uow.commit()
        if len(claimed) < batch:
            return


def _postpone(s: Session, request: RatingRequest, now: datetime) -> None:
    try:
        with s.begin_nested():
            if request.remind_at is not None and request.remind_at <= now:
                request.remind_at = now + RETRY
            if request.expires_at <= now:
                request.expires_at = now + RETRY
    except Exception:  # noqa: BLE001  (left to the next tick)
        log.exception("scheduler ratings: request %s could not be postponed", request.id)


def _expire(ctx: ServiceContext, s: Session, request: RatingRequest, now: datetime) -> None:
    """The window closed unrated: a `defaulted` rating (level None = 未评, or the centre's default)."""
    level = rules.current(s).default_level
    where: dict[str, int | None] = {"case_id": request.case_id}
    if request.case_id is not None:
        case = s.get_one(Case, request.case_id)
        where.update(item_id=case.item_id, department_id=case.item.department_id if case.item else None)
    if request.visit_id is not None:
        visit = s.get_one(WindowVisit, request.visit_id)
        window = s.get(ServiceWindow, visit.window_id)
        where.update(visit_id=visit.id, case_id=None, window_id=visit.window_id, officer_id=visit.clerk_id,
                     department_id=window.department_id if window else None)
    s.add(Rating(request_id=request.id, seq=1, channel=request.channel, kind="defaulted", level=level,
                 dimensions={}, reasons=[], comment="", rated_by_id=None, rated_at=now, **where))
    request.state, request.remind_at = "expired", None
    s.flush()


def _remind(ctx: ServiceContext, s: Session, request: RatingRequest, now: datetime) -> None:
    if request.case_id is not None and now < request.expires_at:
        invite.tell(ctx, s, now, s.get_one(Case, request.case_id), request, "rating_reminder")
        request.reminded_at = now
    request.remind_at = None
    s.flush()
