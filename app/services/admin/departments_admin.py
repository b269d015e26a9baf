"""Departments: a code and a name. The code is fixed once created: group names (`market.approver`),
items' co-approving department lists and running cases' `${department}` values hold it as text, so a
renamed code would silently cut them off; the name can change at any time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models import Department, Group, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, window

from .organisation import (
    DEPARTMENT_CODE,
    STANDARD_ROLES,
    DepartmentRow,
    error,
    invalid,
    load,
    require_admin,
    text_errors,
)


def list_departments(ctx: ServiceContext, principal: Principal, q: str | None = None, page: int = 1,
                     per_page: int = 50) -> Page[DepartmentRow]:
    """Departments by code, with their user counts and groups. :raises Forbidden: not an admin."""
    require_admin(principal)
    page, per_page = window(page, per_page)
    query = select(Department)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(Department.code.ilike(like), Department.name.ilike(like)))
    with ctx.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        depts = list(s.scalars(query.order_by(Department.code).offset((page - 1) * per_page).limit(per_page)))
        return Page([_row(s, d) for d in depts], page, per_page, total)


def all_departments(ctx: ServiceContext) -> list[tuple[str, str]]:
    """(code, name) of every department, for choosers."""
    with ctx.uow() as uow:
        return [(d.code, d.name) for d in uow.session.scalars(select(Department).order_by(Department.code))]


def get_department(ctx: ServiceContext, principal: Principal, department_id: int) -> DepartmentRow:
    """:raises Forbidden: not an admin. :raises OrganisationNotFound: no such department."""
    require_admin(principal)
    with ctx.uow() as uow:
        return _row(uow.session, load(uow.session, Department, department_id, "部门 / department"))


def create_department(ctx: ServiceContext, principal: Principal, code: str, name: str,
                      standard_groups: bool = False) -> DepartmentRow:
    """A new department; with `standard_groups` also its `<code>.clerk`, `.approver` and `.head` groups
    (those not there yet), which the reference processes route to.

    :raises Forbidden: not an admin. :raises InvalidInput: bad or taken code, bad name; nothing stored.
    """
    require_admin(principal)
    code, name = (code or "").strip(), (name or "").strip()
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        s = uow.session
        errors = text_errors("name", name, 200)
        if not DEPARTMENT_CODE.fullmatch(code):
            errors.append(error("code", "2-64 个小写字母、数字或 _，字母开头 / 2-64 lower-case letters, digits or _, "
                                        "starting with a letter"))
        elif s.scalar(select(Department.id).where(Department.code == code)) is not None:
            errors.append(error("code", "部门代码已被使用 / this department code is taken"))
        if errors:
            raise invalid(errors)
        dept = Department(code=code, name=name)
        s.add(dept)
        s.flush()
        audit.record(s, principal, now, "department.create", "department", dept.id,
                     f"创建部门 / created department {code}", None, {"code": code, "name": name})
        if standard_groups:
            _standard_groups(s, principal, dept, now)
        row = _row(s, dept)
        uow.commit()
    return row


def update_department(ctx: ServiceContext, principal: Principal, department_id: int,
                      fields: Mapping[str, Any]) -> DepartmentRow:
    """Rename a department (the code cannot change: see the module's note).

    :raises Forbidden: not an admin. :raises OrganisationNotFound: no such department.
    :raises InvalidInput: a bad name, or an attempt to change the code.
    """
    require_admin(principal)
    with ctx.uow(write=True) as uow:
        s = uow.session
        dept: Department = load(s, Department, department_id, "部门 / department")
        errors = text_errors("name", fields.get("name"), 200) if "name" in fields else []
        if "code" in fields and fields["code"] != dept.code:
            errors.append(error("code", "部门代码创建后不能修改 / a department's code cannot change"))
        if errors:
            raise invalid(errors)
        before = {"name": dept.name}
        if "name" in fields:
            dept.name = str(fields["name"]).strip()
        old, new = audit.changes(before, {"name": dept.name})
        if new:
            audit.record(s, principal, ctx.clock.now(), "department.update", "department", dept.id,
                         f"修改部门 / edited department {dept.code}", old, new)
        row = _row(s, dept)
        uow.commit()
    return row


def _standard_groups(s: Session, principal: Principal, dept: Department, now: Any) -> None:
    for role in STANDARD_ROLES:
        name = f"{dept.code}.{role}"
        if s.scalar(select(Group.id).where(Group.name == name)) is not None:
            continue
        group = Group(name=name, department=dept, role=role)
        s.add(group)
        s.flush()
        audit.record(s, principal, now, "group.create", "group", group.id, f"创建用户组 / created group {name}",
                     None, {"name": name, "department": dept.code, "role": role, "members": []})


def _row(s: Session, dept: Department) -> DepartmentRow:
    users = s.scalar(select(func.count()).select_from(User).where(User.department_id == dept.id)) or 0
    groups = tuple(s.scalars(select(Group.name).where(Group.department_id == dept.id).order_by(Group.name)))
    return DepartmentRow(dept.id, dept.code, dept.name, users, groups)
