"""The supervisor's dashboard (电子监察): running cases by warning light per department and item, the
overdue list, the on-time completion rate and the average handling time.

Everything is counted in SQL (GROUP BY). Working days cannot be counted in SQL (the calendar lives in
Python), so the average handling time sums, per distinct day, `count × working days since an anchor`:
Σ workdays_between(accepted, decided) = Σ W(decided) − Σ W(accepted), one calendar call per distinct day
rather than one per case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Select, case, cast, func, literal, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidInput
from app.models import Case, CaseClock, Department, Item, SupervisionOrder
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, clamp_date, window
from app.services.timelimits.clocks import CASE_CLOCKS, statutory_deadline
from app.workdays import WorkCalendar, as_date, end_of_day, start_of_day

LEVEL_RANK = {"green": 1, "yellow": 2, "red": 3}
PER_PAGE = 50
MAX_PER_PAGE = 200


def supervision_dashboard(ctx: ServiceContext, principal: Principal, date_from: date, date_to: date,
                          department: str | None = None, item_code: str | None = None, page: int = 1,
                          per_page: int = PER_PAGE) -> dict[str, Any]:
    """The dashboard for supervisors and administrators; the date range selects completed cases.

    :raises Forbidden: not a supervisor or administrator. :raises InvalidInput: `date_from` after `date_to`.
    """
    if not principal.has("supervisor", "admin"):
        raise Forbidden("仅限电子监察人员 / supervisors only")
    if date_from > date_to:
        raise InvalidInput("日期范围无效 / invalid date range", [{"field": "from", "message": "on or before 'to'"}])
    date_from, date_to = clamp_date(date_from), clamp_date(date_to)
    page, per_page = window(page, per_page, MAX_PER_PAGE)
    with ctx.uow() as uow:
        s = uow.session
        cal, now = ctx.calendar.get(s), ctx.clock.now()
        scope = _Scope(department, item_code)
        by_department, by_item, totals = _lights(s, scope)
        overdue = _overdue(s, cal, now, scope, page, per_page)
        on_time, stopped = _on_time(s, scope, date_from, date_to)
        handled, avg_days = _handling(s, ctx.db.is_postgres, cal, scope, date_from, date_to)
        open_orders = s.scalar(scope.orders(select(func.count()).select_from(SupervisionOrder)
                                            .where(SupervisionOrder.state == "open"))) or 0
    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(), "department": department, "item": item_code,
        "totals": totals, "by_department": by_department, "by_item": by_item, "overdue": overdue,
        "on_time": {"on_time": on_time, "completed": stopped,
                    "rate": round(on_time / stopped, 4) if stopped else None},
        "handling": {"cases": handled, "average_workdays": avg_days},
        "open_orders": open_orders,
    }


class _Scope:
    """The department / item filters, applied to any query that joins Case and Item."""

    def __init__(self, department: str | None, item_code: str | None) -> None:
        self.department, self.item_code = department or None, item_code or None

    def cases(self, query: Select[Any]) -> Select[Any]:
        if self.department:
            query = query.where(Department.code == self.department)
        if self.item_code:
            query = query.where(Item.code == self.item_code)
        return query

    def orders(self, query: Select[Any]) -> Select[Any]:
        if self.department:
            query = query.where(SupervisionOrder.department == self.department)
        if self.item_code:
            query = query.join(Case, Case.id == SupervisionOrder.case_id).join(Item, Item.id == Case.item_id).where(
                Item.code == self.item_code)
        return query


def _joined(query: Select[Any], case_id: Any) -> Select[Any]:
    return (query.join(Case, Case.id == case_id).join(Item, Item.id == Case.item_id)
            .join(Department, Department.id == Item.department_id))


def _lights(s: Session, scope: _Scope) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Running cases by their worst case-level light, per department and per item."""
    rank = case(*((CaseClock.level == lv, n) for lv, n in LEVEL_RANK.items()), else_=1)
    worst = (select(CaseClock.case_id.label("case_id"), func.max(rank).label("rank"))
             .where(CaseClock.state != "stopped", CaseClock.kind.in_(CASE_CLOCKS))
             .group_by(CaseClock.case_id).subquery())
    counts = [func.sum(case((worst.c.rank == n, 1), else_=0)).label(lv) for lv, n in LEVEL_RANK.items()]

    def grouped(*keys: Any) -> list[dict[str, Any]]:
        query = scope.cases(_joined(select(*keys, *counts).select_from(worst), worst.c.case_id)).group_by(*keys)
        return [{**{k: v for k, v in row._mapping.items() if k not in LEVEL_RANK},
                 **{lv: int(row._mapping[lv] or 0) for lv in LEVEL_RANK}}
                for row in s.execute(query.order_by(*keys))]

    by_department = grouped(Department.code.label("department"), Department.name.label("department_name"))
    by_item = grouped(Item.code.label("item"), Item.name.label("item_name"))
    totals = {lv: sum(r[lv] for r in by_department) for lv in LEVEL_RANK}
    return by_department, by_item, totals


def _overdue(s: Session, cal: WorkCalendar, now: Any, scope: _Scope, page: int, per_page: int) -> dict[str, Any]:
    """Red running case clocks, the longest overdue first, one page."""
    where = (CaseClock.state == "running", CaseClock.level == "red", CaseClock.kind.in_(CASE_CLOCKS))
    base = scope.cases(_joined(select(CaseClock.id).where(*where), CaseClock.case_id))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.execute(scope.cases(_joined(
        select(CaseClock, Case.case_no, Item.code, Item.name, Department.code,
               Department.name).where(*where), CaseClock.case_id))
        .order_by(CaseClock.deadline, CaseClock.id).limit(per_page).offset((page - 1) * per_page)).all()
    items = [{"case_no": no, "clock": c.kind, "item": code, "item_name": name, "department": dept,
              "department_name": dept_name, "deadline": c.deadline,
              "statutory_deadline": statutory_deadline(cal, c),
              "overdue_workdays": max(cal.workdays_between(c.deadline, now), 0) if c.deadline else None}
             for c, no, code, name, dept, dept_name in rows]
    return Page(items, page, per_page, total).as_dict()


def _on_time(s: Session, scope: _Scope, date_from: date, date_to: date) -> tuple[int, int]:
    """Decision clocks stopped in the range: how many on time, how many in all."""
    query = scope.cases(_joined(
        select(func.count(), func.sum(case((CaseClock.on_time.is_(True), 1), else_=0)))
        .select_from(CaseClock)
        .where(CaseClock.kind == "decision", CaseClock.state == "stopped",
               CaseClock.stopped_at >= start_of_day(date_from), CaseClock.stopped_at <= end_of_day(date_to)),
        CaseClock.case_id))
    total, on_time = s.execute(query).one()
    return int(on_time or 0), int(total or 0)


def _handling(s: Session, is_postgres: bool, cal: WorkCalendar, scope: _Scope, date_from: date,
              date_to: date) -> tuple[int, float | None]:
    """Cases decided in the range: how many, and their average working days from acceptance to decision
    minus the working days their decision clock stood still (special procedures)."""
    in_range = (Case.accepted_at.is_not(None), Case.decided_at.is_not(None),
                Case.decided_at >= start_of_day(date_from), Case.decided_at <= end_of_day(date_to))

    def per_day(column: Any) -> list[tuple[date, int]]:
        day = _china_date(column, is_postgres)
        query = scope.cases(select(day.label("day"), func.count()).select_from(Case).join(
            Item, Item.id == Case.item_id).join(Department, Department.id == Item.department_id)
            .where(*in_range)).group_by(day)
        return [(as_date(d if isinstance(d, date) else str(d)), int(n)) for d, n in s.execute(query)]

    accepted, decided = per_day(Case.accepted_at), per_day(Case.decided_at)
    cases = sum(n for _, n in decided)
    if not cases:
        return 0, None
    suspended = s.scalar(scope.cases(_joined(
        select(func.coalesce(func.sum(CaseClock.suspended_days), 0)).select_from(CaseClock)
        .where(CaseClock.kind == "decision", *in_range), CaseClock.case_id))) or 0
    anchor = min(d for d, _ in accepted + decided)
    days = (sum(n * cal.workdays_between(anchor, d) for d, n in decided)
            - sum(n * cal.workdays_between(anchor, d) for d, n in accepted) - int(suspended))
    return cases, round(max(days, 0) / cases, 1)


def _china_date(column: Any, is_postgres: bool) -> Any:
    """The column's date in China time (UTC+8 all year: no daylight saving since 1991)."""
    if is_postgres:
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, literal("+8 hours"))


def filter_options(ctx: ServiceContext) -> dict[str, list[tuple[str, str]]]:
    """The departments and items the dashboard's filters offer: (code, name), by code."""
    with ctx.uow() as uow:
        s = uow.session
        departments = s.execute(select(Department.code, Department.name).order_by(Department.code)).all()
        items = s.execute(select(Item.code, Item.name).order_by(Item.code)).all()
        return {"departments": [(c, n) for c, n in departments], "items": [(c, n) for c, n in items]}
