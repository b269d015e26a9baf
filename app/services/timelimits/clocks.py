"""Case clocks (办理时限): started and stopped by the case's milestones, kept in step with the calendar.

| clock    | starts at                                   | limit                                   | stops at            |
|----------|---------------------------------------------|-----------------------------------------|---------------------|
| notice   | receipt, and a resubmission after correction | 5 working days (Art. 32)                | correction notice, acceptance, refusal |
| decision | acceptance (or deemed acceptance: receipt)  | the item's promised limit; statutory shown beside it (Art. 42) | decision, refusal |
| step     | a user task with `timeLimit` (e.g. `7wd`)   | the BPMN property                       | the task's end      |
| issuance | the decision                                | 10 working days (Art. 44)               | issuance            |

`after_step` runs inside every engine step's transaction (the step hook wired in wiring.build_context). A clock's
`next_check_at` is the moment its level next changes; the scheduler (clock_sweep) claims clocks by it.
Each open task's `due_at` (the inbox deadline) is its own step limit or the case clock that binds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Alarm, CaseClock, ClockExtension, HumanTask, Item, ItemTerms, case_terms
from app.models.case import FINAL_STATUSES, Case
from app.services.context import ServiceContext
from app.services.events import log_event
from app.timelimits import Limit, deadline, status
from app.workdays import WorkCalendar, parse_limit, start_of_day

NOTICE_LIMIT = 5  # 《行政许可法》 Art. 32
ISSUANCE_LIMIT = 10  # Art. 44
CASE_CLOCKS = ("notice", "decision", "issuance")
TaskDeadline = tuple[datetime | None, datetime | None]  # a task's (due_at, yellow_at)
NO_DEADLINE: TaskDeadline = (None, None)


@dataclass(frozen=True)
class Thresholds:
    ratio: float = 0.8
    days: int = 1

    @classmethod
    def of(cls, item: Item | ItemTerms | None, properties: dict[str, Any] | None = None) -> Thresholds:
        props = properties or {}
        ratio = _float(props.get("yellowRatio")) or (item.yellow_ratio if item else None) or 0.8
        days = _int(props.get("yellowDays"))
        if days is None:
            days = item.yellow_days if item and item.yellow_days is not None else 1
        return cls(min(max(ratio, 0.0), 1.0), max(days, 0))


def limit_of(clock: CaseClock) -> Limit:
    return Limit(clock.started_at, clock.limit_value, clock.unit, clock.extended_by, clock.suspended_days,
                 clock.yellow_ratio, clock.yellow_days)


def statutory_deadline(cal: WorkCalendar, clock: CaseClock) -> datetime | None:
    """The statutory limit's (法定时限) deadline, counted like the promised one: same start, same suspended
    days and extension; None for a clock without a statutory limit."""
    if clock.statutory_limit is None:
        return None
    return deadline(cal, replace(limit_of(clock), limit_value=clock.statutory_limit))


def start_clock(s: Session, cal: WorkCalendar, case: Case, kind: str, started_at: datetime, limit: int,
                unit: str, now: datetime, thresholds: Thresholds, *, statutory: int | None = None,
                task_id: str | None = None, name: str = "", department: str | None = None) -> CaseClock:
    clock = CaseClock(case_id=case.id, kind=kind, task_id=task_id, name=name, department=department,
                      started_at=started_at, limit_value=limit, unit=unit, statutory_limit=statutory,
                      yellow_ratio=thresholds.ratio, yellow_days=thresholds.days, extended_by=0,
                      suspended_days=0, state="running", level="green", generation=0)
    refresh(cal, clock, now)
    s.add(clock)
    return clock


def refresh(cal: WorkCalendar, clock: CaseClock, now: datetime) -> str | None:
    """Recompute deadline, level and next check of a running clock; returns the new level if it changed."""
    st = status(cal, limit_of(clock), now)
    if clock.deadline is not None and clock.deadline != st.deadline:
        clock.generation = (clock.generation or 0) + 1
    clock.deadline, clock.provisional = st.deadline, st.provisional
    if clock.state != "running":
        clock.next_check_at = None
        return None
    clock.next_check_at = st.next_change
    changed = st.level if st.level != (clock.level or "green") else None
    clock.level = st.level
    return changed


def stop(s: Session, clocks: Iterable[CaseClock], now: datetime) -> None:
    ids = []
    for clock in clocks:
        if clock.state == "stopped":
            continue
        clock.state, clock.stopped_at, clock.next_check_at = "stopped", now, None
        clock.on_time = clock.deadline is None or now <= clock.deadline
        ids.append(clock.id)
    if ids:
        s.execute(update(Alarm).where(Alarm.clock_id.in_(ids), Alarm.cleared_at.is_(None)).values(cleared_at=now),
                  execution_options={"synchronize_session": False})


def running(s: Session, case_id: int) -> list[CaseClock]:
    return list(s.scalars(select(CaseClock).where(CaseClock.case_id == case_id, CaseClock.state != "stopped")
                          .order_by(CaseClock.id)))


# -- the case's milestones ---------------------------------------------------------------------------

def after_step(ctx: ServiceContext, s: Session, case: Case, before: str | None, reached: list[str],
               new_tasks: list[Any], gone_tasks: set[str], now: datetime) -> dict[str, TaskDeadline]:
    """Start and stop clocks for what this step did, before its task rows are written.

    `new_tasks`: the UserTaskViews that open now. Returns each new task's deadline and yellow moment (its
    step limit's, else the case clock's that binds it); tasks that stay open follow a changed case clock here.
    One query on the common step (the case's running clocks), none when nothing opened or ended.
    """
    if not (before is None or reached or gone_tasks or new_tasks):
        return {}
    cal = ctx.calendar.get(s)
    clocks = [] if before is None else running(s, case.id)
    by_kind = {c.kind: c for c in clocks if c.kind in CASE_CLOCKS}
    binding_before = _binding(by_kind)
    # A case the system started for itself (channel internal: 差评整改) received no application to answer.
    if (before is None or ("submitted" in reached and before == "correction")) and case.channel != "internal":
        by_kind["notice"] = start_clock(s, cal, case, "notice", now, NOTICE_LIMIT, "wd", now,
                                        Thresholds.of(case_terms(case)), department=_department(case.item))
    for status_ in reached:
        _on_status(s, cal, case, status_, by_kind, now)
    steps = {c.task_id: c for c in clocks if c.kind == "step" and c.state != "stopped"}
    stop(s, [steps.pop(t) for t in gone_tasks if t in steps], now)
    for view in new_tasks:
        parsed = _step_limit(view)
        if parsed:
            steps[view.id] = start_clock(s, cal, case, "step", now, parsed[0], parsed[1], now,
                                         Thresholds.of(case_terms(case), view.properties), task_id=view.id,
                                         name=view.name or view.key, department=view.department)
    if case.status in FINAL_STATUSES:  # withdrawn, or ended by an end event without a status of its own
        stop(s, [*by_kind.values(), *steps.values()], now)
        by_kind.clear()
        steps.clear()
    binding = _binding(by_kind)
    if binding != binding_before and before is not None:  # the open tasks without a limit of their own
        s.execute(update(HumanTask).where(HumanTask.case_id == case.id, HumanTask.id.not_in(list(steps) or [""]),
                                          HumanTask.id.not_in(list(gone_tasks) or [""]))
                  .values(due_at=binding[0], yellow_at=binding[1]), execution_options={"synchronize_session": False})
    return {v.id: task_deadline(steps[v.id]) if v.id in steps and steps[v.id].state == "running" else binding
            for v in new_tasks}


def binding_clock(by_kind: dict[str, CaseClock]) -> CaseClock | None:
    """The clock a task without a step limit works to: the running case clock that ends first."""
    return min((c for c in by_kind.values() if c.state == "running" and c.deadline), key=lambda c: c.deadline,
               default=None)


def task_deadline(clock: CaseClock | None) -> TaskDeadline:
    """What a task working to a running `clock` carries: its deadline, and from when its light is yellow by the
    clock's own thresholds. A green clock's next check is its yellow moment; a clock already yellow (or red)
    is yellow since some moment before now, and its start is one."""
    if clock is None:
        return NO_DEADLINE
    return clock.deadline, clock.next_check_at if clock.level == "green" else clock.started_at


def _binding(by_kind: dict[str, CaseClock]) -> TaskDeadline:
    return task_deadline(binding_clock(by_kind))


def _on_status(s: Session, cal: WorkCalendar, case: Case, reached: str, by_kind: dict[str, CaseClock],
               now: datetime) -> None:
    """`case.item` is read only where a clock starts: the common step needs no item."""
    if reached in ("correction", "accepted", "refused") and "notice" in by_kind:
        stop(s, [by_kind.pop("notice")], now)
    if reached == "accepted" and "decision" not in by_kind:
        by_kind["decision"] = start_decision(s, cal, case, case_terms(case), case.accepted_at or now, now)
    if reached in ("decided", "refused") and "decision" in by_kind:
        stop(s, [by_kind.pop("decision")], now)
        # A request the head never answered has nothing left to extend (the terminate end event of the
        # reference models also removes its task from the head's inbox).
        s.execute(update(ClockExtension).where(ClockExtension.case_id == case.id, ClockExtension.state == "requested")
                  .values(state="lapsed", decided_at=now), execution_options={"synchronize_session": False})
    if reached == "decided":
        by_kind["issuance"] = start_clock(s, cal, case, "issuance", case.decided_at or now, ISSUANCE_LIMIT, "wd",
                                          now, Thresholds.of(case_terms(case)), department=_department(case.item))
    if reached == "issued" and "issuance" in by_kind:
        stop(s, [by_kind.pop("issuance")], now)


def start_decision(s: Session, cal: WorkCalendar, case: Case, item: Item | ItemTerms, started_at: datetime,
                   now: datetime) -> CaseClock:
    unit = item.limit_unit if item.limit_unit in ("wd", "d") else "wd"
    return start_clock(s, cal, case, "decision", started_at, item.promised_limit, unit, now, Thresholds.of(item),
                       statutory=item.statutory_limit, department=_department(item))


def _step_limit(view: Any) -> tuple[int, str] | None:
    return parse_limit((getattr(view, "properties", None) or {}).get("timeLimit"))


def _department(item: Item | ItemTerms | None) -> str | None:
    return item.department.code if item is not None and item.department is not None else None


def decision_deadline(s: Session, case_id: int) -> tuple[datetime, bool] | None:
    """The decision limit's deadline as it stands (extended, suspended days added) and whether it is
    provisional; None before acceptance."""
    row = s.execute(select(CaseClock.deadline, CaseClock.provisional)
                    .where(CaseClock.case_id == case_id, CaseClock.kind == "decision", CaseClock.deadline.is_not(None))
                    .order_by(CaseClock.id.desc()).limit(1)).first()
    return (row[0], bool(row[1])) if row else None


# -- inbox deadlines ---------------------------------------------------------------------------------

def sync_task_due(s: Session, case_id: int) -> None:
    """Each open task's deadline and yellow moment: its own step limit's if running, else the earliest
    running case clock's (for changes outside an engine step: special procedures, extensions, calendar
    changes)."""
    clocks = running(s, case_id)
    steps = {c.task_id: task_deadline(c) for c in clocks if c.kind == "step" and c.state == "running"}
    binding = _binding({c.kind: c for c in clocks if c.kind in CASE_CLOCKS})
    s.execute(update(HumanTask).where(HumanTask.case_id == case_id, HumanTask.id.not_in(list(steps) or [""]))
              .values(due_at=binding[0], yellow_at=binding[1]), execution_options={"synchronize_session": False})
    for task_id, (due, yellow) in steps.items():
        s.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due, yellow_at=yellow),
                  execution_options={"synchronize_session": False})


# -- calendar changes --------------------------------------------------------------------------------

def recompute_deadlines(ctx: ServiceContext, s: Session, since: date, now: datetime,
                        actor_id: int | None = None) -> int:
    """After a calendar change from `since` on: recompute every open clock counted in days (a natural-day
    limit ending on a holiday moves on too) whose deadline reaches that day; log each moved deadline on its case. Returns how many deadlines moved."""
    ctx.calendar.invalidate()
    cal = ctx.calendar.get(s)
    moved = 0
    touched: set[int] = set()
    query = (select(CaseClock).where(CaseClock.state != "stopped", CaseClock.unit.in_(("wd", "d")),
                                     CaseClock.deadline >= start_of_day(since))
             .order_by(CaseClock.id))
    for clock in s.scalars(query):
        old = clock.deadline
        refresh(cal, clock, now)
        if clock.deadline != old:
            moved += 1
            touched.add(clock.case_id)
            log_event(s, clock.case_id, now, "deadline_moved", actor_id, message=f"calendar:{clock.kind}",
                      data_before={"deadline": old.isoformat() if old else None, "clock": clock.kind},
                      data_after={"deadline": clock.deadline.isoformat() if clock.deadline else None,
                                  "provisional": clock.provisional})
    s.flush()
    for case_id in touched:
        sync_task_due(s, case_id)
    return moved


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
