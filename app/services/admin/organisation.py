"""What the organisation services share: the admin check, the field rules for users, departments and
groups, and the plain rows the pages and the API show (never a password hash)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ErrorDetail, Forbidden, InvalidInput, NotFound
from app.models import ROLES, Department, Group, User
from app.services.identity.identity import normalize_mobile, valid_mobile
from app.services.identity.principal import Principal

USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,64}")
STAFF_NO = re.compile(r"[A-Za-z0-9\-]{1,32}")
# Department codes become group names (`<code>.approver`) and BPMN values (`${department}`): keep them plain.
DEPARTMENT_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")
GROUP_NAME = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")
STANDARD_ROLES = ("clerk", "approver", "head")  # the groups a new department may get: `<code>.<role>`


class OrganisationNotFound(NotFound):
    """No user, department or group with that id."""


def require_admin(principal: Principal | None) -> None:
    """None is a trusted caller (the CLI, run by whoever runs the server). :raises Forbidden: not an administrator."""
    if principal is not None and not principal.is_admin:
        raise Forbidden("只有管理员可以管理用户、部门和用户组 / only administrators may manage the organisation")


def invalid(details: list[ErrorDetail]) -> InvalidInput:
    return InvalidInput("输入有误 / invalid input", details)


def error(field: str, message: str) -> ErrorDetail:
    return {"field": field, "message": message}


def text_errors(field: str, value: str | None, limit: int, required: bool = True) -> list[ErrorDetail]:
    value = (value or "").strip()
    if required and not value:
        return [error(field, "必填 / required")]
    if len(value) > limit:
        return [error(field, f"最多 {limit} 个字符 / at most {limit} characters")]
    return []


def phone_errors(phone: str | None) -> list[ErrorDetail]:
    """A mainland mobile number or a landline with its area code (027-85551234), or nothing."""
    if not phone:
        return []
    if valid_mobile(phone) or LANDLINE.fullmatch(normalize_phone(phone) or ""):
        return []
    return [error("phone", "手机号码或带区号的固定电话 / a mobile number or a landline with its area code")]


def normalize_phone(phone: str | None) -> str | None:
    if not phone or not phone.strip():
        return None
    return normalize_mobile(phone) if valid_mobile(phone) else phone.strip()


def email_errors(email: str | None) -> list[ErrorDetail]:
    if not email:
        return []
    if len(email) > 254 or not EMAIL.fullmatch(email):
        return [error("email", "电子邮箱格式不正确 / not a valid e-mail address")]
    return []


def role_errors(role: str | None, field: str = "role", required: bool = True) -> list[ErrorDetail]:
    if (role is None or role == "") and not required:
        return []
    if role not in ROLES:
        return [error(field, f"须为以下之一 / one of: {', '.join(ROLES)}")]
    return []


def department_by_code(s: Session, code: str | None, field: str = "department") -> tuple[Department | None,
                                                                                        list[ErrorDetail]]:
    """The department with this code (None for none chosen), or the field's error."""
    if not code:
        return None, []
    dept = s.scalar(select(Department).where(Department.code == code))
    return dept, [] if dept else [error(field, f"没有这个部门 / no such department: {code}")]


def load(s: Session, model: type[Any], object_id: int, what: str) -> Any:
    """:raises OrganisationNotFound: no such row."""
    row = s.get(model, object_id)
    if row is None:
        raise OrganisationNotFound(f"{what} {object_id} 不存在 / {what} {object_id} not found")
    return row


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    role: str
    department: str | None
    department_name: str | None
    groups: tuple[str, ...]
    staff_no: str | None
    phone: str | None
    email: str | None
    active: bool
    must_change_password: bool
    disabled_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserRow:
        dept = user.department
        return cls(user.id, user.username, user.full_name, user.role, dept.code if dept else None,
                   dept.name if dept else None, tuple(sorted(g.name for g in user.groups)), user.staff_no, user.phone,
                   user.email, user.active, user.must_change_password, user.disabled_at, user.created_at)


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    users: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    department: str | None
    role: str | None
    members: tuple[str, ...]

    @classmethod
    def of(cls, group: Group, members: list[str]) -> GroupRow:
        return cls(group.id, group.name, group.department.code if group.department else None, group.role,
                   tuple(members))


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit trail keeps of a user: every administered field, never the password hash."""
    return {"username": user.username, "full_name": user.full_name, "role": user.role,
            "department": user.department.code if user.department else None,
            "groups": sorted(g.name for g in user.groups), "staff_no": user.staff_no, "phone": user.phone,
            "email": user.email, "active": user.active, "must_change_password": user.must_change_password}
