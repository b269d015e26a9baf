"""Working days per 《民法典》 Arts. 201/203 with the State Council holiday arrangements."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.timelimits import Limit, deadline
from app.workdays import default_calendar, end_of_day, parse_limit

CAL = default_calendar()


def test_holidays_and_make_up_days():
    assert not CAL.is_working_day(date(2026, 10, 1))  # National Day
    assert CAL.is_working_day(date(2026, 10, 10))  # a make-up working Saturday (调休)
    assert not CAL.is_working_day(date(2026, 11, 28))  # an ordinary Saturday
    assert CAL.is_working_day(date(2026, 11, 23))


def test_start_day_not_counted_and_holidays_skipped():
    assert CAL.add_workdays(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert CAL.add_workdays(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)  # across National Day
    assert CAL.add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)  # the make-up Saturday counts
    # 01:00 on the 24th in Beijing
    assert CAL.add_workdays(datetime(2026, 11, 23, 17, 0, tzinfo=UTC), 1) == date(2026, 11, 25)


def test_a_natural_day_limit_ending_on_a_holiday_ends_on_the_next_working_day():
    # Accepted on Wednesday 30 September 2026: 1–7 October are holidays, the make-up day (调休) counts.
    accepted = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    assert CAL.limit_end(accepted, 1, "wd") == date(2026, 10, 8)
    assert CAL.limit_end(accepted, 3, "d") == date(2026, 10, 8)
    assert CAL.limit_end(accepted, 10, "d") == date(2026, 10, 10)  # a make-up Saturday works
    assert CAL.limit_end(accepted, 11, "d") == date(2026, 10, 12)  # Sunday → Monday
    assert deadline(CAL, Limit(accepted, 3, "d")) == end_of_day(date(2026, 10, 8))  # the clocks count alike


def test_step_limits():
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert parse_limit("7wd") == (7, "wd") and parse_limit("2d") == (2, "d") and parse_limit("P2D") == (2, "d")
    assert parse_limit("4h") == (240, "min") and parse_limit("PT4H") == (240, "min")
    assert parse_limit("soon") is None and parse_limit(None) is None
    assert deadline(CAL, Limit(start, 7, "wd")) == end_of_day(date(2026, 12, 2))
    assert deadline(CAL, Limit(start, 2, "d")) == end_of_day(date(2026, 11, 25))
    assert deadline(CAL, Limit(start, 240, "min")) == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
