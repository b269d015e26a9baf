"""One engine step: lock the case, then save the workflow state and, in the same transaction,
everything read from it; then tell the listeners (clocks, notices, clock actions) that a step happened.

Open user tasks, waiting timers, the case status and milestone times are projections of the workflow;
they are rewritten here after every engine call so that inboxes and the scheduler never need to
deserialize a workflow. The listeners come from `ctx.step_hooks` (wired at start-up), so this module
imports nothing from the contexts that react to a step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, lazyload, undefer

from app.engine.runtime import StepResult, UserTaskView
from app.engine.specs import SpecBundle
from app.models import FINAL_STATUSES, Case, EngineTimer, HumanTask, TaskCandidate, User
from app.services.context import ServiceContext
from app.services.events import log_event

MILESTONE_TIMES = {"accepted": "accepted_at", "decided": "decided_at"}


@dataclass(frozen=True)
class SavedStep:
    """What a saved step did, as its listeners read it."""

    case: Case
    result: StepResult
    before: str | None           # the case status before the step (None: the case was just created)
    reached: list[str]           # statuses reached, in order
    now: datetime
    actor_id: int | None
    data: Callable[[], dict[str, Any]]                        # the workflow data, read on demand
    completed_data: Callable[[str], list[dict[str, Any]]]     # completed tasks' data by BPMN id

    @property
    def new(self) -> bool:
        return self.before is None


def lock_case(ctx: ServiceContext, session: Session, case_id: int | None = None,
              task_id: str | None = None) -> Case | None:
    """Load a case with its engine state, holding its row lock until the transaction ends.

    PostgreSQL: `SELECT ... FOR UPDATE`. SQLite: the write transaction already holds the database's
    write lock (BEGIN IMMEDIATE), which serializes writers.
    Give `case_id`, or `task_id` to lock the case of an open task (None if there is no such task).
    """
    query = (select(Case).options(undefer(Case.engine_state), lazyload(Case.item), lazyload(Case.applicant))
             .execution_options(populate_existing=True))
    if task_id is not None:
        query = query.join(HumanTask, HumanTask.case_id == Case.id).where(HumanTask.id == task_id)
    else:
        query = query.where(Case.id == case_id)
    if ctx.db.is_postgres:
        query = query.with_for_update(of=Case)
    case = session.scalar(query)
    ctx.calendar.get(session)  # current before any BPMN expression counts working days
    return case


def save_step(ctx: ServiceContext, s: Session, case: Case, workflow: Any, bundle: SpecBundle,
              result: StepResult, now: datetime, actor_id: int | None, new: bool = False,
              open_before: set[str] | None = None) -> list[UserTaskView]:
    """Write the workflow state and its projections; returns the open user tasks.

    `new`: the case was just created, so it has no projection rows yet. `open_before`: the ids of the
    user tasks that were READY when the workflow was loaded (the projection holds exactly those, as it
    is written with the state), which spares a query.
    """
    engine = ctx.engine
    views = engine.user_tasks(workflow)
    before = None if new else case.status
    with s.no_autoflush:  # one flush at the end instead of one before every query
        existing = set() if new else open_before
        if existing is None:
            existing = set(s.scalars(select(HumanTask.id).where(HumanTask.case_id == case.id)))
        opened = [v for v in views if v.id not in existing]
        gone = existing - {v.id for v in views}
        if bundle.has_timers:
            _sync_timers(s, case, engine.timers(workflow), new)
        reached = _apply_status(s, case, result, views, engine.is_completed(workflow), now, actor_id)
        due = ctx.step_hooks.deadlines(ctx, s, case, before, reached, opened, gone, now)
        _sync_tasks(s, case, opened, gone, due, now)
        case.engine_state = engine.dumps(workflow)
        case.updated_at = now
    s.flush()
    saved = SavedStep(case, result, before, reached, now, actor_id, lambda: engine.data(workflow),
                      lambda key: engine.completed_data(workflow, key))
    for listener in ctx.step_hooks.listeners:
        listener(ctx, s, saved)
    return views


def mark_status(s: Session, case: Case, status: str, now: datetime, actor_id: int | None) -> None:
    """Set a status that no BPMN node carries (withdrawal), with its event and milestone times."""
    _set_status(s, case, status, now, actor_id, [])


def add_event(s: Session, case: Case, now: datetime, action: str, actor_id: int | None = None,
              **fields: Any) -> None:
    log_event(s, case.id, now, action, actor_id, **fields)


def _sync_tasks(s: Session, case: Case, opened: list[UserTaskView], gone: set[str],
                due: dict[str, tuple[datetime | None, datetime | None]], now: datetime) -> None:
    """Write the open tasks: delete those that ended, insert those that opened with their deadlines."""
    if gone:  # their candidate rows go with them (ON DELETE CASCADE)
        s.execute(delete(HumanTask).where(HumanTask.id.in_(gone)), execution_options={"synchronize_session": False})
    if not opened:
        return
    assignees = _user_ids(s, {v.assignee for v in opened if v.assignee})
    s.execute(insert(HumanTask.__table__),
              [_task_row(case, v, assignees.get(v.assignee or ""), now, *due.get(v.id, (None, None))) for v in opened])
    s.execute(insert(TaskCandidate.__table__), [row for v in opened for row in _candidate_rows(v)])


def _task_row(case: Case, view: UserTaskView, assignee_id: int | None, now: datetime,
              due_at: datetime | None, yellow_at: datetime | None) -> dict[str, Any]:
    return {
        "id": view.id, "case_id": case.id, "item_id": case.item_id, "task_key": view.key, "name": view.name,
        "stage": view.properties.get("stage"), "form_key": view.form_key, "department": view.department,
        "candidate_groups": list(view.candidate_groups), "candidate_users": list(view.candidate_users),
        "assignee_id": assignee_id, "claimed_at": now if assignee_id else None, "created_at": now,
        "due_at": due_at, "yellow_at": yellow_at,  # from the case's clocks
    }


def _candidate_rows(view: UserTaskView) -> list[dict[str, str]]:
    # The BPMN assignee is a candidate too, so unclaiming never leaves a task nobody may take.
    users = [*view.candidate_users, *([view.assignee] if view.assignee else [])]
    return ([{"task_id": view.id, "kind": "group", "name": g} for g in dict.fromkeys(view.candidate_groups)]
            + [{"task_id": view.id, "kind": "user", "name": u} for u in dict.fromkeys(users)])


def _user_ids(s: Session, usernames: set[str]) -> dict[str, int]:
    if not usernames:
        return {}
    return {name: uid for uid, name in s.execute(select(User.id, User.username).where(User.username.in_(usernames)))}


def _sync_timers(s: Session, case: Case, timers: list[Any], new: bool) -> None:
    existing = {} if new else {t.id: t for t in s.scalars(select(EngineTimer).where(EngineTimer.case_id == case.id))}
    wanted = {t.id: t for t in timers}
    for tid in existing.keys() - wanted.keys():
        s.delete(existing[tid])
    for tid, timer in wanted.items():
        row = existing.get(tid)
        if row is None:
            s.add(EngineTimer(id=tid, case_id=case.id, task_key=timer.key, due_at=timer.due_at))
        elif row.due_at != timer.due_at:  # cycle timers move on
            row.due_at = timer.due_at


def _apply_status(s: Session, case: Case, result: StepResult, views: list[UserTaskView], completed: bool,
                  now: datetime, actor_id: int | None) -> list[str]:
    """Move the case status along what the step passed; returns the statuses reached, in order."""
    reached: list[str] = []
    for passed in result.passed:
        status = passed.properties.get("status")
        if status and not passed.manual:  # milestones and end events; a user task's status applies while open
            _set_status(s, case, status, now, actor_id, reached, milestone=passed.name or passed.key)
    waiting = next((v.properties["status"] for v in views if v.properties.get("status")), None)
    if waiting and not completed:
        _set_status(s, case, waiting, now, actor_id, reached)
    case.stage = next((v.properties.get("stage") or v.key for v in views), None)
    if completed:
        if case.status not in FINAL_STATUSES:
            _set_status(s, case, "closed", now, actor_id, reached)
        case.closed_at = case.closed_at or now
    return reached


def _set_status(s: Session, case: Case, status: str, now: datetime, actor_id: int | None, reached: list[str],
                milestone: str | None = None) -> None:
    attr = MILESTONE_TIMES.get(status)
    if attr and getattr(case, attr) is None:
        setattr(case, attr, now)
    if status in FINAL_STATUSES and case.closed_at is None:
        case.closed_at = now
    if status != case.status or milestone:
        add_event(s, case, now, "status", actor_id, message=milestone,
                  data_before={"status": case.status}, data_after={"status": status})
        case.status = status
        reached.append(status)
