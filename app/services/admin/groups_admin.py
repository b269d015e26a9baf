"""Groups (routing targets: `market.approver`, `market`, `approver`) and their members. A group's name
is fixed once created: BPMN `candidateGroups`, lanes and open tasks' candidate rows hold it as text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ErrorDetail
from app.models import Department, Group, User, memberships
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, window

from .organisation import (
    GROUP_NAME,
    GroupRow,
    department_by_code,
    error,
    invalid,
    load,
    require_admin,
    role_errors,
)

MAX_MEMBERS = 1000


def list_groups(ctx: ServiceContext, principal: Principal, q: str | None = None, department: str | None = None,
                page: int = 1, per_page: int = 50) -> Page[GroupRow]:
    """Groups by name with their members' user names. :raises Forbidden: not an admin."""
    require_admin(principal)
    page, per_page = window(page, per_page)
    query = select(Group)
    if q:
        query = query.where(Group.name.ilike(f"%{q.strip()}%"))
    if department:
        query = query.join(Department, Group.department_id == Department.id).where(Department.code == department)
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        groups = list(s.scalars(query.order_by(Group.name).offset((page - 1) * per_page).limit(per_page)))
        return Page([GroupRow.of(g, members(s, g.id)) for g in groups], page, per_page, total)


def all_groups(ctx: ServiceContext) -> list[str]:
    """Every group's name, for choosers."""
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(Group.name).order_by(Group.name)))


def group_id_by_name(ctx: ServiceContext, name: str) -> int | None:
    with ctx.uow() as uow:
        found: int | None = uow.session.scalar(select(Group.id).where(Group.name == name))
        return found


def get_group(ctx: ServiceContext, principal: Principal, group_id: int) -> GroupRow:
    """:raises Forbidden: not an admin. :raises OrganisationNotFound: no such group."""
    require_admin(principal)
    with ctx.uow() as uow:
        group = load(uow.session, Group, group_id, "用户组 / group")
        return GroupRow.of(group, members(uow.session, group.id))


def create_group(ctx: ServiceContext, principal: Principal, name: str, department: str | None = None,
                 role: str | None = None) -> GroupRow:
    """:raises Forbidden: not an admin. :raises InvalidInput: bad or taken name, unknown department or role."""
    require_admin(principal)
    name = (name or "").strip()
    with ctx.uow(write=True) as uow:
        s = uow.session
        errors = _name_errors(s, name)
        dept, dept_errors = department_by_code(s, department)
        errors += dept_errors + role_errors(role, required=False)
        if errors:
            raise invalid(errors)
        group = Group(name=name, department=dept, role=role or None)
        s.add(group)
        s.flush()
        row = GroupRow.of(group, [])
        audit.record(s, principal, ctx.clock.now(), "group.create", "group", group.id,
                     f"创建用户组 / created group {name}", None, _snapshot(row))
        uow.commit()
    return row


def update_group(ctx: ServiceContext, principal: Principal, group_id: int, fields: Mapping[str, Any]) -> GroupRow:
    """Change a group's department or role (not its name: see the module's note).

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such group.
    :raises InvalidInput: unknown department or role, or an attempt to rename.
    """
    return save_group(ctx, principal, group_id, fields, None)


def set_members(ctx: ServiceContext, principal: Principal, group_id: int, usernames: Sequence[str]) -> GroupRow:
    """Make the group's members exactly these users.

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such group.
    :raises InvalidInput: unknown user names (all named); nothing is changed.
    """
    return save_group(ctx, principal, group_id, {}, usernames)


def save_group(ctx: ServiceContext, principal: Principal, group_id: int, fields: Mapping[str, Any],
               usernames: Sequence[str] | None) -> GroupRow:
    """Settings and (unless None) members in one transaction: a bad field or name changes neither.

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such group.
    :raises InvalidInput: every bad field at once.
    """
    require_admin(principal)
    names = list(dict.fromkeys(n.strip() for n in usernames or () if n.strip()))
    with ctx.uow(write=True) as uow:
        s = uow.session
        group: Group = load(s, Group, group_id, "用户组 / group")
        dept, errors = _settings_errors(s, group, fields)
        users, member_errors = _users(s, names) if usernames is not None else ([], [])
        if errors or member_errors:
            raise invalid(errors + member_errors)
        now = ctx.clock.now()
        before = _snapshot(GroupRow.of(group, members(s, group.id)))
        if "department" in fields:
            group.department = dept
        if "role" in fields:
            group.role = fields["role"] or None
        s.flush()
        old, new = audit.changes(before, _snapshot(GroupRow.of(group, members(s, group.id))))
        if new:
            audit.record(s, principal, now, "group.update", "group", group.id,
                         f"修改用户组 / edited group {group.name}", old, new)
        if usernames is not None:
            _replace_members(s, principal, group, users, now)
        row = GroupRow.of(group, members(s, group.id))
        uow.commit()
    return row


def _settings_errors(s: Session, group: Group, fields: Mapping[str, Any]) -> tuple[Any, list[ErrorDetail]]:
    dept, errors = department_by_code(s, fields.get("department"))
    errors += role_errors(fields.get("role"), required=False) if "role" in fields else []
    if "name" in fields and fields["name"] != group.name:
        errors.append(error("name", "用户组名称创建后不能修改 / a group's name cannot change"))
    return dept, errors


def _users(s: Session, names: list[str]) -> tuple[list[User], list[ErrorDetail]]:
    if len(names) > MAX_MEMBERS:
        return [], [error("members", f"最多 {MAX_MEMBERS} 人 / at most {MAX_MEMBERS} members")]
    users = list(s.scalars(select(User).where(User.username.in_(names)))) if names else []
    missing = sorted(set(names) - {u.username for u in users})
    if missing:
        return [], [error("members", f"没有这些用户 / no such users: {', '.join(missing)}")]
    return users, []


def _replace_members(s: Session, principal: Principal, group: Group, users: list[User], now: datetime) -> None:
    before = members(s, group.id)
    wanted = {u.id for u in users}
    current = set(s.scalars(select(memberships.c.user_id).where(memberships.c.group_id == group.id)))
    if current - wanted:
        s.execute(memberships.delete().where(memberships.c.group_id == group.id,
                                             memberships.c.user_id.in_(current - wanted)))
    if wanted - current:
        s.execute(memberships.insert(), [{"user_id": u, "group_id": group.id} for u in sorted(wanted - current)])
    after = members(s, group.id)
    if before != after:
        added, removed = ", ".join(sorted(set(after) - set(before))) or "-", ", ".join(
            sorted(set(before) - set(after))) or "-"
        audit.record(s, principal, now, "group.members", "group", group.id,
                     f"用户组 {group.name} 成员：加入 {added}；移出 {removed} / members of {group.name}: added {added}; "
                     f"removed {removed}", {"members": before}, {"members": after})


def _name_errors(s: Session, name: str) -> list[ErrorDetail]:
    if not name or len(name) > 128 or not GROUP_NAME.fullmatch(name):
        return [error("name", "1-128 个字母、数字、_ 或 -，可用 . 分段（如 market.approver） / 1-128 letters, digits, "
                              "_ or -, in parts joined by . (e.g. market.approver)")]
    if s.scalar(select(Group.id).where(Group.name == name)) is not None:
        return [error("name", "用户组名称已被使用 / this group name is taken")]
    return []


def members(s: Session, group_id: int) -> list[str]:
    return list(s.scalars(select(User.username).join(memberships, memberships.c.user_id == User.id)
                          .where(memberships.c.group_id == group_id).order_by(User.username)))


def _snapshot(row: GroupRow) -> dict[str, Any]:
    return {"name": row.name, "department": row.department, "role": row.role, "members": list(row.members)}

