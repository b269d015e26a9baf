"""Working days (工作日) and step time limits.

《行政许可法》 Art. 82 counts working days; 《民法典》 Arts. 201/203: the start day is not counted and the
deadline is the n-th working day strictly after it. Holidays and make-up working days (调休) come from
`chinesecalendar` (State Council arrangements up to its last published year); a later year falls back to
plain weekends. The supervision issue replaces this with an administrator-editable calendar table.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from .clock import CHINA_TZ

try:  # an optional dependency at import time, so a calendar gap never crashes a request
    import chinese_calendar
except ImportError:  # pragma: no cover
    chinese_calendar = None

_LIMIT = re.compile(r"^\s*(\d+)\s*(wd|d|h)\s*$", re.IGNORECASE)
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


@lru_cache(maxsize=32768)
def is_working_day(day: date) -> bool:
    """Cached: inboxes count remaining working days for every row, and the package's own lookup
    validates the date against its whole table on each call."""
    if chinese_calendar is not None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # year not published in the package yet
            pass
    return day.weekday() < 5


def add_workdays(start: date | datetime | str, n: int) -> date:
    """The n-th working day strictly after `start` (a datetime counts by its date in China time)."""
    day = _as_date(start)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def end_of_day(day: date) -> datetime:
    """The last moment of `day` in China time, as an aware datetime: when a deadline on that day passes."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), CHINA_TZ) - timedelta(microseconds=1)


def step_due(limit: str | None, start: datetime) -> datetime | None:
    """The due time of a step limit such as `7wd`, `2d`, `4h`, `PT4H` or `P2D`; None if absent or unreadable."""
    if not limit:
        return None
    match = _LIMIT.match(limit)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit == "wd":
            return end_of_day(add_workdays(start, amount))
        if unit == "d":
            return end_of_day(_as_date(start) + timedelta(days=amount))
        return start + timedelta(hours=amount)
    iso = _ISO.match(limit.strip().upper())
    if iso and any(iso.groups()):
        days, hours, minutes = (int(g or 0) for g in iso.groups())
        return start + timedelta(days=days, hours=hours, minutes=minutes)
    return None


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date() if value.tzinfo else value.date()
    return value
