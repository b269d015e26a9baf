"""Working days (工作日): the calendar arithmetic every time limit uses.

《行政许可法》 Art. 82 counts working days; 《民法典》 Arts. 201/203: the start day is not counted, the
deadline is the n-th working day strictly after it, and a deadline on a holiday moves on to the next
working day (which counting only working days gives by construction).

A `WorkCalendar` is pure data: the days that differ from "Monday–Friday work" (holidays and make-up
working days, 调休) plus the years whose State Council arrangement is published. A year without one
falls back to weekends plus its statutory festival dates (from `holidays`), and any deadline that
depends on such a year is *provisional*. The administrator-edited calendar table (app/models/calendar)
builds one of these; `default_calendar()` builds one straight from the `chinesecalendar` package.
Lookups are array indexing over a precomputed span, so an inbox can count remaining days per row.

A `WorkCalendar` is never changed after it is built and pickles as it is: the engine workers receive a
copy, cached under its `key` (a fresh token per calendar built, so a reloaded calendar is sent again).
The script helpers that count on it for BPMN expressions, with bounded arguments, are in
app/engine/helpers.py.
"""

from __future__ import annotations

import re
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from .clock import CHINA_TZ

try:  # optional at import time: a calendar gap never crashes a request
    import chinese_calendar
except ImportError:  # pragma: no cover
    chinese_calendar = None
try:
    import holidays as holiday_lib
except ImportError:  # pragma: no cover
    holiday_lib = None

_LIMIT = re.compile(r"^\s*(\d+)\s*(wd|d|h)\s*$", re.IGNORECASE)
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
FIRST_YEAR = 2004
SPAN_YEARS_AHEAD = 6  # precomputed beyond the last published year; later dates are walked day by day


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory festival days of `year` (《全国年节及纪念日放假办法》) with their Chinese names, without
    guessed in-lieu days. Language fixed: names (and so any filtering) never depend on the server locale."""
    if holiday_lib is None:  # pragma: no cover
        return {}
    return {d: str(n) for d, n in holiday_lib.China(years=year, observed=False, language="zh_CN").items()}


class WorkCalendar:
    """Which days are working days, and the arithmetic of limits counted in them."""

    def __init__(self, overrides: Mapping[date, bool], published_years: Iterable[int],
                 names: Mapping[date, str] | None = None) -> None:
        self.key = uuid.uuid4().hex  # identifies this copy (engine workers cache calendars by it)
        self.overrides = dict(overrides)
        self.names = dict(names or {})
        self.published_years = frozenset(published_years)
        last = max(self.published_years | {FIRST_YEAR + 22})
        self._origin = date(FIRST_YEAR, 1, 1)
        self._end = date(last + SPAN_YEARS_AHEAD, 12, 31)
        # _count[i]: working days in [origin, origin + i]; non-decreasing, so bisect finds the n-th.
        count, total = [], 0
        for i in range((self._end - self._origin).days + 1):
            total += self._computed(self._origin + timedelta(days=i))
            count.append(total)
        self._count = count

    def _computed(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year not in self.published_years and day in statutory_holidays(day.year):
            return False
        return day.weekday() < 5

    def _index(self, day: date) -> int | None:
        i = (day - self._origin).days
        return i if 0 <= i < len(self._count) else None

    def is_working_day(self, day: date | datetime | str) -> bool:
        day = as_date(day)
        i = self._index(day)
        if i is None:
            return self._computed(day)
        return self._count[i] - (self._count[i - 1] if i else 0) == 1

    def is_published(self, year: int) -> bool:
        return year in self.published_years

    def add_workdays(self, start: date | datetime | str, n: int) -> date:
        """The n-th working day strictly after `start` (a datetime counts by its date in China time)."""
        day = as_date(start)
        if n <= 0:
            return day
        i = self._index(day)
        if i is not None:
            j = bisect_left(self._count, self._count[i] + n, lo=i + 1)
            if j < len(self._count):
                return self._origin + timedelta(days=j)
        counted = 0
        while counted < n:  # outside the precomputed span: walk
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def workdays_between(self, start: date | datetime | str, end: date | datetime | str) -> int:
        """Working days in (start, end]; negative when `end` is before `start`."""
        a, b = as_date(start), as_date(end)
        if b < a:
            return -self.workdays_between(b, a)
        ia, ib = self._index(a), self._index(b)
        if ia is not None and ib is not None:
            return self._count[ib] - self._count[ia]
        return sum(self.is_working_day(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))

    def provisional(self, start: date | datetime | str, end: date | datetime | str) -> bool:
        """True when counting from `start` to `end` crosses a year with no published arrangement."""
        a, b = sorted((as_date(start), as_date(end)))
        return any(y not in self.published_years for y in range(a.year, b.year + 1))

    def limit_end(self, start: date | datetime | str, n: int, unit: str) -> date:
        """The last day of a limit of `n` working days ("wd") or natural days ("d") from `start`.

        《民法典》 Arts. 201/203: the start day does not count; a natural-day limit whose last day is a
        holiday ends on the next working day (a working-day limit ends on one by construction).
        """
        if unit == "wd":
            return self.add_workdays(start, n)
        day = as_date(start) + timedelta(days=n)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def parse_limit(limit: str | None) -> tuple[int, str] | None:
    """`7wd` -> (7, "wd"), `2d` -> (2, "d"), `4h`/`PT4H` -> (240, "min"), `P2D` -> (2, "d"); None if unreadable."""
    if not limit:
        return None
    match = _LIMIT.match(limit)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        return (amount * 60, "min") if unit == "h" else (amount, unit)
    iso = _ISO.match(limit.strip().upper())
    if iso and any(iso.groups()):
        days, hours, minutes = (int(g or 0) for g in iso.groups())
        if hours or minutes:
            return days * 1440 + hours * 60 + minutes, "min"
        return days, "d"
    return None


def end_of_day(day: date) -> datetime:
    """The last moment of `day` in China time, as an aware datetime: when a deadline on that day passes."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), CHINA_TZ) - timedelta(microseconds=1)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), CHINA_TZ)


def as_date(value: date | datetime | str) -> date:
    """A date; a datetime counts by its date in China time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date() if value.tzinfo else value.date()
    return value


def package_arrangements() -> tuple[dict[date, tuple[bool, str]], set[int]]:
    """The State Council arrangements shipped in `chinesecalendar`: {day: (working?, name)} and the years."""
    if chinese_calendar is None:  # pragma: no cover
        return {}, set()
    days: dict[date, tuple[bool, str]] = {d: (False, str(n)) for d, n in chinese_calendar.holidays.items()}
    days.update({d: (True, str(n)) for d, n in chinese_calendar.workdays.items()})
    years = {d.year for d in days if d.year >= FIRST_YEAR}
    return {d: v for d, v in days.items() if d.year in years}, years


@lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The package's arrangements: for code with no database (unit tests, `flask bpmn lint`)."""
    days, years = package_arrangements()
    return WorkCalendar({d: w for d, (w, _) in days.items()}, years, {d: n for d, (_, n) in days.items()})
