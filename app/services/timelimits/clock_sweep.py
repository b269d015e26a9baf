"""The scheduler's clock job: fire level changes (yellow, red) and deemed acceptance, exactly once.

Work is found by the indexed `case_clocks.next_check_at`, never by scanning open cases. Each batch is one
transaction: claim due clocks (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent schedulers take
disjoint rows; SQLite's write lock serializes them), act on each inside its own savepoint, move
`next_check_at` on, commit. An alarm's unique key is a second guard: a row that somehow fired twice
inserts nothing the second time. A scheduler killed mid-batch rolls back; the rows stay due and the next
tick takes them. A clock whose handling fails (any exception) rolls back to its savepoint alone, gets an
incident on its case and is checked again after `RETRY_AFTER_FAILURE`; the rest of the batch goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Alarm, Case, CaseClock, case_terms
from app.services.casework.timers import RETRY_AFTER_FAILURE, postpone_item
from app.services.claims import claimable
from app.services.context import ServiceContext
from app.services.events import log_event
from app.services.timelimits import alarm_notes, alarms, clocks
from app.timelimits import status
from app.workdays import WorkCalendar

# Each item runs in a savepoint: PostgreSQL caches 64 subtransactions per transaction before every
# session's visibility checks slow down, so a batch stays below that.
BATCH = 50
log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    checked: int = 0
    alarms: int = 0
    deemed: list[str] = field(default_factory=list)
    failed: int = 0  # clocks postponed after a failure
    told: set[tuple[str, int]] = field(default_factory=set)  # (department, case id) the heads heard of


def sweep_clocks(ctx: ServiceContext, now: datetime | None = None, batch: int = BATCH,
                 max_batches: int = 10_000) -> SweepResult:
    """Act on every clock due at `now` (default: the clock's now); returns what was done."""
    now = now or ctx.clock.now()
    result = SweepResult()
    skip: set[int] = set()  # clocks to leave to the next tick: case held by a user's step, or unrecordable
    for _ in range(max_batches):
        with ctx.uow(write=True) as uow:
            claimed = _claim(ctx, uow.session, now, batch, skip)
            if not claimed:
                break
            if not _act_together(ctx, uow.session, claimed, now, result, skip):
                _act(ctx, uow.session, claimed, now, result, skip)  # clock by clock: the bad one is found
            uow.commit()
        result.checked += len(claimed)
        if len(claimed) < batch:
            break
    return result


def _claim(ctx: ServiceContext, s: Session, now: datetime, batch: int, skip: set[int]) -> list[CaseClock]:
    query = (select(CaseClock).where(CaseClock.next_check_at <= now, CaseClock.state == "running")
             .order_by(CaseClock.next_check_at).limit(batch))
    return list(s.scalars(claimable(ctx, query, CaseClock.id, skip)))


def _act_together(ctx: ServiceContext, s: Session, claimed: list[CaseClock], now: datetime,
                  result: SweepResult, skip: set[int]) -> bool:
    """The common case, in one savepoint: the whole batch with one UPDATE and one INSERT of alarms. False,
    with nothing kept, when any clock of it fails: the batch is then done clock by clock (`_act`)."""
    cal = ctx.calendar.get(s)
    rows: list[dict[str, Any]] = []
    cleared: list[int] = []
    deemed: dict[str, int] = {}
    busy: list[int] = []
    try:
        with s.begin_nested():
            for clock in claimed:
                due = clock.next_check_at or now
                if clock.kind == "notice" and _overdue(cal, clock, now):
                    case_no = _deem_accepted(ctx, s, cal, clock, now)
                    if case_no is None:
                        busy.append(clock.id)
                    else:
                        deemed[case_no] = clock.case_id
                        rows.append(_alarm_row(clock, "red", due, now, kind="deemed"))
                    continue
                level = clocks.refresh(cal, clock, now)
                if level in ("yellow", "red"):
                    rows.append(_alarm_row(clock, level, due, now))
                    cleared.append(clock.id)
            if cleared:  # a red alarm supersedes the clock's yellow one (and a recomputed yellow its predecessor)
                s.execute(update(Alarm).where(Alarm.clock_id.in_(cleared), Alarm.level == "yellow",
                                              Alarm.cleared_at.is_(None)).values(cleared_at=now),
                          execution_options={"synchronize_session": False})
            fired = _insert(ctx, s, rows)
            s.flush()
            for case_id in deemed.values():  # a deemed acceptance starts the decision clock
                clocks.sync_task_due(s, case_id)
            for alarm in fired:
                if alarm["kind"] == "deemed":
                    alarm_notes.tell_applicant(s, alarm, now)
    except Exception:  # noqa: BLE001  (redone clock by clock, which records the failing one)
        log.info("scheduler clocks: a batch failed as a whole; acting clock by clock", exc_info=True)
        return False
    skip.update(busy)
    result.alarms += len(fired)
    result.deemed.extend(deemed)
    _tell_heads(s, fired, now, result.told)
    return True


def _act(ctx: ServiceContext, s: Session, claimed: list[CaseClock], now: datetime, result: SweepResult,
         skip: set[int]) -> None:
    cal = ctx.calendar.get(s)
    told: list[dict[str, Any]] = []
    for clock in claimed:
        clock_id, case_id = clock.id, clock.case_id  # plain values: a rolled-back savepoint expires the row
        try:
            with s.begin_nested():
                outcome = _act_on(ctx, s, cal, clock, now)
        except Exception as exc:  # noqa: BLE001  (one bad clock must not stop the batch)
            result.failed += 1
            _postpone(s, clock_id, case_id, now, exc, skip)
            continue
        if outcome is None:
            skip.add(clock_id)
            continue
        fired, case_no = outcome
        result.alarms += len(fired)
        told.extend(fired)
        if case_no:
            result.deemed.append(case_no)
    _tell_heads(s, told, now, result.told)


def _act_on(ctx: ServiceContext, s: Session, cal: WorkCalendar, clock: CaseClock,
            now: datetime) -> tuple[list[dict[str, Any]], str | None] | None:
    """One clock: the alarms it fired now, and the case number if the case was deemed accepted. None if
    its case is locked by a user's step (the next tick tries again)."""
    due = clock.next_check_at or now
    if clock.kind == "notice" and _overdue(cal, clock, now):
        case_no = _deem_accepted(ctx, s, cal, clock, now)
        if case_no is None:
            return None
        fired = _insert(ctx, s, [_alarm_row(clock, "red", due, now, kind="deemed")])
        s.flush()
        clocks.sync_task_due(s, clock.case_id)  # a deemed acceptance starts the decision clock
        for alarm in fired:
            alarm_notes.tell_applicant(s, alarm, now)
        return fired, case_no
    level = clocks.refresh(cal, clock, now)
    if level not in ("yellow", "red"):
        return [], None
    # A red alarm supersedes the clock's yellow one (and a recomputed yellow its predecessor).
    s.execute(update(Alarm).where(Alarm.clock_id == clock.id, Alarm.level == "yellow",
                                  Alarm.cleared_at.is_(None)).values(cleared_at=now),
              execution_options={"synchronize_session": False})
    return _insert(ctx, s, [_alarm_row(clock, level, due, now)]), None


def _insert(ctx: ServiceContext, s: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows inserted now (not fired before)."""
    inserted = alarms.insert_once(ctx, s, rows)
    return [row for row in rows if row["key"] in inserted]


def _postpone(s: Session, clock_id: int, case_id: int, now: datetime, exc: Exception, skip: set[int]) -> None:
    """An incident on the case, and the clock checked again later."""
    postpone_item(s, case_id, now, "clocks", exc, update(CaseClock).where(CaseClock.id == clock_id)
                  .values(next_check_at=now + RETRY_AFTER_FAILURE), "clock", skip, clock_id)


def _tell_heads(s: Session, fired: list[dict[str, Any]], now: datetime, told: set[tuple[str, int]]) -> None:
    try:
        with s.begin_nested():
            alarm_notes.tell_heads(s, fired, now, told)
            alarm_notes.tell_applicants_of_delays(s, fired, now)
    except Exception:  # noqa: BLE001  (the alarms stand and show on the dashboards; only the message is lost)
        log.exception("scheduler clocks: the heads could not be told of alarms %s", [a["key"] for a in fired])


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
        clocks.start_decision(s, cal, case, case_terms(case), received, now)
    log_event(s, case.id, now, "deemed_accepted", None,
              message="逾期未告知补正，自收到申请材料之日起即为受理（《行政许可法》第三十二条）",
              data_after={"accepted_at": received.isoformat()})
    return case.case_no


def _alarm_row(clock: CaseClock, level: str, due: datetime, now: datetime, kind: str = "clock") -> dict[str, Any]:
    return {"key": f"{kind}:{clock.id}:{clock.generation}:{level}", "kind": kind, "level": level,
            "case_id": clock.case_id, "clock_id": clock.id, "department": clock.department,
            "message": f"{clock.kind}:{clock.name}" if clock.name else clock.kind, "due_at": due, "fired_at": now}
