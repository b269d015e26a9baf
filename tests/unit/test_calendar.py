"""The working-day calendar's facts (State Council arrangements 2025–2026 as `chinesecalendar` ships them),
counting across holidays and into a year with no published arrangement, and reading arrangement files."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import InvalidInput
from app.services.admin.calendar_files import DayEntry, parse_arrangement, validate_entries
from app.workdays import WorkCalendar, default_calendar, package_arrangements

CAL = default_calendar()


def days(start: date, end: date) -> list[date]:
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def test_2025_spring_festival_and_its_make_up_days():
    assert all(not CAL.is_working_day(d) for d in days(date(2025, 1, 28), date(2025, 2, 4)))
    assert CAL.is_working_day(date(2025, 1, 26))  # a Sunday worked (调休)
    assert CAL.is_working_day(date(2025, 2, 8))  # a Saturday worked
    assert not CAL.is_working_day(date(2025, 1, 1))  # New Year's Day, a Wednesday
    assert CAL.is_working_day(date(2025, 9, 28)) and CAL.is_working_day(date(2025, 10, 11))
    assert all(not CAL.is_working_day(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))


def test_2026_national_day_and_its_make_up_days():
    assert all(not CAL.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday
    assert not CAL.is_working_day(date(2026, 9, 25))  # Mid-autumn, a Friday
    assert CAL.is_working_day(date(2026, 1, 4)) and not CAL.is_working_day(date(2026, 1, 2))
    assert CAL.names[date(2026, 10, 1)] == "National Day"
    _, years = package_arrangements()
    assert {2025, 2026} <= years and 2027 not in years


def test_a_deadline_counted_across_national_day_2026():
    # Monday 28 September: 29th, 30th, (1–7 October off), 8th, 9th and the make-up Saturday 10th.
    assert CAL.add_workdays(date(2026, 9, 28), 5) == date(2026, 10, 10)
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.workdays_between(date(2026, 9, 30), date(2026, 10, 8)) == 1
    assert not CAL.provisional(date(2026, 9, 28), date(2026, 10, 10))


def test_twenty_working_days_from_december_2026_are_provisional():
    # 16 Dec .. 31 Dec are 12 working days; 1 January 2027 is a statutory holiday even unpublished.
    due = CAL.add_workdays(date(2026, 12, 15), 20)
    assert due == date(2027, 1, 13)
    assert not CAL.is_working_day(date(2027, 1, 1)) and not CAL.is_published(2027)
    assert CAL.provisional(date(2026, 12, 15), due)
    # Past the precomputed span (to 2032) days are walked one by one: same rule, no crash.
    assert CAL.add_workdays(date(2040, 3, 2), 5) == date(2040, 3, 9)  # Friday 2 March + 5 = Friday 9 March
    assert CAL.workdays_between(date(2040, 3, 2), date(2040, 3, 9)) == 5


def test_a_published_2027_arrangement_makes_it_final_and_can_move_it():
    overrides = {d: w for d, w in CAL.overrides.items()}
    imported = WorkCalendar({**overrides, date(2027, 1, 1): False, date(2027, 1, 4): False},
                            CAL.published_years | {2027})
    due = imported.add_workdays(date(2026, 12, 15), 20)
    assert due == date(2027, 1, 14)
    assert not imported.provisional(date(2026, 12, 15), due)
    local = WorkCalendar({**overrides, date(2026, 12, 16): False}, CAL.published_years)  # a local extra holiday
    assert local.add_workdays(date(2026, 12, 15), 5) == CAL.add_workdays(date(2026, 12, 15), 6)


def test_reading_csv_with_chinese_kinds_and_json():
    year, entries = parse_arrangement("date,kind,name\n2027-01-01,休,元旦\n2027-02-20,班,春节\n".encode())
    assert year == 2027
    assert [(e.day, e.kind, e.name) for e in entries] == [(date(2027, 1, 1), "holiday", "元旦"),
                                                          (date(2027, 2, 20), "workday", "春节")]
    year, entries = parse_arrangement('{"year": 2027, "days": [{"date": "2027-10-01", "kind": "holiday"}]}')
    assert (year, entries[0].day, entries[0].name) == (2027, date(2027, 10, 1), "")
    gbk = "2027-01-01,休,元旦\n".encode("gb18030")  # a spreadsheet saved on Chinese Windows
    assert parse_arrangement(gbk)[1][0].name == "元旦"


def test_bad_lines_are_all_reported():
    text = ("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,x\n2027-01-04,workday,周一\n"
            "2027-01-01,holiday,again\n2028-01-01,holiday,next year\n2027-05-01,rest,劳动节\n")
    with pytest.raises(InvalidInput) as caught:
        parse_arrangement(text)
    where = {d["field"]: d["message"] for d in caught.value.details}
    assert set(where) == {"line 3", "line 4", "line 5", "line 6", "line 7"}
    assert "not a date" in where["line 3"] and "Saturday or Sunday" in where["line 4"]
    assert "twice" in where["line 5"] and "not in 2027" in where["line 6"] and "unknown kind" in where["line 7"]
    for bad in ("", "{not json", '{"year": "x", "days": 3}'):
        with pytest.raises(InvalidInput):
            parse_arrangement(bad)
    with pytest.raises(InvalidInput) as wrong_year:
        parse_arrangement("2027-01-01,休,元旦", year=2028)
    assert wrong_year.value.details[0]["field"] == "year"
    with pytest.raises(InvalidInput):
        validate_entries(2027, [])
    assert validate_entries(2027, [DayEntry(date(2027, 1, 2), "holiday", "元旦")])  # a holiday may fall on a weekend


def test_an_unpublished_year_counts_statutory_days_only_whatever_the_server_locale(monkeypatch):
    from app.workdays import WorkCalendar, statutory_holidays

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # holidays would name in-lieu days "国庆节（补假）" here
    statutory_holidays.cache_clear()
    try:
        provisional = WorkCalendar({}, range(2004, 2027))  # 2027 not published
        assert not provisional.is_working_day(date(2027, 10, 1))  # National Day itself
        assert provisional.is_working_day(date(2027, 10, 4))  # a guessed in-lieu day is not a holiday
        assert statutory_holidays(2027)[date(2027, 1, 1)] == "元旦"
    finally:
        statutory_holidays.cache_clear()
