"""The scheduler's clock job: fire level changes (yellow, red) and deemed acceptance, exactly once.

Work is found by the indexed `case_clocks.next_check_at`, never by scanning open cases. Each batch is one
transaction: claim due clocks (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent schedulers take
disjoint rows; SQLite's write lock serializes them), act, move `next_check_at` on, commit. An alarm's
unique key is a second guard: a row that somehow fired twice inserts nothing the second time. A
scheduler killed mid-batch rolls back; the rows stay due and the next tick takes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Alarm, Case, CaseClock
from app.services.context import ServiceContext
from app.services.events import log_event
from app.services.timelimits import alarm_notes, alarms, clocks
from app.timelimits import status
from app.workdays import WorkCalendar

BATCH = 500


@dataclass
class SweepResult:
    checked: int = 0
    alarms: int = 0
    deemed: list[str] = field(default_factory=list)


def sweep_clocks(ctx: ServiceContext, now: datetime | None = None, batch: int = BATCH,
                 max_batches: int = 1000) -> SweepResult:
    """Act on every clock due at `now` (default: the clock's now); returns what was done."""
    now = now or ctx.clock.now()
    result = SweepResult()
    busy: set[int] = set()  # notice clocks whose case another transaction holds: next tick
    for _ in range(max_batches):
        with ctx.uow(write=True) as uow:
            claimed = _claim(ctx, uow.session, now, batch, busy)
            if not claimed:
                break
            _act(ctx, uow.session, claimed, now, result, busy)
            uow.commit()
        result.checked += len(claimed)
        if len(claimed) < batch:
            break
    return result


def _claim(ctx: ServiceContext, s: Session, now: datetime, batch: int, busy: set[int]) -> list[CaseClock]:
    query = (select(CaseClock).where(CaseClock.next_check_at <= now, CaseClock.state == "running")
             .order_by(CaseClock.next_check_at).limit(batch))
    if busy:
        query = query.where(CaseClock.id.not_in(busy))
    if ctx.db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    return list(s.scalars(query))


def _act(ctx: ServiceContext, s: Session, claimed: list[CaseClock], now: datetime, result: SweepResult,
         busy: set[int]) -> None:
    cal = ctx.calendar.get(s)
    fired: list[dict[str, Any]] = []
    cleared: list[int] = []
    deemed_now: dict[str, int] = {}
    for clock in claimed:
        due = clock.next_check_at or now
        if clock.kind == "notice" and _overdue(cal, clock, now):
            case_no = _deem_accepted(ctx, s, cal, clock, now)
            if case_no is None:
                busy.add(clock.id)
                continue
            result.deemed.append(case_no)
            deemed_now[case_no] = clock.case_id
            fired.append(_alarm_row(clock, "red", due, now, kind="deemed"))
            continue
        level = clocks.refresh(cal, clock, now)
        if level in ("yellow", "red"):
            fired.append(_alarm_row(clock, level, due, now))
            cleared.append(clock.id)
    if cleared:  # a red alarm supersedes the clock's yellow one
        s.execute(update(Alarm).where(Alarm.clock_id.in_(cleared), Alarm.level == "yellow",
                                      Alarm.cleared_at.is_(None)).values(cleared_at=now),
                  execution_options={"synchronize_session": False})
    inserted = alarms.insert_once(ctx, s, fired)
    result.alarms += len(inserted)
    s.flush()
    for case_no in deemed_now:  # a level change moves no deadline; a deemed acceptance starts a clock
        clocks.sync_task_due(s, deemed_now[case_no])
    alarm_notes.send(s, [a for a in fired if a["key"] in inserted], now)  # only what fired now


def _overdue(cal: WorkCalendar, clock: CaseClock, now: datetime) -> bool:
    return status(cal, clocks.limit_of(clock), now).level == "red"


def _deem_accepted(ctx: ServiceContext, s: Session, cal: WorkCalendar, clock: CaseClock,
                   now: datetime) -> str | None:
    """Art. 32: no correction notice within 5 working days = accepted as of receipt. None if the case is
    locked by a user's step right now (it is tried again on the next tick)."""
    query = select(Case).where(Case.id == clock.case_id)
    if ctx.db.is_postgres:
        query = query.with_for_update(of=Case, skip_locked=True)
    case = s.scalar(query)
    if case is None:
        return None
    received = clock.started_at
    clocks.stop(s, [clock], now)
    clock.level = "red"
    if case.accepted_at is None:
        case.accepted_at = received
    case.deemed_accepted_at = now
    has_decision = s.scalar(select(CaseClock.id).where(CaseClock.case_id == case.id, CaseClock.kind == "decision",
                                                       CaseClock.state != "stopped"))
    if has_decision is None:
        clocks.start_decision(s, cal, case, case.item, received, now)
    log_event(s, case.id, now, "deemed_accepted", None,
              message="逾期未告知补正，自收到申请材料之日起即为受理（《行政许可法》第三十二条）",
              data_after={"accepted_at": received.isoformat()})
    return case.case_no


def _alarm_row(clock: CaseClock, level: str, due: datetime, now: datetime, kind: str = "clock") -> dict[str, Any]:
    return {"key": f"{kind}:{clock.id}:{clock.generation}:{level}", "kind": kind, "level": level,
            "case_id": clock.case_id, "clock_id": clock.id, "department": clock.department,
            "message": f"{clock.kind}:{clock.name}" if clock.name else clock.kind, "due_at": due, "fired_at": now}
