"""Working-day helpers for BPMN expressions: `add_workdays`, `is_working_day`, `workday_deadline`.

They count on a `WorkCalendar` (app/workdays.py) that the caller supplies as a function, so an engine
worker can hand them its copy of the administrators' calendar for the step in progress. Arguments are
bounded, so no expression can make them walk millions of days or overflow a date:
- a day count lies in 0..MAX_WORKDAYS (3650, about fourteen years of working days);
- a date lies in MIN_DATE..MAX_DATE (1900-01-01 .. 2200-12-31).
Anything else raises `ValueError` naming the bound; the step then fails with an incident.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from app.workdays import WorkCalendar, as_date, end_of_day

MAX_WORKDAYS = 3650
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)
HELPER_NAMES = frozenset({"add_workdays", "is_working_day", "workday_deadline"})


def _day(value: Any, helper: str, what: str) -> date:
    if not isinstance(value, (date, str)):
        raise TypeError(f"{helper}(): {what} must be a date, datetime or ISO date text, "
                        f"got {type(value).__name__}")
    if isinstance(value, str) and len(value) > 40:
        raise ValueError(f"{helper}(): {what} is not an ISO date")
    try:
        day = as_date(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{helper}(): {what} is not a valid date: {exc}") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"{helper}(): {what} must lie between {MIN_DATE.isoformat()} and "
                         f"{MAX_DATE.isoformat()}, got {day.isoformat()}")
    return day


def _count(value: Any, helper: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise TypeError(f"{helper}(): days must be a whole number, got {type(value).__name__}")
    if isinstance(value, str) and len(value) > 12:
        raise ValueError(f"{helper}(): days must be between 0 and {MAX_WORKDAYS}, got {value[:12]}...")
    try:
        days = int(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{helper}(): days must be a whole number, got {str(value)[:20]!r}") from None
    if not 0 <= days <= MAX_WORKDAYS:
        raise ValueError(f"{helper}(): days must be between 0 and {MAX_WORKDAYS}, got {days}")
    return days


def calendar_helpers(calendar: Callable[[], WorkCalendar]) -> dict[str, Callable[..., Any]]:
    """The helpers, counting on `calendar()` as it is when an expression calls them."""

    def add_workdays(start: date | datetime | str, days: int) -> date:
        """The `days`-th working day strictly after `start` (0 <= days <= 3650)."""
        day, n = _day(start, "add_workdays", "start"), _count(days, "add_workdays")
        result = calendar().add_workdays(day, n)
        if result > MAX_DATE:
            raise ValueError(f"add_workdays(): the result lies after {MAX_DATE.isoformat()}")
        return result

    def is_working_day(day: date | datetime | str) -> bool:
        return calendar().is_working_day(_day(day, "is_working_day", "day"))

    def workday_deadline(start: date | datetime | str, days: int) -> str:
        """ISO time at which the `days`-th working day after `start` has passed (for timer timeDate)."""
        return end_of_day(add_workdays(start, days)).isoformat()

    helpers = {"add_workdays": add_workdays, "is_working_day": is_working_day,
               "workday_deadline": workday_deadline}
    assert helpers.keys() == HELPER_NAMES
    return helpers
