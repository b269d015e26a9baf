"""Attempts counted against a limit (sign-in failures, registrations, tracking guesses), shared by every
process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class RateLimitHit(Base):
    """One counted attempt under `key` (a limit and a client address or account), at `at`; it stops
    counting at `expires_at`, when any later attempt prunes it."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # pruning
