"""Who is acting: a plain, immutable summary of a user that services check permissions against."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import User

STAFF_ROLES = frozenset({"clerk", "approver", "head", "supervisor", "admin", "designer"})


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    full_name: str
    role: str
    roles: frozenset[str]
    groups: frozenset[str]
    department: str | None
    staff_no: str | None = None
    department_name: str | None = None
    # The tail of the password hash: sessions and tokens issued before a password change stop working.
    password_stamp: str = ""
    # Sessions and tokens carry it; signing out bumps the stored one (User.session_version).
    session_version: int = 0
    # An administrator chose the password: pages lead to the change-password page, the API gives no token.
    must_change_password: bool = False

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(
            id=user.id, username=user.username, full_name=user.full_name, role=user.role,
            roles=frozenset(user.roles), groups=frozenset(g.name for g in user.groups),
            department=user.department.code if user.department else None, staff_no=user.staff_no,
            department_name=user.department.name if user.department else None,
            password_stamp=user.password_hash[-8:], session_version=user.session_version,
            must_change_password=bool(user.must_change_password),
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def sees_everything(self) -> bool:
        return self.has("admin", "supervisor")
