"""Who holds an open task: bulk claim (one transaction per task) and a head's reassignment within the
department. Reads and writes the task projection only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from app.errors import DomainError, Forbidden, InvalidInput, TaskNotFound
from app.models import Case, Department, Group, HumanTask, TaskCandidate, User, memberships
from app.services.casework.steps import add_event
from app.services.casework.tasks import claim_task
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.workbench.inbox import is_head

MAX_BULK = 100


@dataclass(frozen=True)
class ClaimOutcome:
    task_id: str
    ok: bool
    reason: str | None = None  # the DomainError class name when not ok
    case_no: str | None = None


@dataclass(frozen=True)
class Colleague:
    id: int
    username: str
    full_name: str
    staff_no: str | None


def claim_many(ctx: ServiceContext, principal: Principal, task_ids: list[str]) -> list[ClaimOutcome]:
    """Claim each task on its own (one transaction each), reporting which failed and why.

    :raises InvalidInput: no task, or more than MAX_BULK at once.
    """
    ids = list(dict.fromkeys(t for t in task_ids if t))
    if not ids or len(ids) > MAX_BULK:
        raise InvalidInput("choose tasks", [{"field": "task_ids", "message":
                           f"请选择 1 至 {MAX_BULK} 个任务 / choose 1 to {MAX_BULK} tasks"}])
    outcomes = []
    for task_id in ids:
        try:
            done = claim_task(ctx, principal, task_id)
        except DomainError as error:
            outcomes.append(ClaimOutcome(task_id, False, type(error).__name__, _case_no_of(ctx, task_id)))
        else:
            outcomes.append(ClaimOutcome(task_id, True, None, done["case_no"]))
    return outcomes


def _case_no_of(ctx: ServiceContext, task_id: str) -> str | None:
    with ctx.uow() as uow:
        return uow.session.scalar(select(Case.case_no).join(HumanTask, HumanTask.case_id == Case.id)
                                  .where(HumanTask.id == task_id))


def colleagues(ctx: ServiceContext, principal: Principal, task_ids: list[str]) -> dict[str, list[Colleague]]:
    """For a head: per task of their department, the colleagues it may be given to (same department,
    in one of the task's candidate groups). Others get {}."""
    if not is_head(principal) or not task_ids:
        return {}
    with ctx.uow() as uow:
        s = uow.session
        rows = s.execute(
            select(HumanTask.id, User.id, User.username, User.full_name, User.staff_no)
            .join(TaskCandidate, and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.kind == "group"))
            .join(Group, Group.name == TaskCandidate.name)
            .join(memberships, memberships.c.group_id == Group.id)
            .join(User, User.id == memberships.c.user_id)
            .join(Department, Department.id == User.department_id)
            .where(HumanTask.id.in_(task_ids), HumanTask.department == principal.department,
                   Department.code == principal.department, User.active.is_(True))
            .distinct().order_by(HumanTask.id, User.staff_no, User.username)).all()
    found: dict[str, list[Colleague]] = {}
    for task_id, uid, username, name, staff_no in rows:
        found.setdefault(task_id, []).append(Colleague(uid, username, name, staff_no))
    return found


def reassign(ctx: ServiceContext, principal: Principal, task_id: str, username: str) -> dict[str, Any]:
    """A head gives an open task of their department to a colleague of the same department who is in
    one of the task's candidate groups (whether or not someone holds it now).

    :raises TaskNotFound, Forbidden: not a head, or another department's task.
    :raises InvalidInput: the colleague is unknown, of another department, or not a candidate.
    """
    if not is_head(principal):
        raise Forbidden("只有科室负责人可以改派任务 / only a department head may reassign tasks")
    with ctx.uow(write=True) as uow:
        s = uow.session
        task = s.get(HumanTask, task_id)
        if task is None:
            raise TaskNotFound(f"任务不存在 / task '{task_id}' not found")
        if task.department != principal.department:
            raise Forbidden("只能改派本部门的任务 / only tasks of your own department")
        eligible = {c.username: c for c in _eligible(s, task, principal.department)}
        target = eligible.get(username)
        if target is None:
            raise InvalidInput("not eligible", [{"field": "assignee", "message":
                               "只能改派给本部门中有权办理此任务的人员 / only to a colleague of your department "
                               "who may handle this task"}])
        previous = s.get(User, task.assignee_id) if task.assignee_id else None
        now = ctx.clock.now()
        s.execute(update(HumanTask).where(HumanTask.id == task_id).values(assignee_id=target.id, claimed_at=now))
        case_row = s.get(Case, task.case_id)
        assert case_row is not None
        add_event(s, case_row, now, "reassigned", principal.id, task_id=task.id, task_key=task.task_key,
                  task_name=task.name, data_before={"assignee": previous.username if previous else None},
                  data_after={"assignee": target.username},
                  message=f"{previous.full_name if previous else '-'} → {target.full_name}")
        uow.commit()
        return {"task_id": task_id, "case_no": case_row.case_no, "assignee": target.username,
                "assignee_name": target.full_name}


def _eligible(s: Session, task: HumanTask, department: str | None) -> list[Colleague]:
    groups = select(TaskCandidate.name).where(TaskCandidate.task_id == task.id, TaskCandidate.kind == "group")
    rows = s.execute(select(User.id, User.username, User.full_name, User.staff_no).distinct()
                     .join(memberships, memberships.c.user_id == User.id).join(Group, Group.id == memberships.c.group_id)
                     .join(Department, Department.id == User.department_id)
                     .where(Group.name.in_(groups), Department.code == department,
                            User.active.is_(True))).all()
    return [Colleague(*r) for r in rows]
