"""Attempts counted against a limit (public tracking guesses per client), shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class RateLimitHit(Base):
    """One counted attempt under `key` (e.g. "track:<ip>"); rows older than the window are pruned."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(index=True)  # pruning by age
