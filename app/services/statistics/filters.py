"""What a statistics question asks (period, range, dimension, filters) and who may ask it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidInput
from app.models import Department, Item, ServiceWindow, User
from app.models.statistics import StatOfficerMonthly
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

PERIODS = ("day", "month", "year")
DIMENSIONS = ("department", "item", "officer", "channel", "window")
# Kept per officer only: a window is the one its clerk is seated at now (window_clerks keeps no history).
PER_OFFICER = ("officer", "window")
MAX_DAYS = 366 * 3  # a day-by-day answer over more is a spreadsheet, not a page


@dataclass(frozen=True)
class Filters:
    since: date
    until: date
    period: str = "month"  # PERIODS
    by: str | None = None  # DIMENSIONS; None: totals per period
    department: str | None = None  # codes and usernames, as users name them
    item: str | None = None
    officer: str | None = None
    channel: str | None = None
    window: str | None = None  # a service window's code

    @property
    def per_officer(self) -> bool:
        """Whether the answer needs the per-officer rollup."""
        return self.by in PER_OFFICER or self.officer is not None or self.window is not None


@dataclass(frozen=True)
class Resolved:
    """The filters with ids looked up."""

    filters: Filters
    department_id: int | None
    item_id: int | None
    officer_id: int | None
    window_id: int | None = None


def authorize(principal: Principal, filters: Filters) -> Filters:
    """Supervisors and administrators see every department; a department head sees their own only (the
    department filter is set for them).

    :raises Forbidden: anyone else, or a head asking for another department."""
    if principal.sees_everything:
        return filters
    if principal.has("head") and principal.department:
        if filters.department not in (None, principal.department):
            raise Forbidden("只能查看本部门的统计 / you may see your own department's statistics only")
        return replace(filters, department=principal.department)
    raise Forbidden("无权查看统计 / only supervisors, administrators and department heads see statistics")


def resolve(s: Session, filters: Filters) -> Resolved:
    """Look up the named department, item and officer.

    :raises InvalidInput: with one detail per unknown name or a range that ends before it starts."""
    errors = []
    if filters.until < filters.since:
        errors.append({"field": "to", "message": "结束日期早于开始日期 / 'to' is before 'from'"})
    elif filters.period == "day" and (filters.until - filters.since).days > MAX_DAYS:
        errors.append({"field": "period", "message": "按日统计的范围最长三年 / 'day' covers at most three years"})
    department_id = item_id = officer_id = None
    if filters.department is not None:
        department_id = s.scalar(select(Department.id).where(Department.code == filters.department))
        if department_id is None:
            errors.append({"field": "department", "message": f"部门不存在 / no department '{filters.department}'"})
    if filters.item is not None:
        item_id = s.scalar(select(Item.id).where(Item.code == filters.item))
        if item_id is None:
            errors.append({"field": "item", "message": f"事项不存在 / no item '{filters.item}'"})
    if filters.officer is not None:
        officer_id = s.scalar(select(User.id).where(User.username == filters.officer, User.role != "applicant"))
        if officer_id is None:
            errors.append({"field": "officer", "message": f"工作人员不存在 / no staff member '{filters.officer}'"})
    window_id = None
    if filters.window is not None:
        window_id = s.scalar(select(ServiceWindow.id).where(ServiceWindow.code == filters.window))
        if window_id is None:
            errors.append({"field": "window", "message": f"窗口不存在 / no service window '{filters.window}'"})
    if errors:
        raise InvalidInput("统计条件无效 / invalid statistics filters", errors)  # type: ignore[arg-type]
    return Resolved(filters, department_id, item_id, officer_id, window_id)


Choice = tuple[str, str]  # (value as the filters take it, what the user reads)


def choices(ctx: ServiceContext, principal: Principal) -> dict[str, list[Choice]]:
    """What the filter pickers offer: the departments, items, service windows and officers whose figures
    the user may see (a department head: their department's items, its windows and those of the whole
    centre, its staff and whoever else acted on its cases).

    :raises Forbidden: someone who sees no statistics."""
    own = authorize(principal, Filters(since=date.min, until=date.min)).department
    with ctx.uow() as uow:
        s = uow.session
        department_id = s.scalar(select(Department.id).where(Department.code == own)) if own else None
        departments = select(Department.code, Department.name).order_by(Department.code)
        items = select(Item.code, Item.name).order_by(Item.code)
        windows = select(ServiceWindow.code, ServiceWindow.name).where(ServiceWindow.active).order_by(ServiceWindow.code)
        officers = select(User.username, User.full_name).where(User.role != "applicant").order_by(User.username)
        if own is not None:
            departments = departments.where(Department.code == own)
            items = items.where(Item.department_id == department_id)
            windows = windows.where(or_(ServiceWindow.department_id == department_id,
                                        ServiceWindow.department_id.is_(None)))
            acted = select(StatOfficerMonthly.officer_id).where(StatOfficerMonthly.department_id == department_id)
            officers = officers.where(or_(User.department_id == department_id, User.id.in_(acted)))
        return {"department": [(c, f"{n} ({c})") for c, n in s.execute(departments)],
                "item": [(c, f"{n} ({c})") for c, n in s.execute(items)],
                "window": [(c, f"{n} ({c})") for c, n in s.execute(windows)],
                "officer": [(u, f"{n or u} ({u})") for u, n in s.execute(officers)]}
