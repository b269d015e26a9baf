"""The working-day calendar (工作日历): the days that differ from a Monday–Friday week, and per year
whether the State Council arrangement is published. Seeded from `chinesecalendar`, edited by administrators."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

DAY_KINDS = ("holiday", "workday")  # a day off / a make-up working day (调休上班)
DAY_SOURCES = ("chinesecalendar", "import", "admin", "local")


class CalendarDay(Base):
    """One exception to the weekday rule: a holiday (also on a weekend) or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # DAY_KINDS
    name: Mapped[str] = mapped_column(String(60), default="")
    source: Mapped[str] = mapped_column(String(16))  # DAY_SOURCES; "local" = a local extra holiday
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarYear(Base):
    """A year's status: `published` once its official arrangement is in the table; deadlines that
    depend on an unpublished year are provisional."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    published: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarRevision(Base):
    """A single row whose number goes up on every calendar change, so other processes reload theirs."""

    __tablename__ = "calendar_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # always 1
    revision: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime]
