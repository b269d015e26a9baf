"""The arithmetic of one time limit (办理时限): its deadline, its warning level and when that level next
changes. Pure: takes a `WorkCalendar` and numbers, knows nothing of the database.

Levels (local 电子监察 practice): green; yellow once `yellow_ratio` of the limit has elapsed or at most
`yellow_days` working days are left; red once the deadline has passed. Elapsed time is counted by date
(the current day counts as elapsed, the start day does not — 《民法典》 Art. 201), minus the working days
of ended suspensions (《行政许可法》 Art. 45).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .workdays import WorkCalendar, as_date, end_of_day, start_of_day

ONE_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Limit:
    started_at: datetime
    limit_value: int
    unit: str  # "wd" working days | "d" calendar days | "min" minutes
    extended_by: int = 0
    suspended_days: int = 0
    yellow_ratio: float = 0.8
    yellow_days: int = 1

    @property
    def total(self) -> int:
        return self.limit_value + self.extended_by


@dataclass(frozen=True)
class Status:
    level: str
    deadline: datetime
    provisional: bool
    next_change: datetime | None  # when the level moves on; None once red
    elapsed: int  # in the limit's unit
    remaining: int  # working days (or days/minutes) left; negative = overdue by that much


def deadline(cal: WorkCalendar, limit: Limit) -> datetime:
    """The last moment of the limit; a working-day deadline is the end of its n-th working day."""
    if limit.unit in ("wd", "d"):
        return end_of_day(cal.limit_end(limit.started_at, limit.total + limit.suspended_days, limit.unit))
    return limit.started_at + timedelta(minutes=limit.total)


def yellow_from(cal: WorkCalendar, limit: Limit) -> datetime:
    """The moment the yellow warning begins."""
    if limit.unit == "min":
        return limit.started_at + timedelta(minutes=math.ceil(limit.yellow_ratio * limit.total))
    by_ratio = math.ceil(limit.yellow_ratio * limit.total - 1e-9)
    by_days_left = limit.total - limit.yellow_days
    k = max(min(by_ratio, by_days_left), 0)
    if k == 0:
        return limit.started_at
    if limit.unit == "wd":
        return start_of_day(cal.add_workdays(limit.started_at, k + limit.suspended_days))
    return start_of_day(as_date(limit.started_at) + timedelta(days=k + limit.suspended_days))


def status(cal: WorkCalendar, limit: Limit, now: datetime) -> Status:
    due = deadline(cal, limit)
    yellow = yellow_from(cal, limit)
    red = due + ONE_TICK
    if now >= red:
        level, next_change = "red", None
    elif now >= yellow:
        level, next_change = "yellow", red
    else:
        level, next_change = "green", yellow
    if limit.unit == "wd":
        elapsed = cal.workdays_between(limit.started_at, now) - limit.suspended_days
        remaining = cal.workdays_between(now, due)
        provisional = cal.provisional(limit.started_at, due)
    elif limit.unit == "d":
        elapsed = (as_date(now) - as_date(limit.started_at)).days - limit.suspended_days
        remaining = (as_date(due) - as_date(now)).days
        provisional = False
    else:
        elapsed = int((now - limit.started_at).total_seconds() // 60)
        remaining = int((due - now).total_seconds() // 60)
        provisional = False
    return Status(level, due, provisional, next_change, max(elapsed, 0), remaining)
