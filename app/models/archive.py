"""Electronic archive packages (电子档案, DB4201 §4.2.8): one zip per closed case, built by the scheduler."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

PACKAGE_STATES = ("pending", "building", "built", "failed")


class ArchivePackage(Base):
    """The archive package of one case. `case_id` is unique: two schedulers can never both queue, nor
    both record, a package for the same case. A `building` row whose claim is older than the builder's
    lease belongs to a builder that died; a later tick takes it over."""

    __tablename__ = "archive_packages"
    __table_args__ = (Index("ix_archive_packages_state", "state", "claimed_at"),
                      Index("ix_archive_packages_retention", "retention_until"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # Who holds the build: a random token set on claim; only its holder may record the result.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(255))  # relative to the archive directory
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    retention_years: Mapped[int]
    retention_until: Mapped[datetime]
    created_at: Mapped[datetime]
    built_at: Mapped[datetime | None]
    # Set once the retention period has passed: listed for disposal (never deleted by the system).
    disposal_listed_at: Mapped[datetime | None]
