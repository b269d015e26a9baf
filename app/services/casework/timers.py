"""Firing due BPMN timers: the scheduler's engine job, and how every scheduler job records a failure.

Each case is handled in its own transaction: claim one due timer row (skipping rows another scheduler
process holds, on PostgreSQL), lock its case, run the engine, save. A crash loses at most the case in
hand, whose transaction rolls back and is picked up again by the next tick. A case whose step fails
(any exception: a script error, state that does not serialize, a limit overrun) rolls back alone, gets an
incident, and its timers wait `RETRY_AFTER_FAILURE`; the other cases go on in the same tick.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Executable, select, update
from sqlalchemy.orm import Session

from app.engine.runtime import EngineFailure
from app.models import EngineTimer, Incident
from app.services.casework.processes import bundle_for
from app.services.casework.steps import lock_case, save_step
from app.services.claims import claimable
from app.services.context import ServiceContext
from app.services.events import log_event
from app.workdays import start_of_day

# A failing item is tried again after this long, not on every tick (each try records an incident).
RETRY_AFTER_FAILURE = timedelta(hours=1)
log = logging.getLogger(__name__)


def fire_due_timers(ctx: ServiceContext, limit: int = 500) -> int:
    """Run the due timers of up to `limit` cases; returns how many cases moved."""
    moved = 0
    skip: set[int] = set()
    for _ in range(limit):
        outcome = _fire_one(ctx, skip)
        if outcome is None:
            break
        moved += outcome
    return moved


def add_job_incident(s: Session, case_id: int, now: datetime, job: str, exc: Exception) -> None:
    """In the caller's transaction: an incident on the case for a scheduler job that failed on it, and a
    log line. Any exception counts, not only engine failures."""
    if isinstance(exc, EngineFailure):
        element, message = exc.element_id, exc.message
    else:
        element, message = None, f"{type(exc).__name__}: {exc}"
    s.add(Incident(case_id=case_id, at=now, element_id=element, message=f"scheduler {job}: {message}"[:4000]))
    log.warning("scheduler %s: case %s failed, retried in %s: %s", job, case_id, RETRY_AFTER_FAILURE, message,
                exc_info=not isinstance(exc, EngineFailure))


def postpone_item(s: Session, case_id: int, now: datetime, job: str, exc: Exception, postpone: Executable,
                  item: str, skip: set[int], item_id: int) -> None:
    """In the batch's transaction, inside a savepoint: an incident on the case and `postpone` (the
    statement that moves the item's next check on by RETRY_AFTER_FAILURE). If even that fails, the item
    is skipped for the rest of this tick and left to the next one; the batch goes on either way."""
    try:
        with s.begin_nested():
            add_job_incident(s, case_id, now, job, exc)
            s.execute(postpone, execution_options={"synchronize_session": False})
    except Exception:  # noqa: BLE001  (left to the next tick; the batch goes on)
        log.exception("scheduler %s: %s %s failed and its failure could not be recorded", job, item, item_id)
        skip.add(item_id)


def _fire_one(ctx: ServiceContext, skip: set[int]) -> int | None:
    """1 if a case moved, 0 if it failed, None when nothing is due."""
    now = ctx.clock.now()
    claimed: list[int] = []
    try:
        return _run_case(ctx, now, skip, claimed)
    except Exception as exc:  # noqa: BLE001  (one case's failure, whatever it is, must not stop the others)
        if not claimed:
            raise  # the claim itself failed: no case to blame, the job fails as a whole
        skip.add(claimed[0])
        _postpone(ctx, claimed[0], exc)
        return 0


def _run_case(ctx: ServiceContext, now: datetime, skip: set[int], claimed: list[int]) -> int | None:
    with ctx.uow(write=True) as uow:
        s = uow.session
        timer = s.scalar(claimable(ctx, select(EngineTimer).where(EngineTimer.due_at <= now)
                                   .order_by(EngineTimer.due_at).limit(1), EngineTimer.case_id, skip))
        if timer is None:
            return None
        claimed.append(timer.case_id)
        case = lock_case(ctx, s, timer.case_id)
        assert case is not None  # the timer row references it
        assert case.process_definition_id is not None and case.engine_state is not None
        bundle = bundle_for(ctx, s, case.process_definition_id)
        workflow = ctx.engine.loads(case.engine_state, bundle)
        # The engine fires a timer once its time has strictly passed; one claimed at exactly its due time
        # would wait a whole tick more. A microsecond past the claimed due time is "now" at the least.
        edge = timer.due_at + timedelta(microseconds=1)
        result = ctx.engine.fire_timers(workflow, lambda: max(ctx.clock.now(), edge))
        save_step(ctx, s, case, workflow, bundle, result, now, None)
        uow.commit()
        skip.add(case.id)
        return 1


def _postpone(ctx: ServiceContext, case_id: int, exc: Exception) -> None:
    """The failed case's transaction rolled back: record the incident and move its timers on, together."""
    try:
        with ctx.uow(write=True) as uow:
            now = ctx.clock.now()
            add_job_incident(uow.session, case_id, now, "engine_timers", exc)
            uow.session.execute(update(EngineTimer).where(EngineTimer.case_id == case_id)
                                .values(due_at=now + RETRY_AFTER_FAILURE))
            uow.commit()
    except Exception:  # noqa: BLE001  (the next tick tries the case again; the others go on now)
        log.exception("scheduler engine_timers: case %s failed and its failure could not be recorded", case_id)


def recount_after_calendar_change(ctx: ServiceContext, s: Session, since: date, now: datetime,
                                  actor_id: int | None = None) -> int:
    """In the caller's transaction: BPMN date timers due from `since` on are evaluated again, since their
    expressions (e.g. `workday_deadline(received_at, 5)`) count on the calendar. Returns timers moved.
    A timer whose expression now fails keeps its due time (logged): a calendar change never fails on it."""
    moved = 0
    case_ids = s.scalars(select(EngineTimer.case_id).where(EngineTimer.due_at >= start_of_day(since))
                         .distinct().order_by(EngineTimer.case_id)).all()
    for case_id in case_ids:
        case = lock_case(ctx, s, case_id)
        if case is None or case.engine_state is None or case.process_definition_id is None:
            continue
        workflow = ctx.engine.loads(case.engine_state, bundle_for(ctx, s, case.process_definition_id))
        try:
            count = ctx.engine.recount_timers(workflow, lambda: now)
        except EngineFailure as failure:
            log.warning("case %s: timer not recounted after a calendar change: %s", case.case_no, failure.message)
            continue
        if not count:
            continue
        moved += count
        old = {t.id: t.due_at for t in s.scalars(select(EngineTimer).where(EngineTimer.case_id == case_id))}
        for view in ctx.engine.timers(workflow):
            if old.get(view.id) != view.due_at:
                s.execute(update(EngineTimer).where(EngineTimer.id == view.id).values(due_at=view.due_at))
                log_event(s, case_id, now, "deadline_moved", actor_id, message=f"calendar:timer:{view.key}",
                          data_before={"deadline": _iso(old.get(view.id))}, data_after={"deadline": _iso(view.due_at)})
        case.engine_state = ctx.engine.dumps(workflow)
    return moved


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
