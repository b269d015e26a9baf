"""User accounts as administrators keep them: list, create, edit, disable and enable, reset the password.

A password an administrator chooses or generates is temporary: the user must pick their own at the next
sign-in. Disabling ends every session and token at once; an administrator can neither disable nor demote
themselves, nor leave the system without an active administrator.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, ErrorDetail
from app.models import Department, Group, HumanTask, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.events import log_event
from app.services.identity.auth import MIN_PASSWORD, hash_password
from app.services.identity.principal import Principal
from app.services.paging import Page, window

from .organisation import (
    STAFF_NO,
    USERNAME,
    OrganisationNotFound,
    UserRow,
    department_by_code,
    email_errors,
    error,
    invalid,
    load,
    normalize_phone,
    phone_errors,
    require_admin,
    role_errors,
    text_errors,
    user_snapshot,
)

# The fields an administrator sets; `password` only on creation (resets generate one).
EDITABLE = ("full_name", "role", "department", "groups", "staff_no", "phone", "email")


@dataclass(frozen=True)
class UserFilter:
    q: str | None = None  # part of the user name, the name or the staff number
    role: str | None = None
    department: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class WithPassword:
    """A user and the password to hand over, shown this once (None when the administrator chose it)."""

    user: UserRow
    password: str | None


def list_users(ctx: ServiceContext, principal: Principal, flt: UserFilter, page: int = 1,
               per_page: int = 50) -> Page[UserRow]:
    """Users by user name, filtered. :raises Forbidden: not an admin."""
    require_admin(principal)
    page, per_page = window(page, per_page)
    query = select(User)
    if flt.q:
        like = f"%{flt.q.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.full_name.ilike(like), User.staff_no.ilike(like)))
    if flt.role:
        query = query.where(User.role == flt.role)
    if flt.department:
        query = query.join(Department, User.department_id == Department.id).where(Department.code == flt.department)
    if flt.active is not None:
        query = query.where(User.active.is_(flt.active))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        users = s.scalars(query.order_by(User.username).offset((page - 1) * per_page).limit(per_page))
        return Page([UserRow.of(u) for u in users], page, per_page, total)


def get_user(ctx: ServiceContext, principal: Principal, user_id: int) -> UserRow:
    """:raises Forbidden: not an admin. :raises OrganisationNotFound: no such user."""
    require_admin(principal)
    with ctx.uow() as uow:
        return UserRow.of(load(uow.session, User, user_id, "用户 / user"))


def create_user(ctx: ServiceContext, principal: Principal, fields: Mapping[str, Any]) -> WithPassword:
    """A new account; without a `password` one is generated. Either way the user must change it at
    their first sign-in.

    :raises Forbidden: not an admin. :raises InvalidInput: every bad field at once; nothing is stored.
    """
    require_admin(principal)
    username = str(fields.get("username") or "").strip()
    chosen = fields.get("password") or None
    with ctx.uow(write=True) as uow:
        s = uow.session
        errors = _username_errors(s, username) + _password_errors(chosen)
        errors += _field_errors(s, None, {**{k: None for k in EDITABLE}, **fields}, creating=True)
        if errors:
            raise invalid(errors)
        password = chosen or temporary_password()
        user = User(username=username, password_hash=hash_password(password, ctx.password_method),
                    must_change_password=True, created_at=ctx.clock.now(), role="")
        _apply(s, user, {k: fields.get(k) for k in EDITABLE})
        s.add(user)
        s.flush()
        audit.record(s, principal, ctx.clock.now(), "user.create", "user", user.id,
                     f"创建用户 / created user {username}", None, user_snapshot(user))
        row = UserRow.of(user)
        uow.commit()
    return WithPassword(row, None if chosen else password)


def update_user(ctx: ServiceContext, principal: Principal, user_id: int, fields: Mapping[str, Any]) -> UserRow:
    """Change the given fields (any of EDITABLE); the others stay.

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such user.
    :raises InvalidInput: every bad field at once; nothing is changed.
    :raises Conflict: it would demote the last active administrator or the acting one.
    """
    require_admin(principal)
    fields = {k: v for k, v in fields.items() if k in EDITABLE}
    with ctx.uow(write=True) as uow:
        s = uow.session
        user = _lock(s, user_id)
        errors = _field_errors(s, user, fields, creating=False)
        if errors:
            raise invalid(errors)
        if "role" in fields and user.role == "admin" and fields["role"] != "admin":
            _keep_an_admin(s, principal, user, "demote")
        before = user_snapshot(user)
        _apply(s, user, fields)
        s.flush()
        old, new = audit.changes(before, user_snapshot(user))
        if new:
            audit.record(s, principal, ctx.clock.now(), "user.update", "user", user.id,
                         f"修改用户 / edited user {user.username}: {', '.join(new)}", old, new)
        row = UserRow.of(user)
        uow.commit()
    return row


def set_active(ctx: ServiceContext, principal: Principal | None, user_id: int, active: bool) -> UserRow:
    """Disable (sessions and tokens end at once, sign-in is refused) or enable an account.

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such user.
    :raises Conflict: disabling oneself or the last active administrator.
    """
    require_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        user = _lock(s, user_id)
        if user.active == active:
            return UserRow.of(user)  # nothing to change, nothing to record
        if not active and user.role == "admin":
            _keep_an_admin(s, principal, user, "disable")
        elif not active and principal is not None and user.id == principal.id:
            raise Conflict("不能停用自己的账号 / you cannot disable your own account")
        before = user_snapshot(user)
        user.active, user.disabled_at = active, None if active else ctx.clock.now()
        if not active:
            user.session_version += 1  # the row is locked: no lost update
            _release_tasks(s, user, principal, ctx.clock.now())
        verb = "enable" if active else "disable"
        audit.record(s, principal, ctx.clock.now(), f"user.{verb}", "user", user.id,
                     f"{'启用' if active else '停用'}用户 / {verb}d user {user.username}",
                     *audit.changes(before, user_snapshot(user)))
        row = UserRow.of(user)
        uow.commit()
    return row


def _release_tasks(s: Session, user: User, principal: Principal | None, now: Any) -> None:
    """The open tasks a disabled user holds go back to their groups, so no case waits on someone who can
    no longer sign in; each case's history says so."""
    held = s.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.task_key, HumanTask.name)
                     .where(HumanTask.assignee_id == user.id)).all()
    if not held:
        return
    s.execute(update(HumanTask).where(HumanTask.assignee_id == user.id).values(assignee_id=None, claimed_at=None))
    for task_id, case_id, key, name in held:
        log_event(s, case_id, now, "unclaimed", principal.id if principal else None, task_id=task_id, task_key=key,
                  task_name=name)


def reset_password(ctx: ServiceContext, principal: Principal | None, user_id: int) -> WithPassword:
    """A generated temporary password (returned this once); the user's sessions end and they must choose
    their own at the next sign-in.

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such user.
    """
    require_admin(principal)
    password = temporary_password()
    with ctx.uow(write=True) as uow:
        s = uow.session
        user = _lock(s, user_id)
        before = user_snapshot(user)
        user.password_hash = hash_password(password, ctx.password_method)
        user.must_change_password = True
        user.session_version += 1
        after = {**user_snapshot(user), "password": "reset"}  # that it happened; never the hash
        audit.record(s, principal, ctx.clock.now(), "user.reset_password", "user", user.id,
                     f"重置密码 / reset the password of {user.username}", *audit.changes(before, after))
        row = UserRow.of(user)
        uow.commit()
    return WithPassword(row, password)


def user_id_by_name(ctx: ServiceContext, username: str) -> int:
    """:raises OrganisationNotFound: no user with that name."""
    with ctx.uow() as uow:
        found: int | None = uow.session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise OrganisationNotFound(f"用户 {username} 不存在 / no user called {username}")
    return found


def temporary_password() -> str:
    """12 characters a person can read out and type: no 0/O, 1/l/I."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _lock(s: Session, user_id: int) -> User:
    """The user row, locked on PostgreSQL: two administrators' changes do not interleave."""
    user: User | None = s.scalars(select(User).where(User.id == user_id).with_for_update()).one_or_none()
    if user is None:
        load(s, User, user_id, "用户 / user")  # raises OrganisationNotFound
    assert user is not None
    return user


def _keep_an_admin(s: Session, principal: Principal | None, user: User, what: str) -> None:
    """:raises Conflict: the change would leave no active administrator, or targets the acting one."""
    if principal is not None and user.id == principal.id:
        raise Conflict(f"不能{'停用' if what == 'disable' else '降级'}自己的账号 / you cannot {what} your own account")
    others = s.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id)) or 0
    if others == 0:
        raise Conflict("至少要保留一个在用的管理员 / at least one active administrator must remain")


def _username_errors(s: Session, username: str) -> list[ErrorDetail]:
    if not USERNAME.fullmatch(username):
        return [error("username", "3-64 个字母、数字或 _.- / 3-64 letters, digits or _.-")]
    if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        return [error("username", "用户名已被使用 / this user name is taken")]
    return []


def _password_errors(password: str | None) -> list[ErrorDetail]:
    if password is not None and not MIN_PASSWORD <= len(password) <= 256:
        return [error("password", "密码须为 8-256 个字符，或留空自动生成 / 8-256 characters, or empty to generate one")]
    return []


def _field_errors(s: Session, user: User | None, fields: Mapping[str, Any], creating: bool) -> list[ErrorDetail]:
    errors: list[ErrorDetail] = []
    if creating or "full_name" in fields:
        errors += text_errors("full_name", fields.get("full_name"), 100)
    if creating or "role" in fields:
        errors += role_errors(fields.get("role"))
    if fields.get("department"):
        errors += department_by_code(s, fields["department"])[1]
    errors += _groups_errors(s, fields.get("groups"))
    errors += _staff_no_errors(s, user, fields.get("staff_no"))
    errors += phone_errors(fields.get("phone")) + email_errors(fields.get("email"))
    return errors


def _groups_errors(s: Session, names: Any) -> list[ErrorDetail]:
    if not names:
        return []
    known = set(s.scalars(select(Group.name).where(Group.name.in_(list(names)))))
    missing = [n for n in names if n not in known]
    return [error("groups", f"没有这些用户组 / no such groups: {', '.join(missing)}")] if missing else []


def _staff_no_errors(s: Session, user: User | None, staff_no: str | None) -> list[ErrorDetail]:
    """工号 identify staff to applicants (DB4201/T 571 §5.1.1.3), so no two accounts share one."""
    if not staff_no:
        return []
    if not STAFF_NO.fullmatch(staff_no):
        return [error("staff_no", "1-32 个字母、数字或 - / 1-32 letters, digits or -")]
    query = select(User.id).where(User.staff_no == staff_no)
    if user is not None:
        query = query.where(User.id != user.id)
    if s.scalar(query.limit(1)) is not None:
        return [error("staff_no", "工号已被使用 / this staff number is taken")]
    return []


def _apply(s: Session, user: User, fields: Mapping[str, Any]) -> None:
    """Set the given (already checked) fields; blank optional ones become NULL."""
    for name in ("staff_no", "email"):
        if name in fields:
            setattr(user, name, (fields[name] or "").strip() or None)
    if "phone" in fields:
        user.phone = normalize_phone(fields["phone"])
    if "full_name" in fields:
        user.full_name = (fields["full_name"] or "").strip()
    if "role" in fields and fields["role"]:
        user.role = fields["role"]
    if "department" in fields:
        user.department = department_by_code(s, fields["department"])[0]
    if "groups" in fields:
        names = list(dict.fromkeys(fields["groups"] or []))
        user.groups = list(s.scalars(select(Group).where(Group.name.in_(names)))) if names else []
