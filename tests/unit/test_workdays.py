"""Working days per 《民法典》 Arts. 201/203 with the State Council holiday arrangements."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.workdays import add_workdays, end_of_day, is_working_day, step_due


def test_holidays_and_make_up_days():
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert is_working_day(date(2026, 10, 10))  # a make-up working Saturday (调休)
    assert not is_working_day(date(2026, 11, 28))  # an ordinary Saturday
    assert is_working_day(date(2026, 11, 23))


def test_start_day_not_counted_and_holidays_skipped():
    assert add_workdays(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert add_workdays(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)  # across National Day
    assert add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)  # the make-up Saturday counts
    assert add_workdays(datetime(2026, 11, 23, 17, 0, tzinfo=UTC), 1) == date(2026, 11, 25)  # 01:00 on 24th in Beijing


def test_step_limits():
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert step_due("7wd", start) == end_of_day(date(2026, 12, 2))
    assert step_due("2d", start) == end_of_day(date(2026, 11, 25))
    assert step_due("4h", start) == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert step_due("PT4H", start) == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert step_due("soon", start) is None and step_due(None, start) is None
