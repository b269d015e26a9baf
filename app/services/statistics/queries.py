"""The figures: workload and times from the rollups only; the backlog (what is open now) from the
cases table through `ix_cases_open`, grouped by the day received, so only a few hundred rows reach Python
whatever the number of open cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, Subquery, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import InvalidInput
from app.models import (
    MEASURES,
    STAGES,
    Case,
    Department,
    Item,
    ServiceWindow,
    StatDaily,
    StatDuration,
    StatOfficerDaily,
    User,
    WindowClerk,
)
from app.models.statistics import (
    StatDurationMonthly,
    StatMonthly,
    StatOfficerDuration,
    StatOfficerDurationMonthly,
    StatOfficerMonthly,
)
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from .filters import PER_OFFICER, Filters, Resolved, authorize, resolve

PERIOD_LENGTH = {"day": 10, "month": 7, "year": 4}  # of 'YYYY-MM-DD'
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 5), (6, 10), (11, 20), (21, 45), (46, None))
# (daily table, monthly table) of each rollup: same columns, the monthly one keyed by the month's first day.
COUNTS: tuple[Any, Any] = (StatDaily, StatMonthly)
OFFICER_COUNTS: tuple[Any, Any] = (StatOfficerDaily, StatOfficerMonthly)
DURATIONS: tuple[Any, Any] = (StatDuration, StatDurationMonthly)
OFFICER_DURATIONS: tuple[Any, Any] = (StatOfficerDuration, StatOfficerDurationMonthly)


def workload(ctx: ServiceContext, principal: Principal, filters: Filters) -> dict[str, Any]:
    """Received, accepted, finished, refused, withdrawn, corrections, on time / late per period (and
    dimension), with the on-time rate and corrections per case and, by case (not per officer or window),
    the cases in progress at the period's end (`open_at_end`); `in_progress` is the open cases now.

    :raises Forbidden, InvalidInput:"""
    filters = authorize(principal, filters)
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        rows_of = _source(OFFICER_COUNTS if filters.per_officer else COUNTS, found)
        period, key = _period(rows_of, filters), _key(rows_of, filters.by)
        sums = [func.sum(rows_of.c[m]).label(m) for m in MEASURES]
        query = _at_window(select(period, key, *sums).select_from(rows_of), rows_of, found)
        query = query.group_by(period, key).order_by(period, key)
        rows = [{"period": r.period, "key": r.key, **{m: int(getattr(r, m) or 0) for m in MEASURES}}
                for r in s.execute(query)]
        labels = _labels(s, filters.by, {r["key"] for r in rows})
        opening = None if filters.per_officer else _opening(s, found)
        in_progress = s.scalar(_open_cases(select(func.count()).select_from(Case), found)) or 0
    for row in rows:
        row["label"] = labels.get(row["key"], str(row["key"]))
        row.update(_rates(row))
    totals: dict[str, Any] = {m: sum(r[m] for r in rows) for m in MEASURES}
    totals["open_at_end"] = _running_stock(rows, opening)
    return {"filters": _echo(found.filters), "measures": list(MEASURES), "rows": rows,
            "totals": {**totals, **_rates(totals)}, "in_progress": in_progress}


def _opening(s: Session, found: Resolved) -> dict[Any, int]:
    """Per key, the cases received before the range and not finished or withdrawn before it: the whole
    months before from the monthly table, the days of the range's first month before it from the daily."""
    f = found.filters
    first = f.since.replace(day=1)
    parts = [_rows(StatMonthly, found, date(1900, 1, 1), first - timedelta(days=1))]
    if f.since > first:
        parts.append(_rows(StatDaily, found, first, f.since - timedelta(days=1)))
    rows_of = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    key = _key(rows_of, f.by)
    stock = func.sum(rows_of.c.received - rows_of.c.finished - rows_of.c.withdrawn)
    return {r[0]: int(r[1] or 0) for r in s.execute(select(key, stock).group_by(key))}


def _running_stock(rows: list[dict[str, Any]], opening: dict[Any, int] | None) -> int | None:
    """Set each row's `open_at_end` (None per officer); returns the stock at the range's end."""
    if opening is None:
        for row in rows:
            row["open_at_end"] = None
        return None
    stock = dict(opening)
    for row in rows:  # in period order
        stock[row["key"]] = stock.get(row["key"], 0) + row["received"] - row["finished"] - row["withdrawn"]
        row["open_at_end"] = stock[row["key"]]
    return sum(stock.values())


def times(ctx: ServiceContext, principal: Principal, filters: Filters) -> dict[str, Any]:
    """Working days per stage (received→accepted, accepted→decided, received→finished), average and 90th
    percentile, per period and dimension, for the stages that ended in the range. Per officer (or window)
    a stage counts for the officer who ended it: accepted, decided, finished the case.

    :raises Forbidden, InvalidInput:"""
    filters = authorize(principal, filters)
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        rows_of = _source(OFFICER_DURATIONS if filters.per_officer else DURATIONS, found)
        period, key = _period(rows_of, filters), _key(rows_of, filters.by)
        query = _at_window(select(period, key, rows_of.c.stage, rows_of.c.workdays,
                                  func.sum(rows_of.c.cases).label("n")).select_from(rows_of), rows_of, found)
        query = query.group_by(period, key, rows_of.c.stage, rows_of.c.workdays)
        histograms: dict[tuple[str, Any, str], dict[int, int]] = {}
        for period_of, key_of, stage, workdays, n in s.execute(query):
            histograms.setdefault((period_of, key_of, stage), {})[int(workdays)] = int(n)
        labels = _labels(s, filters.by, {k for _, k, _ in histograms})
    order = sorted(histograms, key=lambda pks: (pks[0], str(pks[1]), STAGES.index(pks[2])))
    rows = [{"period": p, "key": k, "label": labels.get(k, str(k)), "stage": stage,
             **summary(histograms[(p, k, stage)])} for p, k, stage in order]
    return {"filters": _echo(found.filters), "stages": list(STAGES), "rows": rows}


def summary(histogram: dict[int, int]) -> dict[str, Any]:
    """Cases, average and 90th percentile (nearest rank) of a histogram of working days."""
    cases = sum(histogram.values())
    if not cases:
        return {"cases": 0, "avg_workdays": None, "p90_workdays": None}
    rank, seen, p90 = -(-9 * cases // 10), 0, 0  # ceil(0.9 n)
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            p90 = days
            break
    avg = sum(d * n for d, n in histogram.items()) / cases
    return {"cases": cases, "avg_workdays": round(avg, 2), "p90_workdays": p90}


def backlog(ctx: ServiceContext, principal: Principal, filters: Filters) -> dict[str, Any]:
    """The cases open now, by age in working days since receipt (0–5, 6–10, 11–20, 21–45, over 45) and
    dimension. The date range does not apply: a backlog is a picture of today.

    :raises Forbidden, InvalidInput:"""
    filters = authorize(principal, filters)
    _not_per_officer(filters, "在办积压不按工作人员或窗口统计 / the backlog is not kept per officer or window")
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        rows = _backlog_rows(ctx, s, found)
        labels = _labels(s, filters.by, {r["key"] for r in rows})
    for row in rows:
        row["label"] = labels.get(row["key"], str(row["key"]))
    return {"filters": _echo(found.filters), "as_of": ctx.clock.now().astimezone(CHINA_TZ).date().isoformat(),
            "buckets": [bucket_name(b) for b in AGE_BUCKETS], "rows": rows,
            "total": sum(r["cases"] for r in rows)}


def _not_per_officer(filters: Filters, message: str) -> None:
    """:raises InvalidInput: the question needs the per-officer rollup."""
    if filters.per_officer:
        field = "by" if filters.by in PER_OFFICER else ("officer" if filters.officer is not None else "window")
        raise InvalidInput(message, [{"field": field, "message": message}])


def bucket_name(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    return f"{low}-{high}" if high is not None else f">{low - 1}"


def _backlog_rows(ctx: ServiceContext, s: Session, found: Resolved) -> list[dict[str, Any]]:
    received = _china_date(ctx, Case.received_at).label("received")
    key = {"department": Item.department_id, "item": Case.item_id, "channel": Case.channel}.get(
        found.filters.by or "", literal(None)).label("key")
    query = _open_cases(select(key, received, func.count().label("n")).select_from(Case), found,
                        by_department=found.filters.by == "department")
    cal = ctx.calendar.get(s)
    today = ctx.clock.now().astimezone(CHINA_TZ).date()
    names = [bucket_name(b) for b in AGE_BUCKETS]
    buckets: dict[Any, str] = {}  # received day -> its age bucket
    out: dict[Any, dict[str, Any]] = {}
    for r in s.execute(query.group_by(key, received)):
        row = out.get(r.key)
        if row is None:
            row = out[r.key] = {"key": r.key, "cases": 0, **dict.fromkeys(names, 0)}
        bucket = buckets.get(r.received)
        if bucket is None:
            age = cal.workdays_between(_as_day(r.received), today)
            bucket = buckets[r.received] = names[next(i for i, b in enumerate(AGE_BUCKETS) if b[1] is None or age <= b[1])]
        row[bucket] += int(r.n)
        row["cases"] += int(r.n)
    return sorted(out.values(), key=lambda r: str(r["key"]))


def _open_cases(query: Select[Any], found: Resolved, by_department: bool = False) -> Select[Any]:
    """The cases received and not yet closed, with the filters; items are joined only to group by
    department, so a count is read from ix_cases_open alone."""
    query = query.where(Case.closed_at.is_(None), Case.received_at.is_not(None), Case.channel != "internal")
    if by_department:
        query = query.join(Item, Item.id == Case.item_id)
    if found.department_id is not None:
        query = query.where(Case.item_id.in_(select(Item.id).where(Item.department_id == found.department_id)))
    if found.item_id is not None:
        query = query.where(Case.item_id == found.item_id)
    if found.filters.channel is not None:
        query = query.where(Case.channel == found.filters.channel)
    return query


def _china_date(ctx: ServiceContext, column: Any) -> ColumnElement[Any]:
    if ctx.db.is_postgres:
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _source(tables: tuple[Any, Any], found: Resolved) -> Subquery:
    """The rollup rows of the range with the filters: the whole months from the monthly table when the
    answer is per month or year, the days at either end (and every day of a daily answer) from the daily
    table."""
    daily, monthly = tables
    f = found.filters
    months = _whole_months(f.since, f.until) if f.period != "day" else None
    if months is None:
        return _rows(daily, found, f.since, f.until).subquery()
    first, last = months  # first days of the first and the last whole month
    after = _next_month(last)
    parts = [_rows(monthly, found, first, last)]
    if f.since < first:
        parts.append(_rows(daily, found, f.since, first - timedelta(days=1)))
    if f.until >= after:
        parts.append(_rows(daily, found, after, f.until))
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _whole_months(since: date, until: date) -> tuple[date, date] | None:
    first = since if since.day == 1 else _next_month(since)
    end = _next_month(until)  # the first day after until's month
    last = until.replace(day=1) if until + timedelta(days=1) == end else _previous_month(until.replace(day=1))
    return (first, last) if first <= last else None


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def _rows(table: Any, found: Resolved, since: date, until: date) -> Select[Any]:
    query = select(*table.__table__.c).where(table.day >= since, table.day <= until)
    for column, value in (("department_id", found.department_id), ("item_id", found.item_id),
                          ("channel", found.filters.channel), ("officer_id", found.officer_id)):
        if value is not None and column in table.__table__.c:
            query = query.where(table.__table__.c[column] == value)
    return query


def _period(rows_of: Subquery, filters: Filters) -> ColumnElement[Any]:
    return func.substr(cast(rows_of.c.day, String), 1, PERIOD_LENGTH[filters.period]).label("period")


def _key(rows_of: Subquery, by: str | None) -> ColumnElement[Any]:
    if by == "window":
        return WindowClerk.window_id.label("key")
    column = {"department": "department_id", "item": "item_id", "channel": "channel", "officer": "officer_id"}.get(by or "")
    return (rows_of.c[column] if column else literal(None)).label("key")


def _at_window(query: Select[Any], rows_of: Subquery, found: Resolved) -> Select[Any]:
    """Per window: the window each officer is seated at now (officers seated at none: key NULL)."""
    if found.filters.by == "window" or found.window_id is not None:
        query = query.outerjoin(WindowClerk, WindowClerk.user_id == rows_of.c.officer_id)
        if found.window_id is not None:
            query = query.where(WindowClerk.window_id == found.window_id)
    return query


def _labels(s: Session, by: str | None, keys: set[Any]) -> dict[Any, str]:
    """Readable names for the dimension's keys (code and name, or the officer's name and staff number)."""
    ids = [k for k in keys if isinstance(k, int)]
    if by == "department" and ids:
        return {i: f"{n} ({c})" for i, c, n in s.execute(select(Department.id, Department.code, Department.name)
                                                         .where(Department.id.in_(ids)))}
    if by == "item" and ids:
        return {i: f"{n} ({c})" for i, c, n in s.execute(select(Item.id, Item.code, Item.name).where(Item.id.in_(ids)))}
    if by == "officer":
        names = {i: f"{n or u} ({u})" for i, u, n in s.execute(select(User.id, User.username, User.full_name)
                                                               .where(User.id.in_(ids)))}
        return {**names, 0: "网上申请（无经办人）/ online, no officer"}
    if by == "channel":
        return {"online": "网上申请 / online", "window": "窗口收件 / window"}
    if by == "window":
        names = {i: f"{n} ({c})" for i, c, n in s.execute(select(ServiceWindow.id, ServiceWindow.code, ServiceWindow.name)
                                                          .where(ServiceWindow.id.in_(ids)))}
        return {**names, None: "未设窗口 / no window"}
    return {None: "合计 / all"}


def _rates(row: dict[str, Any]) -> dict[str, float | None]:
    judged = row["on_time"] + row["late"]
    return {"on_time_rate": round(row["on_time"] / judged, 4) if judged else None,
            "corrections_per_case": round(row["corrections"] / row["received"], 4) if row["received"] else None}


def _echo(f: Filters) -> dict[str, Any]:
    return {"from": f.since.isoformat(), "to": f.until.isoformat(), "period": f.period, "by": f.by,
            "department": f.department, "item": f.item, "officer": f.officer, "channel": f.channel,
            "window": f.window}


def default_range(today: date) -> tuple[date, date]:
    """This year so far."""
    return date(today.year, 1, 1), today

