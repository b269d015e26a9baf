"""Message templates an administrator edited (one row per event and locale; an event without a row uses
the default shipped in app/services/messaging/templates.py), and each user's choice of outbox channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

TEMPLATE_LOCALES = ("zh", "en")


class MessageTemplate(Base):
    """The subject and body of one milestone message in one locale; the same text goes to every channel."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("event", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(8))  # TEMPLATE_LOCALES
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class MessagePreference(Base):
    """A user's outbox channels and message language. No row: both channels on, Chinese (in-app messages
    cannot be switched off, so they have no column)."""

    __tablename__ = "message_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sms: Mapped[bool] = mapped_column(default=True)
    email: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")  # TEMPLATE_LOCALES
    updated_at: Mapped[datetime]
