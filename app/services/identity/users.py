"""Users, groups and departments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import DuplicateName, InvalidInput
from app.models import ROLES, Department, Group, User
from app.services.context import ServiceContext
from app.services.identity.auth import hash_password
from app.services.identity.principal import Principal


def create_user(ctx: ServiceContext, username: str, password: str, role: str,
                groups: list[str] | None = None, *, full_name: str = "", staff_no: str | None = None,
                department: str | None = None, phone: str | None = None,
                id_number: str | None = None, id_kind: str | None = None) -> Principal:
    """Create a user; groups that do not exist yet are created.

    :raises InvalidInput: unknown role or department, short password.
    :raises DuplicateName: the user name is taken.
    """
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", [{"field": "role", "message": f"one of {', '.join(ROLES)}"}])
    if len(password) < 8:
        raise InvalidInput("password too short", [{"field": "password", "message": "at least 8 characters"}])
    with ctx.uow(write=True) as uow:
        s = uow.session
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise DuplicateName(f"user '{username}' already exists", [{"field": "username", "message": "taken"}])
        dept = _department(s, department) if department else None
        user = User(username=username, password_hash=hash_password(password, ctx.password_method), role=role, full_name=full_name,
                    staff_no=staff_no, department=dept, phone=phone, id_number=id_number, id_kind=id_kind,
                    created_at=ctx.clock.now())
        user.groups = [ensure_group(s, name) for name in dict.fromkeys(groups or [])]
        s.add(user)
        s.flush()
        principal = Principal.of(user)
        uow.commit()
        return principal


def ensure_department(session: Session, code: str, name: str | None = None) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        dept = Department(code=code, name=name or code)
        session.add(dept)
        session.flush()
    elif name and dept.name != name:
        dept.name = name
    return dept


def ensure_group(session: Session, name: str) -> Group:
    """The group called `name` (`dept.role`, `dept` or `role`), created on first use."""
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput(f"invalid group name '{name}'", [{"field": "group", "message": "1-128 characters"}])
    group = session.scalar(select(Group).where(Group.name == name))
    if group is not None:
        return group
    dept_code, _, role = name.rpartition(".")
    if not dept_code:  # a single word: a role group, an existing department's group, or a plain group
        # such as `publish` (a right, not a department: no department is made up for it)
        known = name not in ROLES and session.scalar(select(Department.id).where(Department.code == name))
        dept_code, role = (name, "") if known else ("", name)
    dept = ensure_department(session, dept_code) if dept_code else None
    group = Group(name=name, department=dept, role=role if role in ROLES else None)
    session.add(group)
    session.flush()
    return group


def _department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise InvalidInput(f"unknown department '{code}'", [{"field": "department", "message": "unknown"}])
    return dept
