"""好差评 indicators (GB/T 39734-2020; 国办发〔2019〕51号) per period and per department, item, service
window, officer or channel, read with one SQL aggregate over `ratings` (through `ix_ratings_rated_at`)
joined to `rectifications`.

What is counted, and when (the page and the API state the same, from `DEFINITIONS`):
- a service counts once, by its first rating (seq 1): the applicant's or visitor's own rating (kind
  `rating`), or the `defaulted` one written when its rating window closed unrated (level None = 未评, or
  the centre's default level). Services whose window is still open are not counted yet. A follow-up (追加
  评价) is counted apart and does not change the rates of the first rating;
- the period is the day of `rated_at` in China time: when the rating was given, or when the window closed;
- 差评 (bad) means level 2 or 1 given by a rater (first rating or follow-up; a defaulted level is nobody's
  complaint). The rectification figures are the state of those ratings' rectifications now.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, select
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.models import Department, Item, Rating, Rectification, ServiceWindow, User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.ratings.levels import BAD_LEVELS, GOOD_LEVELS

from .filters import Filters, Resolved, authorize, resolve

SQLITE_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
PUBLIC_DIMENSIONS = ("department", "item")  # the public page names no window and no person

COUNTS = ("services", "with_level", "good", "active", "active_good", "unrated", "follow_ups", "bad",
          "valid_bad", "valid_bad_rectified", "real_name_bad", "real_name_bad_called_back")
# rate -> (numerator, denominator)
RATES = {"good_rate": ("good", "with_level"), "active_good_rate": ("active_good", "active"),
         "unrated_rate": ("unrated", "services"), "rectification_rate": ("valid_bad_rectified", "valid_bad"),
         "callback_rate": ("real_name_bad_called_back", "real_name_bad")}

DEFINITIONS: dict[str, dict[str, str]] = {
    "good_rate": {
        "zh": "好评率 = 好评数（非常满意、满意）÷ 有评价等级的首次评价数（主动评价与逾期默认等级的评价均计入；"
              "“未评”不计入）",
        "en": "good-rating rate = first ratings at level 5 or 4 ÷ first ratings with a level (active ratings and "
              "the centre's default level given when the window closed unrated; 未评 is not counted)"},
    "active_good_rate": {
        "zh": "主动评价好评率 = 办事人主动评价中的好评数 ÷ 主动评价数（不含逾期默认评价）",
        "en": "active good-rating rate = good ratings the rater gave themself ÷ ratings the rater gave themself "
              "(no defaulted ratings)"},
    "unrated_rate": {
        "zh": "未评价率 = 评价期满仍未评价的服务数 ÷ 评价期已结束（已评价或期满）的服务数；评价期未满的服务不计入",
        "en": "unrated rate = services whose rating window closed unrated ÷ services rated or whose window closed; "
              "services still in their window are not counted"},
    "rectification_rate": {
        "zh": "差评整改率 = 经核实为有效差评且已整改的差评数 ÷ 经核实为有效差评的差评数",
        "en": "rectification rate = bad ratings judged valid and rectified ÷ bad ratings judged valid"},
    "callback_rate": {
        "zh": "实名差评回访率 = 已回访的实名差评数 ÷ 实名差评数（实名：评价人登录后评价；窗口扫码的匿名评价不计入）",
        "en": "real-name bad-rating callback rate = real-name bad ratings called back ÷ real-name bad ratings "
              "(real-name: the rater was signed in; anonymous window QR ratings are not counted)"},
    "period": {
        "zh": "统计期间按评价时间（期满未评的按评价期结束时间）计，北京时间；每项服务按首次评价计一次，追加评价另计；"
              "差评指 不满意、非常不满意（含追加评价）；分母为 0 时显示“—”",
        "en": "periods follow the rating time (for an unrated service, the end of its window), China time; each "
              "service counts once by its first rating, follow-ups apart; bad = levels 2 and 1 (follow-ups "
              "included); a zero denominator shows “—”"},
}


def ratings(ctx: ServiceContext, principal: Principal, filters: Filters) -> dict[str, Any]:
    """The indicators per period (day, month, year) and dimension, with their counts and totals.

    :raises Forbidden: neither supervisor, administrator nor department head (a head: another department).
    :raises InvalidInput: an unknown department, item, officer or window; a range ending before it starts."""
    filters = authorize(principal, filters)
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        return _answer(ctx, s, found)


def public_results(ctx: ServiceContext, since: date, until: date) -> dict[str, dict[str, Any]]:
    """The centre's results for anyone (§10 公开), per department and per item over the range (one
    aggregate, folded both ways): rates and counts only, no names of people.

    :raises InvalidInput: a range ending before it starts."""
    filters = Filters(since=since, until=until, period="year")
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        groups = _groups(ctx, s, found, {"department": Rating.department_id, "item": Rating.item_id})
        return {by: _finish(s, replace(filters, by=by), _fold(groups, by)) for by in PUBLIC_DIMENSIONS}


def _answer(ctx: ServiceContext, s: Session, found: Resolved) -> dict[str, Any]:
    f = found.filters
    return _finish(s, f, _groups(ctx, s, found, {"key": _dimension(f.by)}))


def _groups(ctx: ServiceContext, s: Session, found: Resolved, keys: dict[str, Any]) -> list[dict[str, Any]]:
    """The counts per period and `keys` (name -> column)."""
    f = found.filters
    columns = [_period(ctx, f.period).label("period"), *(c.label(n) for n, c in keys.items())]
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for query in (_all_ratings(columns), _bad_ratings(columns)):  # the second only reads the (few) bad ratings
        for r in s.execute(_where(query, found).group_by(*columns)):
            found_keys = {n: r._mapping[n] for n in keys}
            period = _period_text(r.period, f.period)
            row = groups.setdefault((period, *found_keys.values()),
                                    {"period": period, **found_keys, **dict.fromkeys(COUNTS, 0)})
            row.update({c: int(v or 0) for c, v in r._mapping.items() if c in COUNTS})
    return list(groups.values())


def _fold(groups: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """The groups summed per period and `by` alone."""
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    for g in groups:
        row = out.setdefault((g["period"], g[by]), {"period": g["period"], "key": g[by], **dict.fromkeys(COUNTS, 0)})
        for c in COUNTS:
            row[c] += g[c]
    return list(out.values())


def _finish(s: Session, f: Filters, groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows in order with their labels and rates, and the totals."""
    rows = sorted(groups, key=lambda r: (r["period"], r["key"] is None, r["key"] if r["key"] is not None else 0))
    labels = labels_of(s, f.by, {r["key"] for r in rows})
    for row in rows:
        row["label"] = labels.get(row["key"], str(row["key"]))
        row.update(rates(row))
    totals = {c: sum(r[c] for r in rows) for c in COUNTS}  # each rating is in exactly one group
    return {"filters": echo(f), "counts": list(COUNTS), "rates": list(RATES), "rows": rows,
            "totals": {**totals, **rates(totals)}, "definitions": DEFINITIONS}


def rates(row: dict[str, Any]) -> dict[str, float | None]:
    """Each rate as a fraction rounded to 4 places; None for a zero denominator (shown as —, not 0 %)."""
    return {name: round(row[num] / row[den], 4) if row[den] else None for name, (num, den) in RATES.items()}


def _count(*conditions: ColumnElement[bool]) -> Any:
    return func.count().filter(and_(*conditions)) if conditions else func.count()


def _all_ratings(keys: list[Any]) -> Select[Any]:
    """The counts of the first ratings and follow-ups: one pass over the ratings of the range, no join."""
    first, level, active = Rating.seq == 1, Rating.level, Rating.kind == "rating"
    return select(*keys, _count(first).label("services"), _count(first, level.is_not(None)).label("with_level"),
                  _count(first, level.in_(GOOD_LEVELS)).label("good"), _count(first, active).label("active"),
                  _count(first, active, level.in_(GOOD_LEVELS)).label("active_good"),
                  _count(first, Rating.kind == "defaulted").label("unrated"),
                  _count(Rating.seq == 2).label("follow_ups"))


def _bad_ratings(keys: list[Any]) -> Select[Any]:
    """The counts of the bad ratings given by a rater, with their rectifications' state now."""
    valid, real_name = Rectification.classification == "valid", Rating.rated_by_id.is_not(None)
    return (select(*keys, _count().label("bad"), _count(valid).label("valid_bad"),
                   _count(valid, Rectification.rectified_at.is_not(None)).label("valid_bad_rectified"),
                   _count(real_name).label("real_name_bad"),
                   _count(real_name, Rectification.called_back_at.is_not(None)).label("real_name_bad_called_back"))
            .select_from(Rating).outerjoin(Rectification, Rectification.rating_id == Rating.id)
            .where(Rating.level.in_(BAD_LEVELS), Rating.kind != "defaulted"))


def _where(query: Select[Any], found: Resolved) -> Select[Any]:
    f = found.filters
    query = query.where(Rating.rated_at >= day_start(f.since), Rating.rated_at < day_start(f.until + timedelta(days=1)))
    for column, value in ((Rating.department_id, found.department_id), (Rating.item_id, found.item_id),
                          (Rating.officer_id, found.officer_id), (Rating.window_id, found.window_id),
                          (Rating.channel, f.channel)):
        if value is not None:
            query = query.where(column == value)
    return query


def day_start(day: date) -> datetime:
    """The first instant of a China day."""
    return datetime.combine(day, time(0), CHINA_TZ)


def _period(ctx: ServiceContext, period: str) -> ColumnElement[Any]:
    """The China day, month or year of `rated_at`: its first instant on PostgreSQL (date_trunc costs a
    third of to_char per row), text on SQLite."""
    if ctx.db.is_postgres:
        return func.date_trunc(period, func.timezone("Asia/Shanghai", Rating.rated_at))
    return func.strftime(SQLITE_FORMAT[period], Rating.rated_at, "+8 hours")


def _period_text(value: Any, period: str) -> str:
    """'2026-11-23', '2026-11' or '2026'."""
    return value.strftime(SQLITE_FORMAT[period]) if isinstance(value, datetime) else str(value)


def _dimension(by: str | None) -> ColumnElement[Any]:
    column = {"department": Rating.department_id, "item": Rating.item_id, "window": Rating.window_id,
              "officer": Rating.officer_id, "channel": Rating.channel}.get(by or "")
    return column if column is not None else literal(None)


def labels_of(s: Session, by: str | None, keys: set[Any]) -> dict[Any, str]:
    """Readable names for the dimension's keys: code and name; an officer's name and user name."""
    ids = [k for k in keys if isinstance(k, int)]
    names: dict[Any, str] = {}
    if by == "department" and ids:
        names = {i: f"{n} ({c})" for i, c, n in s.execute(
            select(Department.id, Department.code, Department.name).where(Department.id.in_(ids)))}
    elif by == "item" and ids:
        names = {i: f"{n} ({c})" for i, c, n in s.execute(
            select(Item.id, Item.code, Item.name).where(Item.id.in_(ids)))}
    elif by == "window" and ids:
        names = {i: f"{n} ({c})" for i, c, n in s.execute(
            select(ServiceWindow.id, ServiceWindow.code, ServiceWindow.name).where(ServiceWindow.id.in_(ids)))}
    elif by == "officer" and ids:
        names = {i: f"{n or u} ({u})" for i, u, n in s.execute(
            select(User.id, User.username, User.full_name).where(User.id.in_(ids)))}
    elif by == "channel":
        names = {"online": "网上评价 / online", "window": "窗口评价 / at a window"}
    none = {"department": "未归属部门 / no department", "item": "无事项（咨询等）/ no item",
            "window": "网上办件（无窗口）/ no window", "officer": "无经办人 / no officer"}.get(by or "", "合计 / all")
    return {**names, None: none}


def echo(f: Filters) -> dict[str, Any]:
    return {"from": f.since.isoformat(), "to": f.until.isoformat(), "period": f.period, "by": f.by,
            "department": f.department, "item": f.item, "officer": f.officer, "channel": f.channel,
            "window": f.window}
