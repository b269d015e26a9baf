"""Staff inboxes: open tasks by view, with counts, filters, search, sorting and deadline lights (bulk
claim and a head's reassignment: app/services/workbench/assignment.py; search: inbox_search.py).

Everything here reads the projections (human_tasks, task_candidates, case_events); no workflow is
ever deserialized for an inbox.

Deadline rule (electronic supervision practice, DESIGN.md §2): remaining working days = the working days
strictly after today (China time) up to the due date (0 when due today, negative when overdue). The light
is red when the due time has passed; otherwise the level of the clock behind the due date, by that clock's
thresholds (item `yellow_ratio`/`yellow_days`, step `yellowRatio`/`yellowDays`); a task without a clock is
yellow when at most 1 working day is left or at least 80 % of its time (created → due) has elapsed; no
light without a due date. The "due soon" view holds exactly the open, not yet overdue tasks with a yellow
light: it reads the clock's yellow moment that the task row carries (`yellow_at`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from app.clock import CHINA_TZ
from app.errors import Forbidden, InvalidInput
from app.models import (
    Case,
    CaseClock,
    CaseEvent,
    Department,
    HumanTask,
    Item,
    TaskCandidate,
    User,
)
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, page_count, window
from app.services.timelimits import clocks
from app.services.workbench.inbox_search import Applicant, found_cases, search, search_text
from app.timelimits import status
from app.workdays import WorkCalendar, end_of_day

VIEWS = ("mine", "group", "due_soon", "overdue", "done", "department")
SORTS = ("deadline", "-deadline", "received", "-received")
YELLOW_SHARE = 0.8  # share of the step's time elapsed that turns the light yellow
WALK_LIMIT = 3000  # due-date index entries read for a page, at most, before sorting my own tasks costs less

Assignee = aliased(User, name="assignee")
TaskDepartment = aliased(Department, name="task_department")


@dataclass(frozen=True)
class InboxQuery:
    view: str = "mine"
    item: str | None = None  # item code
    department: str | None = None  # the task's department (done: the item's)
    step: str | None = None  # a task key or a stage
    q: str | None = None  # case number or applicant name / user name
    sort: str = "deadline"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class InboxRow:
    task_id: str | None
    case_no: str
    item_code: str
    item_name: str
    applicant: str
    applicant_name: str
    task_key: str | None
    step: str  # the task's name
    stage: str | None
    department: str | None
    received_at: datetime | None
    due_at: datetime | None
    created_at: datetime | None
    remaining: int | None  # working days, see the module docstring
    light: str | None  # "green" | "yellow" | "red" | None
    assignee: str | None = None
    assignee_name: str | None = None
    mine: bool = False
    claimable: bool = False  # unclaimed and offered to me
    department_name: str | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class InboxPage(Page[InboxRow]):
    view: str = "mine"
    counts: dict[str, int] = field(default_factory=dict)
    is_head: bool = False

    @property
    def rows(self) -> Sequence[InboxRow]:
        """The page's items, by the name the inbox gives them."""
        return self.items


@dataclass(frozen=True)
class _Conditions:
    """Each view's condition. `walking` holds the dated views again with "workable by me" in a form no
    index can answer, so that the planner walks the due-date index instead (see _walks)."""

    views: dict[str, ColumnElement[bool]]
    walking: dict[str, ColumnElement[bool]]
    counted: dict[str, ColumnElement[bool]]  # the views again, valid only within _scope


@dataclass
class Filters:
    items: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    departments: list[tuple[str, str]] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (task key, name)


# -- rules -------------------------------------------------------------------------------------------

def is_head(principal: Principal) -> bool:
    return "head" in principal.roles and principal.department is not None


def remaining_workdays(due_at: datetime, now: datetime, cal: WorkCalendar) -> int:
    """Working days strictly after today up to the due date; negative once overdue."""
    today, due = now.astimezone(CHINA_TZ).date(), due_at.astimezone(CHINA_TZ).date()
    if due >= today:
        return cal.workdays_between(today, due)
    return -max(cal.workdays_between(due, today), 1)


def light(due_at: datetime | None, created_at: datetime | None, now: datetime,
          cal: WorkCalendar) -> str | None:
    if due_at is None:
        return None
    if due_at < now:
        return "red"
    if remaining_workdays(due_at, now, cal) <= 1:
        return "yellow"
    if created_at is not None and due_at > created_at and \
            (now - created_at) >= (due_at - created_at) * YELLOW_SHARE:
        return "yellow"
    return "green"


# -- the inbox ---------------------------------------------------------------------------------------

def inbox(ctx: ServiceContext, principal: Principal, query: InboxQuery) -> InboxPage:
    """One page of a view, with the counts of every view under the same filters.

    :raises InvalidInput: unknown view or sort, or the department view for someone who is not a head.
    """
    _check(principal, query)
    now = ctx.clock.now()
    page, per_page = window(query.page, query.per_page)
    with ctx.uow() as uow:
        s = uow.session
        cal = ctx.calendar.get(s)  # the administrators' calendar, for due-soon and remaining days
        found = found_cases(s, query.q)
        # built once: building them is not free
        conditions = _view_conditions(ctx, principal, now, cal, searching=found is not None)
        counts = _counts(s, principal, query, conditions.counted, found)
        total = counts[query.view]
        page = min(page, page_count(total, per_page))  # past the end: the last page
        if total == 0:
            rows = []
        elif query.view == "done":
            rows = _done_rows(s, principal, query, found, page, per_page)
        else:
            # PostgreSQL's planner makes this choice itself, from the statistics it keeps
            walk = found is None and not ctx.db.is_postgres and _walks(s, principal, query, now, total, page * per_page)
            condition = (conditions.walking if walk else conditions.views)[query.view]
            rows = _task_rows(s, principal, query, found, now, conditions.views["group"], condition, page, per_page,
                              cal)
        return InboxPage(rows, page, per_page, total, view=query.view, counts=counts, is_head=is_head(principal))


def default_view(ctx: ServiceContext, principal: Principal) -> str:
    """"mine" when I hold any open task, else "group"."""
    with ctx.uow() as uow:
        held = uow.session.scalar(select(exists().where(HumanTask.assignee_id == principal.id)))
        return "mine" if held else "group"


def _check(principal: Principal, query: InboxQuery) -> None:
    if query.view not in VIEWS:
        raise InvalidInput("unknown view", [{"field": "view", "message": f"one of {', '.join(VIEWS)}"}])
    if query.sort not in SORTS:
        raise InvalidInput("unknown sort", [{"field": "sort", "message": f"one of {', '.join(SORTS)}"}])
    if query.view == "department" and not is_head(principal):
        raise Forbidden("只有科室负责人可以查看本部门全部任务 / only heads see the department's tasks")


def _offered_ids(principal: Principal) -> Select[Any]:
    """Ids of the tasks offered to me, found through the candidates index (kind, name) rather than
    by probing the candidates of every open task."""
    return select(TaskCandidate.task_id).where(or_(
        and_(TaskCandidate.kind == "group", TaskCandidate.name.in_(sorted(principal.groups) or [""])),
        and_(TaskCandidate.kind == "user", TaskCandidate.name == principal.username)))


def _offered(principal: Principal) -> ColumnElement[bool]:
    return HumanTask.id.in_(_offered_ids(principal))


def _view_conditions(ctx: ServiceContext, principal: Principal, now: datetime, cal: WorkCalendar,
                     searching: bool) -> _Conditions:
    """When searching, the found cases lead: my share of the tasks is tested on their few tasks only."""
    mine: ColumnElement[bool] = HumanTask.assignee_id == principal.id
    unclaimed = HumanTask.assignee_id.is_(None)
    group: ColumnElement[bool] = and_(unclaimed, _offered(principal))
    workable: ColumnElement[bool] = true() if principal.sees_everything else or_(mine, group)
    yellow = _yellow(ctx, now, cal)
    department: ColumnElement[bool] = (HumanTask.department == principal.department) if is_head(principal) \
        else false()

    def dated(workable: ColumnElement[bool]) -> dict[str, ColumnElement[bool]]:
        return {"due_soon": and_(workable, HumanTask.due_at >= now, yellow),
                "overdue": and_(workable, HumanTask.due_at < now)}

    counted = {"mine": mine, "group": group, **dated(workable), "department": department}
    if not principal.sees_everything and not is_head(principal):
        # Counted over my scope (offered to me, or mine), where an unclaimed task is one offered to me: no
        # second look at the candidates per task and view. A head's scope holds the whole department.
        counted = {"mine": mine, "group": unclaimed, **dated(or_(mine, unclaimed)), "department": department}
    if searching:
        mine, group, workable, department = map(_no_index, (mine, group, workable, department))
    return _Conditions({"mine": mine, "group": group, **dated(workable), "department": department},
                       dated(workable if principal.sees_everything or searching else _no_index(workable)), counted)


def _yellow(ctx: ServiceContext, now: datetime, cal: WorkCalendar) -> ColumnElement[bool]:
    """The light of a task not yet overdue is yellow now: past the yellow moment of its clock, or, for a row
    without a clock, by the fixed rule of `light`."""
    soon_day = end_of_day(cal.add_workdays(now, 1))
    elapsed = _seconds(ctx, HumanTask.due_at) - now.timestamp() <= \
        (_seconds(ctx, HumanTask.due_at) - _seconds(ctx, HumanTask.created_at)) * (1 - YELLOW_SHARE)
    return or_(HumanTask.yellow_at <= now,
               and_(HumanTask.yellow_at.is_(None), or_(HumanTask.due_at <= soon_day, elapsed)))


def _no_index(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The same test in a form no index can answer, so that the planner takes another condition's index.

    SQLite keeps no statistics: it prefers any index on an equality (my candidate groups, "unclaimed", me as
    actor) and then reads and sorts thousands of rows where another index (due date, found cases) would
    read a page's worth."""
    return case((condition, true()), else_=false())


DATED_RANGES = {"overdue": lambda now: HumanTask.due_at < now, "due_soon": lambda now: HumanTask.due_at >= now}


def _walks(s: Session, principal: Principal, q: InboxQuery, now: datetime, total: int, wanted: int) -> bool:
    """Whether to read a dated view in deadline order by walking the due-date index (SQLite), testing each task
    and stopping once `wanted` rows (the page and those before it) are found, rather than collecting all
    my tasks of the view and sorting them.

    The walk reads about wanted × (tasks in the date range / tasks of the view) entries: a few hundred
    for a busy desk, the whole range for someone with a handful of tasks, whose few are cheaper sorted.
    """
    if q.view not in DATED_RANGES or q.sort not in ("deadline", "-deadline") or principal.sees_everything:
        return False
    in_range = s.scalar(select(func.count()).select_from(HumanTask).where(DATED_RANGES[q.view](now))) or 0
    return wanted * in_range <= WALK_LIMIT * total


def _scope(principal: Principal) -> ColumnElement[bool]:
    """Every task that can appear in one of my views: a small, indexed set to count over."""
    if principal.sees_everything:
        return true()
    scope = or_(HumanTask.id.in_(_offered_ids(principal)), HumanTask.assignee_id == principal.id)
    if is_head(principal):
        scope = or_(scope, HumanTask.department == principal.department)
    return scope


def _seconds(ctx: ServiceContext, column: Any) -> ColumnElement[float]:
    """A UTC datetime column as seconds since the epoch, on SQLite and PostgreSQL."""
    if ctx.db.is_postgres:
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _task_filters(query: Select[Any], q: InboxQuery, found: Select[Any] | None) -> Select[Any]:
    if q.item:
        query = query.where(Item.code == q.item)
    if q.department:
        query = query.where(HumanTask.department == q.department)
    if q.step:
        query = query.where(or_(HumanTask.task_key == q.step, HumanTask.stage == q.step))
    if found is not None:
        return query.where(HumanTask.case_id.in_(found))
    return search(query, q.q)


def _task_base(query: Select[Any]) -> Select[Any]:
    return (query.join(Case, Case.id == HumanTask.case_id).join(Item, Item.id == Case.item_id)
            .join(Applicant, Applicant.id == Case.applicant_id))


def _counts(s: Session, principal: Principal, q: InboxQuery, conditions: dict[str, ColumnElement[bool]],
            found: Select[Any] | None) -> dict[str, int]:
    sums = [func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name) for name, cond in conditions.items()]
    scope = _scope(principal) if found is None else _no_index(_scope(principal))
    query = select(*sums).select_from(HumanTask).where(scope)
    if q.item or q.department or q.step or search_text(q.q):  # the joins cost: only when filtering
        query = _task_filters(_task_base(query), q, found)
    row = s.execute(query).one()
    counts = {name: int(getattr(row, name) or 0) for name in conditions}
    done = select(func.count()).select_from(CaseEvent)
    if q.item or q.department or search_text(q.q):
        done = _done_filters(done, principal, q, found)
    else:  # the (actor_id, action) index alone answers it
        done = done.where(CaseEvent.actor_id == principal.id, CaseEvent.action == "completed")
        if q.step:
            done = done.where(CaseEvent.task_key == q.step)
    counts["done"] = s.scalar(done) or 0
    return counts


def _task_rows(s: Session, principal: Principal, q: InboxQuery, found: Select[Any] | None, now: datetime,
               claimable: ColumnElement[bool], condition: ColumnElement[bool], page: int,
               per_page: int, cal: WorkCalendar) -> list[InboxRow]:
    cols = select(HumanTask.id, HumanTask.case_id, HumanTask.task_key, HumanTask.name, HumanTask.stage,
                  HumanTask.department,
                  HumanTask.due_at, HumanTask.created_at, HumanTask.assignee_id, Case.case_no, Case.received_at,
                  Item.code, Item.name.label("item_name"), Applicant.username, Applicant.full_name,
                  Assignee.username.label("assignee"), Assignee.full_name.label("assignee_name"),
                  case((claimable, 1), else_=0).label("claimable"),
                  TaskDepartment.name.label("department_name"))
    query = _task_filters(_task_base(cols.select_from(HumanTask)), q, found) \
        .outerjoin(Assignee, Assignee.id == HumanTask.assignee_id) \
        .outerjoin(TaskDepartment, TaskDepartment.code == HumanTask.department) \
        .where(condition)
    # Overdue and due-soon tasks all have a deadline: without NULLS LAST (which SQLite cannot take from
    # an index) the sort is cheaper.
    dated = q.view in ("overdue", "due_soon")
    order = {
        "deadline": [HumanTask.due_at.asc() if dated else HumanTask.due_at.asc().nulls_last()],
        "-deadline": [HumanTask.due_at.desc() if dated else HumanTask.due_at.desc().nulls_last()],
        "received": [Case.received_at.asc()], "-received": [Case.received_at.desc()],
    }[q.sort]
    rows = s.execute(query.order_by(*order, Case.received_at, Case.case_no, HumanTask.created_at, HumanTask.id)
                     .limit(per_page).offset((page - 1) * per_page)).all()
    levels = _clock_levels(s, {r.case_id for r in rows}, cal, now)
    return [InboxRow(
        task_id=r.id, case_no=r.case_no, item_code=r.code, item_name=r.item_name, applicant=r.username,
        applicant_name=r.full_name, task_key=r.task_key, step=r.name, stage=r.stage, department=r.department,
        received_at=r.received_at, due_at=r.due_at, created_at=r.created_at,
        remaining=remaining_workdays(r.due_at, now, cal) if r.due_at else None,
        light=_light_of(levels, r.case_id, r.id, r.due_at, now) or light(r.due_at, r.created_at, now, cal),
        assignee=r.assignee, assignee_name=r.assignee_name, mine=r.assignee_id == principal.id,
        claimable=bool(r.claimable), department_name=r.department_name,
    ) for r in rows]


def _clock_levels(s: Session, case_ids: set[int], cal: WorkCalendar,
                  now: datetime) -> dict[tuple[int, str | None], tuple[datetime | None, str]]:
    """The page's running clocks, one query: (case id, step task id, or None for the case's binding clock)
    -> (deadline, level now), with the clock's own thresholds; counted live, so a light does not wait for
    the scheduler's next tick."""
    by_case: dict[int, list[CaseClock]] = {}
    if case_ids:
        for c in s.scalars(select(CaseClock).where(CaseClock.case_id.in_(case_ids), CaseClock.state == "running")):
            by_case.setdefault(c.case_id, []).append(c)
    found: dict[tuple[int, str | None], tuple[datetime | None, str]] = {}
    for case_id, running in by_case.items():
        for c in running:
            if c.kind == "step":
                found[(case_id, c.task_id)] = (c.deadline, status(cal, clocks.limit_of(c), now).level)
        binding = clocks.binding_clock({c.kind: c for c in running if c.kind in clocks.CASE_CLOCKS})
        if binding is not None:
            found[(case_id, None)] = (binding.deadline, status(cal, clocks.limit_of(binding), now).level)
    return found


def _light_of(levels: dict[tuple[int, str | None], tuple[datetime | None, str]], case_id: int, task_id: str,
              due_at: datetime | None, now: datetime) -> str | None:
    """The light of the clock a task works to; None when the task has no clock (rows seeded without)."""
    clock = levels.get((case_id, task_id)) or levels.get((case_id, None))
    if clock is None:
        return None
    return "red" if due_at is not None and due_at < now else clock[1]


def _done_filters(query: Select[Any], principal: Principal, q: InboxQuery, found: Select[Any] | None) -> Select[Any]:
    query = (query.join(Case, Case.id == CaseEvent.case_id).join(Item, Item.id == Case.item_id)
             .join(Applicant, Applicant.id == Case.applicant_id))
    done_by_me = and_(CaseEvent.actor_id == principal.id, CaseEvent.action == "completed")
    if found is None:
        query = query.where(done_by_me)
    else:  # the found cases' events, not all of mine
        query = query.where(CaseEvent.case_id.in_(found), _no_index(done_by_me))
    if q.item:
        query = query.where(Item.code == q.item)
    if q.department:
        query = query.join(Department, Department.id == Item.department_id).where(Department.code == q.department)
    if q.step:
        query = query.where(CaseEvent.task_key == q.step)
    return query if found is not None else search(query, q.q)


def _done_rows(s: Session, principal: Principal, q: InboxQuery, found: Select[Any] | None, page: int,
               per_page: int) -> list[InboxRow]:
    cols = select(CaseEvent.task_id, CaseEvent.task_key, CaseEvent.task_name, CaseEvent.at, Case.case_no,
                  Case.received_at, Item.code, Item.name.label("item_name"), Applicant.username, Applicant.full_name)
    order = {"received": Case.received_at.asc(), "-received": Case.received_at.desc()}.get(q.sort, CaseEvent.at.desc())
    rows = s.execute(_done_filters(cols.select_from(CaseEvent), principal, q, found).order_by(order, CaseEvent.id.desc())
                     .limit(per_page).offset((page - 1) * per_page)).all()
    return [InboxRow(
        task_id=r.task_id, case_no=r.case_no, item_code=r.code, item_name=r.item_name, applicant=r.username,
        applicant_name=r.full_name, task_key=r.task_key, step=r.task_name or r.task_key or "", stage=None,
        department=None, received_at=r.received_at, due_at=None, created_at=None, remaining=None, light=None,
        completed_at=r.at,
    ) for r in rows]


_FILTERS_TTL = 60.0  # seconds: the filter bar's options may lag a minute behind new items and steps
_filters_cache: dict[tuple[Any, ...], tuple[float, Filters]] = {}


def filters(ctx: ServiceContext, principal: Principal) -> Filters:
    """What the filter bar offers: active items, departments, and the steps of the open tasks I see.

    Cached briefly per scope, because every inbox page shows it and it never needs to be exact.
    """
    key = (id(ctx), principal.sees_everything, principal.groups, principal.username, is_head(principal),
           principal.department)
    hit = _filters_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _FILTERS_TTL:
        return hit[1]
    with ctx.uow() as uow:
        s = uow.session
        result = Filters(
            items=[(c, n) for c, n in s.execute(select(Item.code, Item.name).where(Item.active.is_(True))
                                                .order_by(Item.code))],
            departments=[(c, n) for c, n in s.execute(select(Department.code, Department.name).order_by(Department.id))],
            steps=[(k, n) for k, n in s.execute(select(HumanTask.task_key, func.min(HumanTask.name))
                                                .where(_scope(principal)).group_by(HumanTask.task_key)
                                                .order_by(HumanTask.task_key))],
        )
    if len(_filters_cache) > 1000:
        _filters_cache.clear()
    _filters_cache[key] = (time.monotonic(), result)
    return result
