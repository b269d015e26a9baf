"""The administrative audit trail (审计日志): one append-only row per administrative change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# What an entry is about; the pages filter by these.
AUDIT_OBJECTS = ("process", "form", "migration", "item", "user", "department", "group", "calendar", "template",
                 "licence", "rating", "window", "performance", "rectification")


class AuditEntry(Base):
    """Written in the same transaction as the change it records, never updated or deleted (the database
    refuses both, see migration 0011)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    # None for a trusted caller (the CLI); the name is kept too, so the row reads well after a rename.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
