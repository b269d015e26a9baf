"""The administrative audit trail (审计日志): every deploy, migration, item revision and publish,
organisation and calendar change is recorded here, in the transaction that makes the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.models import AuditEntry

from .context import ServiceContext
from .paging import Page, on_days, window


class Actor(Protocol):
    """Who made the change (a Principal); None stands for a trusted caller such as the CLI."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


def record(s: Session, actor: Actor | None, at: datetime, action: str, object_type: str, object_id: object,
           summary: str = "", before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Append one entry; the caller's commit makes it permanent together with the change itself.

    `action` is a dotted verb (`process.deploy`, `item.publish`, `user.disable`, ...); `before`/`after`
    hold the changed fields only (or the whole object when it is created or removed), JSON-serializable.
    """
    s.execute(insert(AuditEntry.__table__).values(
        at=at, actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "cli", action=action[:64],
        object_type=object_type[:32], object_id=str(object_id)[:128], summary=summary[:500],
        before=before, after=after))


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def search(ctx: ServiceContext, principal: Any, flt: AuditFilter, page: int = 1, per_page: int = 50
           ) -> Page[AuditRow]:
    """Entries newest first, filtered; administrators only.

    :raises Forbidden: not an admin.
    """
    if not principal.has("admin"):
        raise Forbidden("只有管理员可以查看审计日志 / only administrators may read the audit trail")
    page, per_page = window(page, per_page)
    query = select(AuditEntry)
    if flt.object_type:
        query = query.where(AuditEntry.object_type == flt.object_type)
    if flt.object_id:
        query = query.where(AuditEntry.object_id == flt.object_id)
    if flt.actor:
        query = query.where(AuditEntry.actor_name == flt.actor)
    if flt.action:
        query = query.where(AuditEntry.action.startswith(flt.action, autoescape=True))
    query = query.where(*on_days(AuditEntry.at, flt.since, flt.until))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page))
        items = [AuditRow(e.id, e.at, e.actor_name, e.action, e.object_type, e.object_id, e.summary, e.before,
                          e.after) for e in rows]
    return Page(items, page, per_page, total)
