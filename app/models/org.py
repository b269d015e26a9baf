"""Organisation: departments, users, groups (a department, a role, or both) and memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

ROLES = ("applicant", "clerk", "approver", "head", "supervisor", "admin", "designer", "archivist")

memberships = Table(
    "memberships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Group(Base):
    """A routing target: `market.approver` (department + role), `market` or `approver`."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    role: Mapped[str | None] = mapped_column(String(32))

    department: Mapped[Department | None] = relationship()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str] = mapped_column(String(100), default="")
    staff_no: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    # Real-name identity of an applicant: a resident ID number (citizen) or a unified social credit
    # code (company); `id_kind` says which.
    id_kind: Mapped[str | None] = mapped_column(String(8))
    id_number: Mapped[str | None] = mapped_column(String(32), index=True)
    # A company applicant's contact person (a person applicant is their own contact).
    contact_name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the user signs out: sessions and API tokens carry the value they were issued with, so
    # older ones stop working on the server, whatever the browser kept (a password change does the
    # same through the password stamp).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set when an administrator chooses the password (a new account, a reset): until the user picks
    # their own, every page leads to the change-password page and the API gives no token.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When an administrator disabled the account (`active` False); kept for the user list.
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    department: Mapped[Department | None] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary=memberships, order_by=Group.name)

    @property
    def roles(self) -> set[str]:
        return {self.role} | {g.role for g in self.groups if g.role}
