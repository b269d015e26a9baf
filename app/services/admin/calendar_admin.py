"""Administering the working-day calendar (工作日历): import a year's State Council arrangement, edit
single days (also local extra holidays), mark a year published, show a year, and warn administrators
from 1 October when next year's arrangement is still missing.

Every change bumps the calendar revision and recomputes, in the same transaction, the open deadlines it
affects (each moved deadline is logged on its case by `clocks.recompute_deadlines`). Only administrators
change the calendar; any staff member may read it. `principal=None` is the system (the CLI).
"""

from __future__ import annotations

import calendar as month_calendar
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import Forbidden, InvalidInput
from app.models import Alarm, CalendarDay, CalendarYear
from app.services import audit
from app.services.admin.calendar_files import LAST_YEAR, DayEntry, day_problem, validate_entries
from app.services.calendar import bump_revision, seed_calendar
from app.services.casework import timers
from app.services.context import ServiceContext, UnitOfWork
from app.services.identity.principal import Principal
from app.services.messaging.notifications import notify_roles
from app.services.timelimits import alarms, clocks
from app.workdays import FIRST_YEAR, statutory_holidays

log = logging.getLogger(__name__)
ALARM_MONTH = 10  # from 1 October, next year's arrangement is overdue (it usually comes in November)


@dataclass(frozen=True)
class ImportResult:
    year: int
    days: int  # days written (a local extra holiday on the same date wins and is kept)
    kept_local: int
    published: bool
    deadlines_moved: int


@dataclass(frozen=True)
class ChangeResult:
    """What a single-day or publish change did."""

    year: int
    day: date | None
    kind: str | None
    published: bool
    deadlines_moved: int


def import_year(ctx: ServiceContext, principal: Principal | None, year: int, entries: list[DayEntry] | list[dict[str, Any]],
                now: datetime | None = None) -> ImportResult:
    """Replace a year's arrangement (local extra holidays stay) and mark the year published.

    :raises Forbidden: not an admin. :raises InvalidInput: an entry is wrong (nothing changes).
    """
    _require_admin(principal)
    checked = validate_entries(year, entries)
    now = now or ctx.clock.now()
    actor = principal.id if principal else None
    with _changing(ctx) as uow:
        s = uow.session
        local = set(s.scalars(select(CalendarDay.day).where(*_in_year(year), CalendarDay.source == "local")))
        s.execute(delete(CalendarDay).where(*_in_year(year), CalendarDay.source != "local")
                  .execution_options(synchronize_session=False))
        rows = [e for e in checked if e.day not in local]
        s.add_all(CalendarDay(day=e.day, kind=e.kind, name=e.name, source="import", updated_at=now, updated_by=actor)
                  for e in rows)
        was_published = _is_published(s, year)
        _set_year(s, year, True, "import", now, actor)
        moved = _changed(ctx, s, date(year, 1, 1), now, actor)
        audit.record(s, principal, now, "calendar.import", "calendar", year,
                     f"导入 {year} 年节假日安排 / imported the {year} arrangement: {len(rows)} days, "
                     f"{moved} deadlines moved", {"published": was_published},
                     {"published": True, "days": len(rows), "kept_local": len(checked) - len(rows)})
        uow.commit()
    log.info("calendar %s imported by %s: %s days, %s local kept, %s deadlines moved",
             year, principal.username if principal else "system", len(rows), len(checked) - len(rows), moved)
    return ImportResult(year, len(rows), len(checked) - len(rows), True, moved)


def set_day(ctx: ServiceContext, principal: Principal | None, day: date, kind: str | None, name: str = "",
            local: bool = False, now: datetime | None = None) -> ChangeResult:
    """Make `day` a holiday or a make-up working day, or (kind None) follow the weekday rule again.
    `local` marks a local extra holiday (地方性假日), which later imports keep.

    :raises Forbidden: not an admin. :raises InvalidInput: e.g. a make-up working day on a weekday.
    """
    _require_admin(principal)
    name = (name or "").strip()
    if local and kind not in (None, "holiday"):
        raise InvalidInput("invalid day", [{"field": "kind", "message": "地方假日只能是休息日 / "
                                            "a local extra day can only be a holiday"}])
    problem = day_problem(day, kind or "holiday", name)
    if problem:
        raise InvalidInput("invalid day", [{"field": "kind" if kind else "date", "message": problem}])
    now = now or ctx.clock.now()
    actor = principal.id if principal else None
    with _changing(ctx) as uow:
        s = uow.session
        row = s.get(CalendarDay, day)
        before = _day_fields(row)
        if kind is None:
            if row is not None:
                s.delete(row)
        else:
            if row is None:
                row = CalendarDay(day=day)
                s.add(row)
            row.kind, row.name, row.source = kind, name, "local" if local else "admin"
            row.updated_at, row.updated_by = now, actor
        after = {"kind": kind, "name": name, "local": local} if kind else _day_fields(None)
        moved = _changed(ctx, s, day, now, actor)
        published = _is_published(s, day.year)
        audit.record(s, principal, now, "calendar.set_day", "calendar", day.isoformat(),
                     f"修改 {day.isoformat()} / set {day.isoformat()} to {kind or 'the weekday rule'}; "
                     f"{moved} deadlines moved", *audit.changes(before, after))
        uow.commit()
    log.info("calendar day %s set to %s%s by %s: %s deadlines moved", day, kind or "weekday rule",
             " (local)" if local else "", principal.username if principal else "system", moved)
    return ChangeResult(day.year, day, kind, published, moved)


def seed(ctx: ServiceContext, now: datetime | None = None) -> int:
    """The `chinesecalendar` package's arrangements for the years the table lacks (idempotent), as a
    calendar change: the open deadlines they affect move and lose their provisional mark, the years'
    missing-arrangement alarms clear. Returns how many years were added."""
    now = now or ctx.clock.now()
    with _changing(ctx) as uow:
        s = uow.session
        years = seed_calendar(s, now)
        if years:
            s.execute(update(Alarm).where(Alarm.key.in_([f"calendar:{y}" for y in years]), Alarm.cleared_at.is_(None))
                      .values(cleared_at=now).execution_options(synchronize_session=False))
            _changed(ctx, s, date(years[0], 1, 1), now, None)
        uow.commit()
    return len(years)


def set_published(ctx: ServiceContext, principal: Principal | None, year: int, published: bool,
                  now: datetime | None = None) -> ChangeResult:
    """Mark a year's arrangement as published (deadlines in it become final) or not (provisional).

    :raises Forbidden: not an admin. :raises InvalidInput: a year outside the calendar.
    """
    _require_admin(principal)
    _check_year(year)
    now = now or ctx.clock.now()
    actor = principal.id if principal else None
    with _changing(ctx) as uow:
        s = uow.session
        was_published = _is_published(s, year)
        _set_year(s, year, published, "admin", now, actor)
        moved = _changed(ctx, s, date(year, 1, 1), now, actor)
        audit.record(s, principal, now, "calendar.publish" if published else "calendar.unpublish", "calendar",
                     year, f"{year} 年{'已' if published else '未'}发布 / {year} marked "
                     f"{'published' if published else 'not published'}; {moved} deadlines moved",
                     {"published": was_published}, {"published": published})
        uow.commit()
    log.info("calendar %s marked %s by %s: %s deadlines moved", year, "published" if published else "unpublished",
             principal.username if principal else "system", moved)
    return ChangeResult(year, None, None, published, moved)


def calendar_year_view(ctx: ServiceContext, year: int, principal: Principal | None = None) -> dict[str, Any]:
    """A year as the calendar counts it: every day's status, the exceptions, whether it is published.

    An unpublished year shows its statutory festival dates as holidays (source "statutory").
    :raises Forbidden: not staff. :raises InvalidInput: a year outside the calendar.
    """
    if principal is not None and not principal.is_staff:
        raise Forbidden("只有工作人员可以查看工作日历 / only staff may view the calendar")
    _check_year(year)
    with ctx.uow() as uow:
        s = uow.session
        rows = {d: (k, n, src) for d, k, n, src in s.execute(
            select(CalendarDay.day, CalendarDay.kind, CalendarDay.name, CalendarDay.source).where(*_in_year(year)))}
        status = s.execute(select(CalendarYear.published, CalendarYear.source, CalendarYear.updated_at)
                           .where(CalendarYear.year == year)).first()
    published = bool(status and status.published)
    fallback = {} if published else statutory_holidays(year)
    days: list[dict[str, Any]] = []
    for offset in range(366 if month_calendar.isleap(year) else 365):
        day = date(year, 1, 1) + timedelta(days=offset)
        row = rows.get(day)
        kind, name, source = (row if row else ("holiday", fallback[day], "statutory") if day in fallback
                              else (None, "", None))
        days.append({"date": day, "weekday": day.weekday(), "kind": kind, "name": name, "source": source,
                     "working": kind == "workday" or (kind is None and day.weekday() < 5)})
    return {
        "year": year, "published": published, "source": status.source if status else None,
        "updated_at": status.updated_at if status else None,
        "working_days": sum(d["working"] for d in days),
        "days": [d for d in days if d["kind"] is not None],
        "months": [_month(year, m, days) for m in range(1, 13)],
    }


def missing_next_year(ctx: ServiceContext, now: datetime) -> int | None:
    """From 1 October (China time) of year Y: Y+1 when its arrangement is not published, else None.
    (Before October, the current year itself if it was never published.)"""
    local = now.astimezone(CHINA_TZ)
    year = local.year + 1 if local.month >= ALARM_MONTH else local.year
    with ctx.uow() as uow:
        return None if _is_published(uow.session, year) else year


def raise_missing_year_alarm(ctx: ServiceContext, now: datetime) -> int | None:
    """Raise the yellow "next year's arrangement is missing" alarm once and tell the administrators.
    Safe to call on every tick from any number of processes. Returns the year it alarmed for (newly)."""
    year = missing_next_year(ctx, now)
    if year is None:
        return None
    due = datetime.combine(date(year - 1, ALARM_MONTH, 1), time(0, 0), CHINA_TZ)
    message = (f"{year} 年节假日安排尚未录入工作日历，{year} 年的期限均为暂定 / the {year} holiday arrangement "
               f"is not in the working-day calendar: deadlines in {year} are provisional")
    with ctx.uow(write=True) as uow:
        s = uow.session
        inserted = bool(alarms.insert_once(ctx, s, [{"key": f"calendar:{year}", "kind": "calendar",
                                                     "level": "yellow", "message": message, "due_at": due,
                                                     "fired_at": now}]))
        if inserted:
            _notify_admins(s, now, year, message)
        uow.commit()
    if inserted:
        log.warning("calendar: the %s arrangement is missing; administrators alarmed", year)
    return year if inserted else None


def _notify_admins(s: Session, now: datetime, year: int, message: str) -> None:
    notify_roles(
        s, now, ["admin"], "calendar_missing", f"{year} 年节假日安排缺失 / the {year} holiday arrangement is missing",
        message, link=f"/admin/calendar/{year}", dedupe_key=f"calendar:{year}")


def _month(year: int, month: int, days: list[dict[str, Any]]) -> dict[str, Any]:
    """A month as weeks Monday..Sunday, with None outside the month."""
    first = date(year, month, 1).timetuple().tm_yday - 1
    weeks = []
    for week in month_calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        weeks.append([days[first + n - 1] if n else None for n in week])
    return {"month": month, "weeks": weeks}


@contextmanager
def _changing(ctx: ServiceContext) -> Iterator[UnitOfWork]:
    """A calendar change's transaction. The process's copy is reloaded afterwards, committed or not: the
    recount inside loaded the uncommitted calendar, which a rollback must not leave behind."""
    try:
        with ctx.uow(write=True) as uow:
            yield uow
    finally:
        ctx.calendar.invalidate()


def _changed(ctx: ServiceContext, s: Session, since: date, now: datetime, actor: int | None) -> int:
    """Bump the revision and move the open deadlines from `since` on, in the caller's transaction."""
    s.flush()
    bump_revision(s, now)
    moved = clocks.recompute_deadlines(ctx, s, since=since, now=now, actor_id=actor)
    return int(moved + timers.recount_after_calendar_change(ctx, s, since, now, actor))


def _set_year(s: Session, year: int, published: bool, source: str, now: datetime, actor: int | None) -> None:
    status = s.get(CalendarYear, year)
    if status is None:
        s.add(CalendarYear(year=year, published=published, source=source, updated_at=now, updated_by=actor))
    else:
        status.published, status.source, status.updated_at, status.updated_by = published, source, now, actor
    if published:  # the missing-arrangement alarm has been answered
        s.execute(update(Alarm).where(Alarm.key == f"calendar:{year}", Alarm.cleared_at.is_(None))
                  .values(cleared_at=now).execution_options(synchronize_session=False))
    s.flush()


def _day_fields(row: CalendarDay | None) -> dict[str, Any]:
    """A day as the audit trail shows it: no row is the weekday rule."""
    if row is None:
        return {"kind": None, "name": "", "local": False}
    return {"kind": row.kind, "name": row.name, "local": row.source == "local"}


def _is_published(s: Session, year: int) -> bool:
    return bool(s.scalar(select(CalendarYear.published).where(CalendarYear.year == year)))


def _in_year(year: int) -> tuple[Any, ...]:
    return CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("invalid year", [{"field": "year", "message": f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间 / "
                                             f"the year must be between {FIRST_YEAR} and {LAST_YEAR}"}])


def _require_admin(principal: Principal | None) -> None:
    if principal is not None and not principal.is_admin:
        raise Forbidden("只有管理员可以修改工作日历 / only administrators may change the calendar")
