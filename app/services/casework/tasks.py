"""Human tasks: the inbox, claiming, and completing a task with its form data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.engine.runtime import EngineFailure
from app.errors import (
    Forbidden,
    InvalidForm,
    InvalidInput,
    NotACandidate,
    ProcessError,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
    TaskNotFound,
)
from app.forms import FormDefinition, FormDefinitionError
from app.models import Case, CaseEvent, Department, HumanTask, TaskCandidate, User
from app.services.casework import process_forms
from app.services.casework.cases import Records, record_incident
from app.services.casework.processes import bundle_for
from app.services.casework.steps import add_event, lock_case, save_step
from app.services.casework.views import task_view
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window

VIEWS = ("mine", "group", "all")


def list_tasks(ctx: ServiceContext, principal: Principal, view: str = "all", page: int = 1,
               per_page: int = 20, item_code: str | None = None, case_no: str | None = None
               ) -> Page[dict[str, Any]]:
    """Open tasks the user may work on, earliest due first.

    mine: claimed by or assigned to me; group: unclaimed tasks of my groups or offered to me;
    all: both (administrators and supervisors: every open task).
    :raises InvalidInput: unknown view.
    """
    if view not in VIEWS:
        raise InvalidInput("unknown view", [{"field": "view", "message": f"one of {', '.join(VIEWS)}"}])
    page, per_page = window(page, per_page)
    with ctx.uow() as uow:
        s = uow.session
        query = _visible(select(HumanTask, User.username, Case), principal, view)
        query = query.join(Case, Case.id == HumanTask.case_id).outerjoin(User, User.id == HumanTask.assignee_id)
        if item_code:
            query = query.where(Case.item.has(code=item_code))
        if case_no:
            query = query.where(Case.case_no == case_no)
        total = s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = s.execute(query.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)
                         .limit(per_page).offset(offset(page, per_page))).all()
        return Page([task_view(t, assignee, case) for t, assignee, case in rows], page, per_page, total)


def _visible(query: Select[Any], principal: Principal, view: str) -> Select[Any]:
    mine = HumanTask.assignee_id == principal.id
    offered = exists().where(TaskCandidate.task_id == HumanTask.id, or_(
        and_(TaskCandidate.kind == "group", TaskCandidate.name.in_(sorted(principal.groups) or [""])),
        and_(TaskCandidate.kind == "user", TaskCandidate.name == principal.username)))
    if view == "mine":
        return query.where(mine)
    if view == "group":
        return query.where(HumanTask.assignee_id.is_(None), offered)
    if principal.sees_everything:
        return query
    return query.where(or_(mine, offered))


def task_detail(ctx: ServiceContext, principal: Principal, task_id: str) -> dict[str, Any]:
    """An open task as the task list shows it, plus `form` (its form-js JSON as deployed with the case's
    version, inline camunda:formData converted; None for a step without a form) and `values` (the current
    values of the form's top-level fields in the task data), so an integrator needs no repository.

    :raises TaskNotFound: unknown, completed, or not in the user's task list (no hint which).
    :raises ProcessError: the version names a form that cannot be read.
    """
    with ctx.uow() as uow:
        s = uow.session
        row = s.execute(_visible(select(HumanTask, User.username, Case), principal, "all")
                        .join(Case, Case.id == HumanTask.case_id)
                        .outerjoin(User, User.id == HumanTask.assignee_id).where(HumanTask.id == task_id)).first()
        if row is None:
            raise TaskNotFound(f"任务不存在 / task '{task_id}' not found")
        task, assignee, case = row
        form = task_form(ctx, s, case, task)
        values: dict[str, Any] = {}
        if form is not None:
            assert case.process_definition_id is not None and case.engine_state is not None
            workflow = ctx.engine.loads(case.engine_state, bundle_for(ctx, s, case.process_definition_id))
            data = ctx.engine.task_data(workflow, task.id)
            values = _jsonable({k: data.get(k) for k in sorted({f.split(".", 1)[0] for f in form.field_keys()})})
        return {**task_view(task, assignee, case), "form": form.raw if form else None, "values": values}


def form_of_task(ctx: ServiceContext, principal: Principal, task_id: str) -> FormDefinition | None:
    """The form of an open task in the user's task list, as deployed with its case's version; None for a
    step without a form, or a task the user does not have in the list (the task page shows no form then).

    :raises ProcessError: the version names a form that cannot be read.
    """
    with ctx.uow() as uow:
        s = uow.session
        row = s.execute(_visible(select(HumanTask, Case), principal, "all")
                        .join(Case, Case.id == HumanTask.case_id).where(HumanTask.id == task_id)).first()
        return task_form(ctx, s, row[1], row[0]) if row is not None else None


def claim_task(ctx: ServiceContext, principal: Principal, task_id: str) -> dict[str, Any]:
    """Take an unclaimed task; claiming one's own task again is harmless.

    :raises TaskNotFound, TaskAlreadyCompleted, NotACandidate, TaskClaimedByOther:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        task = _open_task(s, task_id)
        if task.assignee_id == principal.id:
            return _task_dict(s, task)
        _check_candidate(principal, task)
        now = ctx.clock.now()
        claimed = s.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee_id.is_(None))
                            .values(assignee_id=principal.id, claimed_at=now)).rowcount
        if not claimed:
            raise TaskClaimedByOther("任务已被他人认领 / the task is claimed by someone else")
        s.refresh(task)
        add_event(s, _case(s, task), now, "claimed", principal.id, task_id=task.id, task_key=task.task_key,
                  task_name=task.name)
        view = _task_dict(s, task)
        uow.commit()
        return view


def unclaim_task(ctx: ServiceContext, principal: Principal, task_id: str) -> dict[str, Any]:
    """Give a claimed task back to its groups (the assignee, a head of its department, or an admin; for
    a candidate an unclaimed task stays as it is).

    :raises TaskNotFound: also when the user may not see the task (as on the task page).
    :raises TaskAlreadyCompleted, Forbidden:
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        task = _open_task(s, task_id)
        _check_may_unclaim(s, principal, task)
        if task.assignee_id is not None:
            task.assignee_id, task.claimed_at = None, None
            add_event(s, _case(s, task), ctx.clock.now(), "unclaimed", principal.id, task_id=task.id,
                      task_key=task.task_key, task_name=task.name)
        s.flush()
        view = _task_dict(s, task)
        uow.commit()
        return view


def complete_task(ctx: ServiceContext, principal: Principal, task_id: str, data: dict[str, Any],
                  records: Records | None = None) -> dict[str, Any]:
    """Complete a task with form data, run the process on, and save it all in one transaction.

    The case row is locked for the whole step, so two departments completing their parallel approvals
    at the same moment are applied one after the other, never over each other. `records(session, case)`
    adds what belongs to this step (resubmitted files, say) in the same transaction, once the task and
    its form data have been checked.
    :raises TaskNotFound, TaskAlreadyCompleted, NotACandidate, TaskClaimedByOther, InvalidForm,
        ProcessError (the case is unchanged and an incident is recorded):
    """
    case_id: int | None = None
    try:
        with ctx.uow(write=True) as uow:
            s = uow.session
            case = lock_case(ctx, s, task_id=task_id)
            if case is None:  # no such open task (perhaps completed while we waited for the lock)
                _raise_missing(s, task_id)
            assert case is not None
            case_id = case.id
            task = s.scalars(select(HumanTask).options(joinedload(HumanTask.candidates))
                             .where(HumanTask.id == task_id)
                             .execution_options(populate_existing=True)).unique().one_or_none()
            if task is None:  # completed by someone else while we waited for the lock
                raise TaskAlreadyCompleted("任务已完成 / the task is already completed")
            _check_can_complete(principal, task)
            view = _complete(ctx, s, case, task, principal, data, records)
            uow.commit()
            return view
    except EngineFailure as failure:
        assert case_id is not None
        incident = record_incident(ctx, case_id, failure, principal.id)
        raise ProcessError(f"流程执行出错，办件未改变 / the step failed and the case is unchanged: "
                           f"{failure.message}", failure.element_id, incident) from failure


def _complete(ctx: ServiceContext, s: Session, case: Case, task: HumanTask, principal: Principal,
              data: dict[str, Any], records: Records | None) -> dict[str, Any]:
    assert case.process_definition_id is not None and case.engine_state is not None
    bundle = bundle_for(ctx, s, case.process_definition_id)
    workflow = ctx.engine.loads(case.engine_state, bundle)
    open_before = {v.id for v in ctx.engine.user_tasks(workflow)}
    task_data = ctx.engine.task_data(workflow, task.id)
    clean = _validate(task_form(ctx, s, case, task), data, task_data)
    before = {k: task_data.get(k) for k in clean}
    if records is not None:
        records(s, case)
    now = ctx.clock.now()
    result = ctx.engine.complete(workflow, task.id, clean, ctx.clock.now)
    add_event(s, case, now, "completed", principal.id, task_id=task.id, task_key=task.task_key,
              task_name=_step_name(s, task, task_data), data_before=_jsonable(before), data_after=_jsonable(clean))
    views = save_step(ctx, s, case, workflow, bundle, result, now, principal.id, open_before=open_before)
    s.flush()
    return {"case_no": case.case_no, "status": case.status, "stage": case.stage,
            "next_tasks": [{"id": v.id, "task_key": v.key, "name": v.name, "department": v.department}
                           for v in views]}


def _step_name(s: Session, task: HumanTask, task_data: dict[str, Any]) -> str:
    """The step as the case's history names it: the instances of a parallel approval share one name,
    so the department each was routed to (`${department}`) is named with it (the log keeps its name then)."""
    department = task_data.get("department")
    if not isinstance(department, str) or not department:
        return task.name
    name = s.scalar(select(Department.name).where(Department.code == department)) or department
    return f"{task.name}（{name}）"[:200]


def task_form(ctx: ServiceContext, s: Session, case: Case, task: HumanTask) -> FormDefinition | None:
    """The task's form as deployed with the case's process version (inline camunda:formData included).

    :raises ProcessError: the version names a form that cannot be read (nothing is changed).
    """
    if case.process_definition_id is None:
        return None
    if not task.form_key:
        return process_forms.inline_form(ctx, s, case.process_definition_id, task.task_key)
    try:
        return process_forms.form_of(ctx, s, case.process_definition_id, task.form_key)
    except FormDefinitionError as exc:
        raise ProcessError(f"此步骤的表单无法读取 / the form of this step cannot be read: {exc}",
                           task.task_key) from exc


def _validate(form: FormDefinition | None, data: dict[str, Any], task_data: dict[str, Any]) -> dict[str, Any]:
    if form is not None:
        clean = form.validate(data, task_data)
        # Fields the form hid this time are cleared, so a loop's earlier answers (last round's
        # deficiencies, say) never pass for this round's.
        return {**{k: None for k in form.field_keys() - clean.keys() if "." not in k}, **clean}
    if data:  # without a form nothing may write into the process data
        raise InvalidForm({key: ["此步骤没有表单字段 / this step takes no data"] for key in data})
    return {}


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v))
            for k, v in data.items()}


def _open_task(s: Session, task_id: str) -> HumanTask:
    task = s.get(HumanTask, task_id)
    if task is None:
        _raise_missing(s, task_id)
    assert task is not None
    return task


def _raise_missing(s: Session, task_id: str) -> None:
    done = s.scalar(select(exists().where(CaseEvent.task_id == task_id, CaseEvent.action == "completed")))
    if done:
        raise TaskAlreadyCompleted("任务已完成 / the task is already completed")
    raise TaskNotFound(f"任务不存在 / task '{task_id}' not found")


def _is_candidate(principal: Principal, task: HumanTask) -> bool:
    return any((c.kind == "group" and c.name in principal.groups)
               or (c.kind == "user" and c.name == principal.username) for c in task.candidates)


def _check_candidate(principal: Principal, task: HumanTask) -> None:
    if not _is_candidate(principal, task):
        raise NotACandidate("您不是此任务的候选人 / you are not a candidate for this task")


def _check_may_unclaim(s: Session, principal: Principal, task: HumanTask) -> None:
    head = "head" in principal.roles and principal.department is not None \
        and principal.department == task.department
    if task.assignee_id == principal.id or head or principal.is_admin:
        return
    candidate = _is_candidate(principal, task)
    if not (candidate or (principal.is_staff and can_see_case(s, principal, _case(s, task)))):
        raise TaskNotFound(f"任务不存在 / task '{task.id}' not found")
    if task.assignee_id is not None or not candidate:
        raise Forbidden("只能退回自己认领的任务 / only the assignee may unclaim this task")


def _check_can_complete(principal: Principal, task: HumanTask) -> None:
    if task.assignee_id == principal.id:
        return
    _check_candidate(principal, task)
    if task.assignee_id is not None:
        raise TaskClaimedByOther("任务已被他人认领 / the task is claimed by someone else")


def _case(s: Session, task: HumanTask) -> Case:
    case = s.get(Case, task.case_id)
    assert case is not None
    return case


def _task_dict(s: Session, task: HumanTask) -> dict[str, Any]:
    assignee = s.get(User, task.assignee_id).username if task.assignee_id else None  # type: ignore[union-attr]
    return task_view(task, assignee, _case(s, task))
