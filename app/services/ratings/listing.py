"""Ratings for supervisors and administrators: filtered by department, item, window, officer, level or
grade, channel and the days rated on (China time), newest first, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from app.errors import Forbidden
from app.models import Case, Department, Item, Rating, ServiceWindow, User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, clamp_date, offset, window
from app.workdays import start_of_day

from . import rules
from .levels import BAD_LEVELS, DIMENSIONS, GOOD_LEVELS, NEUTRAL_LEVELS, grade, level_name


@dataclass(frozen=True)
class RatingFilter:
    department: str | None = None
    item: str | None = None
    window: str | None = None
    officer: str | None = None
    level: int | None = None
    grade: str | None = None  # good / neutral / bad / unrated
    channel: str | None = None
    kind: str | None = None
    since: date | None = None
    until: date | None = None


def list_ratings(ctx: ServiceContext, principal: Principal, flt: RatingFilter, page: int = 1,
                 per_page: int = 20) -> Page[dict[str, Any]]:
    """:raises Forbidden: not a supervisor or administrator."""
    if not principal.sees_everything:
        raise Forbidden("仅监察人员和管理员可查看评价 / supervisors and administrators only")
    page, per_page = window(page, per_page)
    officer = aliased(User)
    query = (select(Rating, Case.case_no, Item.code, Item.name, Department.code, Department.name,
                    ServiceWindow.code, ServiceWindow.name, officer.full_name, officer.staff_no)
             .outerjoin(Case, Case.id == Rating.case_id).outerjoin(Item, Item.id == Rating.item_id)
             .outerjoin(Department, Department.id == Rating.department_id)
             .outerjoin(ServiceWindow, ServiceWindow.id == Rating.window_id)
             .outerjoin(officer, officer.id == Rating.officer_id)
             .where(*_conditions(flt, officer)))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(Rating.rated_at.desc(), Rating.id.desc())
                         .offset(offset(page, per_page)).limit(per_page)).all()
        names = {r["code"]: r for r in rules.current(s).reasons}
        return Page([_row(r, names) for r in rows], page, per_page, total)


def _conditions(flt: RatingFilter, officer: Any) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for value, column in ((flt.department, Department.code), (flt.item, Item.code),
                          (flt.window, ServiceWindow.code), (flt.officer, officer.username),
                          (flt.channel, Rating.channel), (flt.kind, Rating.kind), (flt.level, Rating.level)):
        if value is not None and value != "":
            out.append(column == value)
    if flt.grade == "unrated":
        out.append(Rating.level.is_(None))
    elif flt.grade:
        levels = {"good": GOOD_LEVELS, "neutral": NEUTRAL_LEVELS, "bad": BAD_LEVELS}[flt.grade]
        out.append(Rating.level.in_(levels))
    if flt.since is not None:
        out.append(Rating.rated_at >= start_of_day(clamp_date(flt.since)))
    if flt.until is not None:
        out.append(Rating.rated_at < start_of_day(clamp_date(flt.until) + timedelta(days=1)))
    return out


def _row(row: Any, names: dict[str, dict[str, str]]) -> dict[str, Any]:
    rating: Rating = row[0]
    dims = DIMENSIONS.get(rating.channel, {})
    return {
        "id": rating.id, "case_no": row[1], "channel": rating.channel, "kind": rating.kind,
        "level": rating.level, "level_name": level_name(rating.level), "grade": grade(rating.level),
        "dimensions": [{"code": c, "name": dims[c][0] if c in dims else c, "level": v}
                       for c, v in (rating.dimensions or {}).items()],
        "reasons": [{"code": c, "name": names[c]["zh"] if c in names else c} for c in rating.reasons or []],
        "comment": rating.comment, "rated_at": rating.rated_at.isoformat(), "follow_up_of": rating.follow_up_of_id,
        "item": {"code": row[2], "name": row[3]} if row[2] else None,
        "department": {"code": row[4], "name": row[5]} if row[4] else None,
        "window": {"code": row[6], "name": row[7]} if row[6] else None,
        "officer": {"name": row[8], "staff_no": row[9]} if row[8] is not None else None,
    }
