"""The centre's statistics (统计分析, DB4201/T 571 §5.2.4): per-day rollups of the case event log, so that a
year's figures are a sum over a few hundred thousand rows instead of a recount of millions of events.

Each rollup row is one day (China time) × department × item × channel (online / window), with a count per
measure; `stat_officer_daily` has the same columns plus the officer who acted, for the per-officer views
(kept apart so that the common views never sum over officers). Working days per stage are kept as a
histogram (`stat_durations`: how many cases took exactly n working days), which adds up across days and
gives both the average and the 90th percentile. A new indicator (a rating share, say) is one more
measure column in `MEASURES` and its migration; the rollup job and the queries read the list.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# Flow counts per day: when a case was received, accepted, finished (办结: ended other than withdrawn;
# refusals included), refused, withdrawn; correction notices sent; finished cases on time / late.
MEASURES = ("received", "accepted", "finished", "refused", "withdrawn", "corrections", "on_time", "late")
STAGES = ("acceptance", "decision", "total")  # received→accepted, accepted→decided, received→finished
STAT_CHANNELS = ("online", "window")


class _Counts:
    received: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    finished: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    withdrawn: Mapped[int] = mapped_column(default=0)
    corrections: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    late: Mapped[int] = mapped_column(default=0)


class _Keys:
    """The key every rollup row shares. In the monthly tables `day` is the first day of the month, so one
    query reads either kind of table alike."""

    day: Mapped[date] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)  # STAT_CHANNELS


class _Officer:
    officer_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: nobody on staff


class _Histogram:
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)  # STAGES
    workdays: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(default=0)


class StatDaily(_Keys, _Counts, Base):
    """Counts per day × department × item × channel. No foreign keys: rollups are derived data, rebuilt
    from the event log at will, and must not stand in the way of anything."""

    __tablename__ = "stat_daily"


class StatOfficerDaily(_Keys, _Officer, _Counts, Base):
    """The same counts per officer who acted (0: nobody on staff, e.g. an online application)."""

    __tablename__ = "stat_officer_daily"


class StatDuration(_Keys, _Histogram, Base):
    """How many cases finished `stage` on `day` after exactly `workdays` working days."""

    __tablename__ = "stat_durations"


class StatOfficerDuration(_Keys, _Officer, _Histogram, Base):
    """The same per officer who ended the stage (accepted, decided, finished the case)."""

    __tablename__ = "stat_officer_durations"


# The same four per month: a year's answer sums twelve rows where it would sum 365 (edges of a range that
# cuts a month are read from the daily tables).
class StatMonthly(_Keys, _Counts, Base):
    __tablename__ = "stat_monthly"


class StatOfficerMonthly(_Keys, _Officer, _Counts, Base):
    __tablename__ = "stat_officer_monthly"


class StatDurationMonthly(_Keys, _Histogram, Base):
    __tablename__ = "stat_durations_monthly"


class StatOfficerDurationMonthly(_Keys, _Officer, _Histogram, Base):
    __tablename__ = "stat_officer_durations_monthly"


class StatWatermark(Base):
    """How far the rollups have read the event log: every event with id <= `last_event_id` is in them.
    One row per rollup (`name`); the job locks it, so two schedulers never fold the same events."""

    __tablename__ = "stat_watermarks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
