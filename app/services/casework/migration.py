"""Moving running cases to another version of their process (流程版本迁移).

A designer chooses cases (all running cases of a version, or some of them), previews per case which
open tasks have a place in the target version, then migrates. Each case moves in its own transaction
holding its row lock (as every step does), and is planned again on the state read under that lock: a
case that a user advanced meanwhile is judged as it now stands. A case that cannot move is left exactly
as it was, with the reason; one case's failure never stops the others.

After the move the case's projections (open tasks, engine timers, clocks and status) are written by
`save_step`, as after any step; the case log gets a `migrated` entry and the audit trail a
`process.migrate` entry, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.engine.runtime import EngineFailure, MigrationPlan, UserTaskView
from app.errors import Forbidden, InvalidInput, ProcessNotFound
from app.models import FINAL_STATUSES, Case, EngineTimer, HumanTask, ProcessDefinition
from app.services import audit
from app.services.casework.processes import bundle_for
from app.services.casework.steps import add_event, lock_case, save_step
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window

MAX_CASES = 1000  # case numbers named in one request


@dataclass(frozen=True)
class TaskPlan:
    """One open task of a case and where it goes."""

    task_id: str
    task_key: str
    name: str
    state: str
    target: str | None
    maps: bool
    reason: str | None
    note: str | None


@dataclass(frozen=True)
class CasePreview:
    case_no: str
    status: str | None
    migratable: bool
    reason: str | None
    tasks: list[TaskPlan] = field(default_factory=list)


@dataclass(frozen=True)
class CaseOutcome:
    case_no: str
    migrated: bool
    reason: str | None
    tasks: list[TaskPlan] = field(default_factory=list)       # the plan it was moved (or refused) by
    open_tasks: list[str] = field(default_factory=list)       # BPMN ids of its open tasks afterwards


@dataclass(frozen=True)
class RunningCase:
    case_no: str
    status: str
    stage: str | None
    tasks: list[str]
    created_at: Any


@dataclass(frozen=True)
class _Versions:
    source: ProcessDefinition
    target: ProcessDefinition


def running_cases(ctx: ServiceContext, principal: Principal, key: str, version: int, page: int = 1,
                  per_page: int = 50) -> Page[RunningCase]:
    """The running cases of one version, oldest first, with their open tasks' names.

    :raises Forbidden, ProcessNotFound, InvalidInput: (see `preview_cases`).
    """
    _check_role(principal)
    page, per_page = window(page, per_page)
    with ctx.uow() as uow:
        s = uow.session
        source = _version(s, key, version, "from_version")
        query = _running(source.id)
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        cases = s.scalars(query.order_by(Case.id).limit(per_page).offset(offset(page, per_page))).all()
        names: dict[int, list[str]] = {}
        for case_id, name in s.execute(select(HumanTask.case_id, HumanTask.name)
                                       .where(HumanTask.case_id.in_([c.id for c in cases]))
                                       .order_by(HumanTask.created_at, HumanTask.id)):
            names.setdefault(case_id, []).append(name)
        items = [RunningCase(c.case_no, c.status, c.stage, names.get(c.id, []), c.created_at) for c in cases]
        return Page(items, page, per_page, total)


def preview_cases(ctx: ServiceContext, principal: Principal, key: str, from_version: int, to_version: int,
                  case_numbers: Sequence[str] | None = None) -> list[CasePreview]:
    """Per case: which open tasks have a place in `to_version`, and whether the case can move.
    `case_numbers` None: every running case of `from_version`. Changes nothing.

    :raises Forbidden: not an admin or designer. :raises ProcessNotFound: no such process.
    :raises InvalidInput: an unknown version, the same version twice, or a bad list of cases.
    """
    versions, numbers = _prepare(ctx, principal, key, from_version, to_version, case_numbers)
    previews = []
    for case_no in numbers:
        with ctx.uow() as uow:
            previews.append(_preview_one(ctx, uow.session, case_no, versions))
    return previews


def migrate_cases(ctx: ServiceContext, principal: Principal, key: str, from_version: int, to_version: int,
                  case_numbers: Sequence[str] | None = None) -> list[CaseOutcome]:
    """Move the cases to `to_version`, each in its own locked transaction; a case that cannot move is
    left unchanged and its outcome says why.

    :raises Forbidden, ProcessNotFound, InvalidInput: as `preview_cases` (then nothing is moved).
    """
    versions, numbers = _prepare(ctx, principal, key, from_version, to_version, case_numbers)
    return [_migrate_one(ctx, principal, case_no, versions) for case_no in numbers]


# -- one case ------------------------------------------------------------------------------------------------
def _preview_one(ctx: ServiceContext, s: Session, case_no: str, versions: _Versions) -> CasePreview:
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    refusal = _refusal(case, versions)
    if refusal is not None or case is None:
        return CasePreview(case_no, case.status if case else None, False, refusal)
    try:
        plan = _plan(ctx, s, case, versions)
    except (EngineFailure, ValueError) as exc:
        return CasePreview(case_no, case.status, False, _unreadable(exc))
    return CasePreview(case_no, case.status, plan.migratable, plan.why_not, _task_plans(plan))


def _migrate_one(ctx: ServiceContext, principal: Principal, case_no: str, versions: _Versions) -> CaseOutcome:
    plan: MigrationPlan | None = None
    try:
        with ctx.uow(write=True) as uow:
            s = uow.session
            case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
            case = lock_case(ctx, s, case_id=case_id) if case_id is not None else None
            refusal = _refusal(case, versions)
            if refusal is not None or case is None:
                return CaseOutcome(case_no, False, refusal)
            plan = _plan(ctx, s, case, versions)  # on the state read under the lock
            if not plan.migratable:
                return CaseOutcome(case_no, False, plan.why_not, _task_plans(plan))
            views = _move(ctx, s, principal, case, versions)
            uow.commit()
            return CaseOutcome(case_no, True, None, _task_plans(plan), [v.key for v in views])
    except (EngineFailure, ValueError) as exc:  # rolled back: the case is as it was
        return CaseOutcome(case_no, False, _unreadable(exc), _task_plans(plan) if plan else [])


def _plan(ctx: ServiceContext, s: Session, case: Case, versions: _Versions) -> MigrationPlan:
    assert case.engine_state is not None
    workflow = ctx.engine.loads(case.engine_state, bundle_for(ctx, s, versions.source.id))
    return ctx.engine.plan_migration(workflow, bundle_for(ctx, s, versions.target.id))


def _move(ctx: ServiceContext, s: Session, principal: Principal, case: Case, versions: _Versions
          ) -> list[UserTaskView]:
    """Migrate the locked case and write what follows from it, as a step does."""
    assert case.engine_state is not None
    source, target = bundle_for(ctx, s, versions.source.id), bundle_for(ctx, s, versions.target.id)
    workflow = ctx.engine.loads(case.engine_state, source)
    now = ctx.clock.now()
    result = ctx.engine.migrate(workflow, target, ctx.clock.now)
    open_before = _drop_stale_tasks(s, case, ctx.engine.user_tasks(workflow))
    if source.has_timers and not target.has_timers:  # save_step skips timers for such a process
        s.execute(delete(EngineTimer).where(EngineTimer.case_id == case.id))
    before = {"process_definition_id": versions.source.id, "version": versions.source.version}
    after = {"process_definition_id": versions.target.id, "version": versions.target.version}
    case.process_definition_id = versions.target.id
    add_event(s, case, now, "migrated", principal.id,
              message=f"{versions.source.key} v{versions.source.version} -> v{versions.target.version}",
              data_before=before, data_after=after)
    views = save_step(ctx, s, case, workflow, target, result, now, principal.id, open_before=open_before)
    audit.record(s, principal, now, "process.migrate", "migration", case.case_no,
                 f"{case.case_no}: {versions.source.key} v{versions.source.version} -> v{versions.target.version}",
                 {"case_no": case.case_no, **before}, {"case_no": case.case_no, **after})
    return views


def _drop_stale_tasks(s: Session, case: Case, views: list[UserTaskView]) -> set[str]:
    """Delete the task rows whose task stays open but reads differently in the target (another name,
    form or candidates), so the save writes them afresh; returns the ids of the rows that remain."""
    rows = {t.id: t for t in s.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    stale = {v.id for v in views if v.id in rows and _row_differs(rows[v.id], v)}
    if stale:
        s.execute(delete(HumanTask).where(HumanTask.id.in_(stale)), execution_options={"synchronize_session": False})
        for task_id in stale:
            s.expunge(rows[task_id])
    return set(rows) - stale


def _row_differs(row: HumanTask, view: UserTaskView) -> bool:
    return (row.task_key, row.name, row.form_key, list(row.candidate_groups or []),
            list(row.candidate_users or []), row.stage) != (
        view.key, view.name, view.form_key, list(view.candidate_groups), list(view.candidate_users),
        view.properties.get("stage"))


# -- checks --------------------------------------------------------------------------------------------------
def _prepare(ctx: ServiceContext, principal: Principal, key: str, from_version: int, to_version: int,
             case_numbers: Sequence[str] | None) -> tuple[_Versions, list[str]]:
    _check_role(principal)
    if from_version == to_version:
        raise InvalidInput("the versions are the same", [
            {"field": "to_version", "message": "目标版本须不同于当前版本 / choose a different target version"}])
    if case_numbers is not None and not case_numbers:
        raise InvalidInput("no cases chosen", [{"field": "cases", "message": "至少选择一个办件 / choose at least one case"}])
    if case_numbers is not None and len(case_numbers) > MAX_CASES:
        raise InvalidInput("too many cases", [{"field": "cases", "message": f"最多 {MAX_CASES} 个 / at most {MAX_CASES}"}])
    with ctx.uow() as uow:
        s = uow.session
        versions = _Versions(_version(s, key, from_version, "from_version"), _version(s, key, to_version, "to_version"))
        if case_numbers is None:
            numbers = list(s.scalars(_running(versions.source.id).with_only_columns(Case.case_no).order_by(Case.id)))
        else:
            numbers = list(dict.fromkeys(case_numbers))
        s.expunge_all()  # the definitions are read after this session ends
        return versions, numbers


def _check_role(principal: Principal) -> None:
    if not principal.has("admin", "designer"):
        raise Forbidden("只有管理员或流程设计人员可以迁移办件 / only admins and designers may migrate cases")


def _version(s: Session, key: str, version: int, field_name: str) -> ProcessDefinition:
    definition = s.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                          ProcessDefinition.version == version))
    if definition is not None:
        return definition
    if s.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key).limit(1)) is None:
        raise ProcessNotFound(f"process '{key}' is not deployed")
    raise InvalidInput("unknown version", [
        {"field": field_name, "message": f"流程 {key} 没有版本 {version} / process {key} has no version {version}"}])


def _running(definition_id: int) -> Any:
    return select(Case).where(Case.process_definition_id == definition_id, Case.status.not_in(FINAL_STATUSES),
                              Case.engine_state.is_not(None))


def _refusal(case: Case | None, versions: _Versions) -> str | None:
    """Why this case is not one to move (None: it is)."""
    if case is None:
        return "没有这个办件 / no such case"
    if case.process_definition_id != versions.source.id:
        return (f"办件不在 {versions.source.key} 版本 {versions.source.version} 上 / the case does not run on "
                f"{versions.source.key} version {versions.source.version}")
    if case.status in FINAL_STATUSES or case.engine_state is None:
        return "办件已办结 / the case has finished"
    return None


def _unreadable(exc: Exception) -> str:
    message = exc.message if isinstance(exc, EngineFailure) else str(exc)
    return f"迁移失败，办件未改变 / the migration failed and the case is unchanged: {message}"


def _task_plans(plan: MigrationPlan) -> list[TaskPlan]:
    return [TaskPlan(t.task_id, t.key, t.name, t.state, t.target, t.ok, t.reason, t.note) for t in plan.tasks]
