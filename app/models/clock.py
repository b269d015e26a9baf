"""Time limits per case (办理时限) and what enforces them: clocks, suspensions (特别程序), extensions
(延期), fired alarms (电子监察预警) and supervision orders (督办单).

The scheduler finds work by the indexed `next_check_at` / `reply_due_at` columns, never by scanning
open cases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

CLOCK_KINDS = ("notice", "decision", "step", "issuance")
CLOCK_STATES = ("running", "suspended", "stopped")
LEVELS = ("green", "yellow", "red")
CLOCK_UNITS = ("wd", "d", "min")
# 《行政许可法》 Art. 45: procedures whose time does not count.
PROCEDURES = ("hearing", "tender", "auction", "inspection", "testing", "quarantine", "appraisal", "expert_review")
EXTENSION_STATES = ("requested", "approved", "rejected", "lapsed")  # lapsed: decided before the head did
ORDER_STATES = ("open", "replied", "closed")


class CaseClock(Base):
    """One named time limit of a case: notice (补正告知, 5 wd from receipt), decision (from acceptance),
    a step's limit, issuance (10 wd from the decision)."""

    __tablename__ = "case_clocks"
    __table_args__ = (
        Index("ix_case_clocks_case", "case_id", "kind"),
        Index("ix_case_clocks_next_check", "next_check_at"),
        Index("ix_case_clocks_level", "level", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # CLOCK_KINDS
    task_id: Mapped[str | None] = mapped_column(String(36))  # a step clock's user task
    name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    limit_value: Mapped[int]
    unit: Mapped[str] = mapped_column(String(4))  # CLOCK_UNITS
    statutory_limit: Mapped[int | None]  # shown beside the promised limit that drives the lights
    extended_by: Mapped[int] = mapped_column(default=0)
    suspended_days: Mapped[int] = mapped_column(default=0)  # working days of ended suspensions
    deadline: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(12), default="running")  # CLOCK_STATES
    level: Mapped[str] = mapped_column(String(8), default="green")  # LEVELS
    yellow_ratio: Mapped[float] = mapped_column(default=0.8)
    yellow_days: Mapped[int] = mapped_column(default=1)
    # When the level next changes (or the notice clock runs out); NULL once stopped or while suspended.
    next_check_at: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(default=0)  # bumped when the deadline is recomputed
    stopped_at: Mapped[datetime | None]
    on_time: Mapped[bool | None]


class ClockSuspension(Base):
    """A special procedure (听证/招标/拍卖/检验/检测/检疫/鉴定/专家评审) during which a clock stops."""

    __tablename__ = "clock_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("case_clocks.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    procedure: Mapped[str] = mapped_column(String(16))  # PROCEDURES
    reason: Mapped[str] = mapped_column(Text, default="")
    expected_days: Mapped[int]  # working days, told to the applicant in writing (Art. 45)
    started_at: Mapped[datetime]
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    days: Mapped[int | None]  # working days it lasted, once ended
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))


class ClockExtension(Base):
    """A request to extend the decision limit once (延期, Art. 42), approved by the department head."""

    __tablename__ = "clock_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("case_clocks.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="requested")  # EXTENSION_STATES
    department: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))


class Alarm(Base):
    """A fired alarm. `key` is unique, so two schedulers that somehow raced still fire it once."""

    __tablename__ = "alarms"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_alarms_open", "level", "cleared_at"),
        Index("ix_alarms_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # "clock" | "deemed" | "order" | "calendar"
    level: Mapped[str] = mapped_column(String(8))  # "yellow" | "red"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("case_clocks.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_orders.id", ondelete="CASCADE"))
    department: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime]  # when it was due; `fired_at` - `due_at` is the scheduler's lateness
    fired_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


class SupervisionOrder(Base):
    """督办单: a supervisor asks a department to answer for a case by a date."""

    __tablename__ = "supervision_orders"
    __table_args__ = (Index("ix_supervision_orders_due", "reply_check_at"),
                      Index("ix_supervision_orders_dept", "department", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    reply_by: Mapped[datetime]  # end of the required reply day
    state: Mapped[str] = mapped_column(String(12), default="open")  # ORDER_STATES
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime]
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reply_check_at: Mapped[datetime | None]  # = reply_by while open and unanswered; the scheduler's due time
