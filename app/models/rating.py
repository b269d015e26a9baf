"""好差评 (GB/T 39734-2020): service windows and their visits, the rating window each finished case or
window visit opens, the ratings themselves and the centre's rating rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

RATING_CHANNELS = ("online", "window")  # 一事一评 online, 一次一评 at the window
RATING_KINDS = ("rating", "follow_up", "defaulted")  # defaulted: the window closed unrated (未评 or a set level)
REQUEST_STATES = ("open", "rated", "expired")


class ServiceWindow(Base):
    """A service window (服务窗口) of the centre; clerks are seated at one (WindowClerk)."""

    __tablename__ = "service_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class WindowClerk(Base):
    """Where a clerk serves: one window per clerk at a time, so what they print belongs to that window."""

    __tablename__ = "window_clerks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("service_windows.id", ondelete="CASCADE"), index=True)


class WindowVisit(Base):
    """One served visit at a window (一次): the unit a window rating is about. `visit_key` makes the
    visit of one case at one window on one day a single row however many documents are printed."""

    __tablename__ = "window_visits"
    __table_args__ = (Index("ix_window_visits_window_served", "window_id", "served_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("service_windows.id", ondelete="CASCADE"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    served_at: Mapped[datetime]
    visit_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # Random per visit and signed into the QR token: a token cannot be made up for another visit.
    nonce: Mapped[str] = mapped_column(String(32), unique=True)


class RatingRequest(Base):
    """The rating window one finished case or one visit opens: indexed by what the scheduler looks for
    (the reminder due, the window's end), so the jobs never scan cases."""

    __tablename__ = "rating_requests"
    __table_args__ = (Index("ix_rating_requests_remind", "state", "remind_at"),
                      Index("ix_rating_requests_expires", "state", "expires_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("window_visits.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(8))  # RATING_CHANNELS
    served_at: Mapped[datetime]  # when the service ended: no rating may predate it
    remind_at: Mapped[datetime | None]  # None: no reminder due (sent, or nobody to remind)
    reminded_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8), default="open")  # REQUEST_STATES


class Rating(Base):
    """A rating (seq 1: the first, or `defaulted` when the window closed) and at most one follow-up
    (追加评价, seq 2), kept beside it. The case's item, department, window and officer are copied in so
    lists and statistics filter without joining the case history."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_ratings_request_seq"),
                      Index("ix_ratings_rated_at", "rated_at"),
                      # Covers what the indicators count (app/services/statistics/indicators.py): a year's
                      # aggregate reads the index alone, not the rows with their comments.
                      Index("ix_ratings_indicators", "rated_at", "seq", "kind", "level", "department_id", "item_id",
                            "window_id", "officer_id", "channel", "rated_by_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("rating_requests.id", ondelete="CASCADE"))
    seq: Mapped[int]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("window_visits.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12))  # RATING_KINDS
    level: Mapped[int | None]  # 5 非常满意 .. 1 非常不满意; None: 未评
    dimensions: Mapped[dict[str, Any]] = mapped_column(default=dict)  # dimension code -> level
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # reason codes (a bad rating names one at least)
    comment: Mapped[str] = mapped_column(Text, default="")
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"))
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rated_at: Mapped[datetime]
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("service_windows.id", ondelete="SET NULL"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class RatingSettings(Base):
    """The centre's rating rules (one row, id 1; absent: the defaults in app/services/ratings/rules.py)."""

    __tablename__ = "rating_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # [{"code", "zh", "en"}]
    window_days: Mapped[int]
    reminder_hours: Mapped[int]
    default_level: Mapped[int | None]  # None: an unrated case counts as 未评
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
