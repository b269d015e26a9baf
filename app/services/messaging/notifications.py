"""Notifications: raising them inside the caller's transaction, and each user's list with its unread count.

`notify` and its group / role variants write in-app rows and outbox rows (e-mail, SMS) in the session
they are given and never commit: a notification exists exactly when the alarm, acceptance or order that
raised it is committed. With a `dedupe_key`, raising the same event again inserts nothing (the keys
are unique per user and channel; the insert is `ON CONFLICT DO NOTHING`, so a duplicate never aborts
the caller's transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import NOTIFICATION_KINDS, Case, Group, Notification, OutboxMessage, User, memberships
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, window

NOTIFY_CHANNELS = ("app", "email", "sms")


@dataclass(frozen=True)
class Notified:
    """How many rows one `notify` call inserted (duplicates of an earlier call are not counted)."""

    app: int
    outbox: int


@dataclass(frozen=True)
class NotificationPage(Page[dict[str, Any]]):
    unread: int = 0  # of all the user's notifications, for the bell and the tab


def notify(s: Session, now: datetime, user_ids: Iterable[int], kind: str, title: str, body: str,
           case_id: int | None = None, link: str | None = None, channels: Sequence[str] = ("app",),
           dedupe_key: str | None = None) -> Notified:
    """Notify active users in app and/or by e-mail / SMS, in the caller's transaction (no commit).

    Users without an address for a channel are skipped for that channel.
    :raises ValueError: unknown kind or channel, or a link that is not a path on this site.
    """
    _check(kind, channels, link)
    users = s.execute(select(User.id, User.phone, *_email_column()).where(
        User.id.in_(set(user_ids)), User.active.is_(True)).order_by(User.id)).all()
    app_rows = [{"user_id": u.id, "kind": kind, "title": title[:200], "body": body, "case_id": case_id,
                 "link": link, "dedupe_key": _key(dedupe_key, u.id), "created_at": now}
                for u in users] if "app" in channels else []
    out_rows = [{"channel": channel, "recipient": address, "subject": title[:200], "body": body, "user_id": u.id,
                 "dedupe_key": _key(dedupe_key, u.id, channel), "state": "pending", "attempts": 0,
                 "next_attempt_at": now, "created_at": now}
                for channel in channels if channel != "app"
                for u in users if (address := _address(u, channel))]
    return Notified(_insert(s, Notification, app_rows), _insert(s, OutboxMessage, out_rows))


def notify_groups(s: Session, now: datetime, group_names: Iterable[str], kind: str, title: str, body: str,
                  **options: Any) -> Notified:
    """`notify` every member of the named groups (e.g. "market.head")."""
    ids = s.scalars(select(memberships.c.user_id).join(Group, Group.id == memberships.c.group_id)
                    .where(Group.name.in_(set(group_names)))).all()
    return notify(s, now, ids, kind, title, body, **options)


def notify_roles(s: Session, now: datetime, roles: Iterable[str], kind: str, title: str, body: str,
                 **options: Any) -> Notified:
    """`notify` every user holding one of `roles`, as their own role or through a group (e.g. "admin")."""
    wanted = set(roles)
    by_group = select(memberships.c.user_id).join(Group, Group.id == memberships.c.group_id).where(
        Group.role.in_(wanted))
    ids = s.scalars(select(User.id).where(or_(User.role.in_(wanted), User.id.in_(by_group)))).all()
    return notify(s, now, ids, kind, title, body, **options)


def unread_count(ctx: ServiceContext, principal: Principal) -> int:
    """The number on the header's bell: one count on the (user_id, read_at) index."""
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == principal.id, Notification.read_at.is_(None))) or 0


def list_notifications(ctx: ServiceContext, principal: Principal, unread: bool = False, page: int = 1,
                       per_page: int = 20) -> NotificationPage:
    """The user's own notifications, newest first."""
    page, per_page = window(page, per_page)
    mine = Notification.user_id == principal.id
    with ctx.uow() as uow:
        s = uow.session
        unread_total = s.scalar(select(func.count()).select_from(Notification).where(
            mine, Notification.read_at.is_(None))) or 0
        total = unread_total if unread else (s.scalar(select(func.count()).select_from(Notification).where(mine)) or 0)
        query = (select(Notification, Case.case_no).outerjoin(Case, Case.id == Notification.case_id).where(mine)
                 .order_by(Notification.created_at.desc(), Notification.id.desc())
                 .limit(per_page).offset(offset(page, per_page)))
        if unread:
            query = query.where(Notification.read_at.is_(None))
        items = [_view(n, case_no) for n, case_no in s.execute(query)]
    return NotificationPage(items, page, per_page, total, unread=unread_total)


def mark_read(ctx: ServiceContext, principal: Principal, notification_id: int) -> dict[str, Any]:
    """Mark one of the user's own notifications read (again: no change).

    :raises NotFound: no such notification, or another user's.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        row = s.execute(select(Notification, Case.case_no).outerjoin(Case, Case.id == Notification.case_id).where(
            Notification.id == notification_id, Notification.user_id == principal.id)).first()
        if row is None:
            raise NotFound("没有这条通知 / no such notification", [{"field": "id", "message": "no such notification"}])
        notification, case_no = row
        if notification.read_at is None:
            notification.read_at = ctx.clock.now()
        uow.commit()
        return _view(notification, case_no)


def mark_all_read(ctx: ServiceContext, principal: Principal) -> int:
    """Mark all of the user's unread notifications read; returns how many."""
    with ctx.uow(write=True) as uow:
        result = uow.session.execute(update(Notification).where(
            Notification.user_id == principal.id, Notification.read_at.is_(None)).values(read_at=ctx.clock.now()))
        uow.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _view(n: Notification, case_no: str | None) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "case_no": case_no, "link": n.link,
            "created_at": n.created_at, "read_at": n.read_at, "unread": n.read_at is None}


def _check(kind: str, channels: Sequence[str], link: str | None) -> None:
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    unknown = set(channels) - set(NOTIFY_CHANNELS)
    if unknown:
        raise ValueError(f"unknown notification channel(s) {sorted(unknown)}")
    # Rendered as a link on the list page: only a path on this site, never another site or a script.
    if link is not None and (not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 300):
        raise ValueError(f"a notification link must be a path on this site, got {link!r}")


def _email_column() -> list[Any]:
    # Users have no e-mail column yet (app/models/org.py): until they do, e-mail notifications find
    # no address and are skipped, like a user without a phone number for SMS.
    column = getattr(User, "email", None)
    return [column.label("email")] if column is not None else []


def _address(user: Any, channel: str) -> str | None:
    value = user.phone if channel == "sms" else getattr(user, "email", None)
    return (value or "").strip() or None


def _key(dedupe_key: str | None, user_id: int, channel: str = "app") -> str | None:
    return None if dedupe_key is None else f"{dedupe_key}|{channel}|{user_id}"[:200]


def _insert(s: Session, model: type[Notification] | type[OutboxMessage], rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(model).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return len(s.execute(statement.returning(model.id)).all())  # duplicates skipped return no row
