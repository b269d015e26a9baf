"""Notifications: in-app messages (the header's bell) and the outbox of e-mails and text messages that
the scheduler hands to a sender.

Both are written in the transaction of whatever raised them (an alarm, a deemed acceptance, ...), so a
notification exists exactly when its cause was committed. `dedupe_key` is unique: the same event queued
twice is inserted once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

NOTIFICATION_KINDS = ("alarm", "deemed_accepted", "extension", "suspension", "supervision_order", "order_reply",
                      "calendar_missing", "notice", "milestone")
CHANNELS = ("email", "sms")
# "skipped": the sender cannot deliver on this channel at all (e-mail with no SMTP server configured).
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "skipped")


class Notification(Base):
    """One message in a user's notification list; unread while `read_at` is NULL."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        # The header's unread count on every page: `user_id = ? AND read_at IS NULL`.
        Index("ix_notifications_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # NOTIFICATION_KINDS
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    link: Mapped[str | None] = mapped_column(String(300))  # a path on this site
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An e-mail or text message waiting for, or handed to, the sender.

    `next_attempt_at` is the scheduler's due time: when to (re)try a pending message, and, while one is
    being sent, when its lease runs out (= `lease_until`) so a killed dispatcher's messages are retried.
    NULL once sent or given up.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_messages_due", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # CHANNELS
    recipient: Mapped[str] = mapped_column(String(200))  # an e-mail address or a phone number
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # OUTBOX_STATES
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
