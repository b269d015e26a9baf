"""The working-day calendar over the API and its services: reading a year, importing next year's
arrangement (deadlines become final and move), single days and local extra holidays moving open
deadlines, the missing-arrangement alarm from 1 October, and who may change what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.jobs.ticks import calendar_tick
from app.models import Alarm, Case, CaseClock, CaseEvent, Notification, User
from app.services.admin import calendar_admin
from app.services.timelimits import clocks
from app.workdays import end_of_day
from tests.e2e.flows import FOOD, FOOD_APPLY, apply

pytestmark = pytest.mark.usefixtures("demo")

ARRANGEMENT_2027 = {"year": 2027, "days": [
    {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
    {"date": "2027-01-04", "kind": "holiday", "name": "元旦"},  # a made-up extra day off, to move deadlines
    {"date": "2027-02-06", "kind": "workday", "name": "春节"},
    {"date": "2027-02-08", "kind": "holiday", "name": "春节"},
    {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"},
]}


def clock_from(ctx, api, start: date, limit: int) -> int:
    """An open decision clock on a fresh case: `limit` working days from `start`."""
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    with ctx.uow(write=True) as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        started = datetime(start.year, start.month, start.day, 2, 0, tzinfo=UTC)
        made = clocks.start_clock(s, ctx.calendar.get(s), case, "decision", started, limit, "wd",
                                  ctx.clock.now(), clocks.Thresholds())
        s.flush()
        clock_id = made.id
        uow.commit()
    return clock_id


def read_clock(ctx, clock_id: int) -> CaseClock:
    with ctx.uow() as uow:
        clock = uow.session.get(CaseClock, clock_id)
        uow.session.expunge(clock)  # readable after the unit of work ends
        return clock


def test_staff_read_a_year_with_its_holidays_and_make_up_days(api):
    body = api.get("/calendar/2026", "market_clerk").get_json()
    assert body["published"] is True and body["provisional"] is False
    kinds = {d["date"]: d["kind"] for d in body["days"]}
    assert kinds["2026-10-01"] == "holiday" and kinds["2026-09-20"] == "workday" and kinds["2026-10-10"] == "workday"
    assert all(kinds[f"2026-10-0{n}"] == "holiday" for n in range(1, 8))
    later = api.get("/calendar/2027", "market_clerk").get_json()
    assert later["published"] is False and later["provisional"] is True
    assert {"date": "2027-01-01", "kind": "holiday", "source": "statutory"}.items() <= \
        next(d for d in later["days"] if d["date"] == "2027-01-01").items()
    assert api.get("/calendar/2026", "company").status_code == 403  # applicants
    assert api.get("/calendar/2026").status_code == 401
    assert api.get("/calendar/1999", "admin").status_code == 400


def test_import_2027_makes_deadlines_final_and_moves_them(ctx, api):
    clock_id = clock_from(ctx, api, date(2026, 12, 15), 20)
    before = read_clock(ctx, clock_id)
    assert before.deadline == end_of_day(date(2027, 1, 13)) and before.provisional is True
    resp = api.post("/calendar/import", "admin", json=ARRANGEMENT_2027)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"year": 2027, "days": 5, "kept_local": 0, "published": True, "deadlines_moved": 1}
    after = read_clock(ctx, clock_id)
    assert after.deadline == end_of_day(date(2027, 1, 14)) and after.provisional is False
    with ctx.uow() as uow:
        event = uow.session.scalar(select(CaseEvent.data_after).where(CaseEvent.case_id == after.case_id,
                                                                      CaseEvent.action == "deadline_moved"))
    assert event is not None and event["provisional"] is False
    body = api.get("/calendar/2027", "market_clerk").get_json()
    assert body["published"] is True and len(body["days"]) == 5
    assert {d["date"]: d["source"] for d in body["days"]}["2027-02-06"] == "import"
    assert ctx.calendar.get().is_working_day(date(2027, 2, 6))  # this process sees the change at once


def test_a_local_extra_holiday_moves_a_deadline_and_survives_an_import(ctx, api):
    clock_id = clock_from(ctx, api, date(2026, 11, 23), 5)
    assert read_clock(ctx, clock_id).deadline == end_of_day(date(2026, 11, 30))
    resp = api.put("/calendar/days/2026-11-26", "admin", json={"kind": "holiday", "name": "地方假日", "local": True})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["deadlines_moved"] >= 1 and resp.get_json()["local"] is True  # the case's own clocks too
    assert read_clock(ctx, clock_id).deadline == end_of_day(date(2026, 12, 1))
    # Re-importing 2026 keeps the local day; going back to the weekday rule moves the deadline back.
    again = api.post("/calendar/import", "admin", json={"year": 2026, "days": [
        {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}]}).get_json()
    assert again["kept_local"] == 0 and again["days"] == 1
    days = {d["date"]: d for d in api.get("/calendar/2026", "admin").get_json()["days"]}
    assert days["2026-11-26"]["source"] == "local" and "2026-09-20" not in days
    api.put("/calendar/days/2026-09-20", "admin", json={"kind": "workday", "name": "国庆节"})
    reset = api.put("/calendar/days/2026-11-26", "admin", json={"kind": None})
    assert reset.status_code == 200 and reset.get_json()["kind"] is None
    assert read_clock(ctx, clock_id).deadline == end_of_day(date(2026, 11, 30))


def test_bad_input_changes_nothing(ctx, api):
    bad = api.post("/calendar/import", "admin", json={"year": 2027, "days": [
        {"date": "2027-01-01", "kind": "holiday"}, {"date": "2027-01-05", "kind": "workday"},
        {"date": "2026-12-31", "kind": "holiday"}, {"date": "2027-01-01", "kind": "休"}]})
    assert bad.status_code == 400
    fields = [e["field"] for e in bad.get_json()["errors"]]
    assert fields == ["days[1]", "days[2]", "days[3]"]
    shape = api.post("/calendar/import", "admin", json={"year": 2027, "days": [{"date": "2027-01-01"}]})
    assert shape.status_code == 400 and shape.get_json()["errors"][0]["field"] == "days.0.kind"
    assert api.put("/calendar/days/2026-11-25", "admin", json={"kind": "workday"}).status_code == 400  # a Wednesday
    assert api.put("/calendar/days/2026-13-01", "admin", json={"kind": "holiday"}).status_code == 400
    assert api.put("/calendar/days/2026-11-28", "admin", json={"kind": "workday", "local": True}).status_code == 400
    assert api.put("/calendar/days/2026-11-28", "admin", json={"kind": "day-off"}).status_code == 400
    assert api.get("/calendar/2027", "admin").get_json()["published"] is False


def test_only_admins_change_the_calendar(api):
    for user in ("market_clerk", "supervisor", "market_head", "company"):
        assert api.post("/calendar/import", user, json=ARRANGEMENT_2027).status_code == 403, user
        assert api.put("/calendar/days/2026-11-26", user, json={"kind": "holiday"}).status_code == 403, user
    assert api.post("/calendar/import", json=ARRANGEMENT_2027).status_code == 401
    assert api.get("/calendar/2027", "admin").get_json()["published"] is False
    assert "2026-11-26" not in {d["date"] for d in api.get("/calendar/2026", "admin").get_json()["days"]}


def admin_notifications(ctx) -> int:
    with ctx.uow() as uow:
        s = uow.session
        return len(s.scalars(select(Notification).join(User, User.id == Notification.user_id)
                             .where(Notification.kind == "calendar_missing", User.username == "admin")).all())


def test_missing_next_year_alarm_from_1_october_once(app, ctx, clock, api):
    clock.set(datetime(2026, 9, 30, 15, 59, tzinfo=UTC))  # 23:59 on 30 September in Beijing
    assert calendar_admin.missing_next_year(ctx, clock.now()) is None
    assert calendar_tick(app) is None
    clock.advance(timedelta(minutes=1))  # midnight, 1 October
    assert calendar_admin.missing_next_year(ctx, clock.now()) == 2027
    assert calendar_tick(app) == 2027
    assert calendar_tick(app) is None  # ticked again: nothing new
    assert calendar_admin.raise_missing_year_alarm(ctx, clock.now()) is None
    with ctx.uow() as uow:
        alarms = uow.session.execute(select(Alarm.key, Alarm.level, Alarm.cleared_at).where(Alarm.kind == "calendar")).all()
    assert [tuple(a) for a in alarms] == [("calendar:2027", "yellow", None)]
    assert admin_notifications(ctx) == 1
    mine = api.get("/notifications", "admin").get_json()["items"]
    assert any("2027" in n["title"] for n in mine)
    assert not any("2027" in n["title"] for n in api.get("/notifications", "market_clerk").get_json()["items"])
    # Importing the year answers the alarm.
    assert api.post("/calendar/import", "admin", json=ARRANGEMENT_2027).status_code == 200
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Alarm.cleared_at).where(Alarm.key == "calendar:2027")) is not None
    assert calendar_admin.missing_next_year(ctx, clock.now()) is None


def test_a_calendar_change_that_rolls_back_leaves_the_processs_calendar_as_it_was(ctx, monkeypatch):
    from datetime import date

    import pytest

    from app.services.admin import calendar_admin
    from app.services.timelimits import clocks

    def fail_after_recount(*args, **kwargs):
        original(*args, **kwargs)  # the recount loads the uncommitted calendar...
        raise RuntimeError("the transaction fails after it")  # ...and then the change rolls back

    original = clocks.recompute_deadlines
    monkeypatch.setattr(clocks, "recompute_deadlines", fail_after_recount)
    with pytest.raises(RuntimeError):
        calendar_admin.set_day(ctx, None, date(2026, 12, 2), "holiday", "地方假日", local=True)
    with ctx.uow() as uow:  # what the next request counts on
        assert ctx.calendar.get(uow.session).is_working_day(date(2026, 12, 2))


def test_seeding_a_year_keeps_the_days_an_administrator_set_in_it(ctx, api):
    """As when a newer chinesecalendar release ships a year the table only had a local day for."""
    from datetime import date

    from sqlalchemy import delete

    from app.models import CalendarDay, CalendarYear
    from app.services.admin import calendar_admin

    with ctx.uow(write=True) as uow:  # 2026 as if the package had not published it yet
        uow.session.execute(delete(CalendarDay).where(CalendarDay.day >= date(2026, 1, 1)))
        uow.session.execute(delete(CalendarYear).where(CalendarYear.year == 2026))
        uow.commit()
    calendar_admin.set_day(ctx, None, date(2026, 10, 9), "holiday", "地方假日", local=True)
    assert calendar_admin.seed(ctx) == 1
    view = calendar_admin.calendar_year_view(ctx, 2026)
    days = {d["date"]: d for d in view["days"]}
    assert view["published"] and days[date(2026, 10, 9)]["source"] == "local"
    assert days[date(2026, 10, 1)]["kind"] == "holiday" and days[date(2026, 10, 10)]["kind"] == "workday"
    assert calendar_admin.seed(ctx) == 0
