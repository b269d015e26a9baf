"""Statistics through the API, checked against figures computed by hand on a small fixed set of cases
driven the way their users drive them, on the injected clock (the scheduler's job folds the events)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.jobs.ticks import statistics_tick
from app.models import Case, ServiceWindow, User, WindowClerk

from .flows import ACCEPT, APPROVE, CORRECT, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS, apply, complete

pytestmark = pytest.mark.usefixtures("demo")
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
REFUSE = {"preview_result": "refuse", "refusal_reason": "不属于本机关职权范围"}


def fixed_cases(api, app, clock) -> dict[str, str]:
    """Monday 23 Nov: A (online) accepted; B (window, for a walk-in citizen) sent for correction; C
    (online); D (online) withdrawn. Tuesday: C refused at preview. Wednesday: A granted and issued."""
    a = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, a, "preview", "market_clerk", PASS)
    complete(api, a, "acceptance", "market_clerk", ACCEPT)
    b = apply(api, FOOD, FOOD_APPLY, "market_clerk", applicant="citizen")["case_no"]
    complete(api, b, "preview", "market_clerk", CORRECT)
    c = apply(api, FOOD, FOOD_APPLY)["case_no"]
    d = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert api.post(f"/cases/{d}/withdraw", "company", json={"reason": "不办了"}).status_code == 200
    clock.advance(timedelta(days=1))
    complete(api, c, "preview", "market_clerk", REFUSE)
    clock.advance(timedelta(days=1))
    complete(api, a, "review", "market_approver", APPROVE)
    complete(api, a, "decision", "market_head", GRANT)
    complete(api, a, "issue_licence", "center_clerk", ISSUE)
    clock.advance(timedelta(minutes=5))  # past the job's lag
    assert statistics_tick(app) > 0
    return {"a": a, "b": b, "c": c, "d": d}


def test_workload_and_times_match_the_hand_count(api, app, clock):
    fixed_cases(api, app, clock)
    month = api.get("/statistics/workload", "supervisor", query_string=NOVEMBER).get_json()
    [row] = month["rows"]
    assert row["period"] == "2026-11"
    expected = {"received": 4, "accepted": 1, "finished": 2, "refused": 1, "withdrawn": 1, "corrections": 1,
                "on_time": 2, "late": 0}
    assert {m: row[m] for m in expected} == expected == {m: month["totals"][m] for m in expected}
    assert row["on_time_rate"] == 1.0 and row["corrections_per_case"] == 0.25
    assert month["in_progress"] == 1  # B, waiting for its correction

    days = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "period": "day"}).get_json()
    by_day = {r["period"]: (r["received"], r["finished"], r["refused"], r["withdrawn"]) for r in days["rows"]}
    assert by_day == {"2026-11-23": (4, 0, 0, 1), "2026-11-24": (1 - 1, 1, 1, 0), "2026-11-25": (0, 1, 0, 0)}
    # In progress at each period's end: received less finished and withdrawn, from before the range on.
    assert [r["open_at_end"] for r in days["rows"]] == [3, 2, 1] and row["open_at_end"] == 1
    later = api.get("/statistics/workload", "supervisor",
                    query_string={"from": "2026-11-24", "to": "2027-01-31", "period": "day"}).get_json()
    assert [r["open_at_end"] for r in later["rows"]] == [2, 1] and later["totals"]["open_at_end"] == 1

    channels = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "by": "channel"}).get_json()
    assert {r["key"]: (r["received"], r["corrections"], r["open_at_end"]) for r in channels["rows"]} == {
        "online": (3, 0, 0), "window": (1, 1, 1)}
    officers = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "by": "officer"}).get_json()
    clerk = next(r for r in officers["rows"] if "market_clerk" in r["label"])
    assert (clerk["received"], clerk["accepted"], clerk["refused"], clerk["corrections"]) == (1, 1, 1, 1)

    stages = api.get("/statistics/times", "supervisor", query_string=NOVEMBER).get_json()["rows"]
    got = {r["stage"]: (r["cases"], r["avg_workdays"], r["p90_workdays"]) for r in stages}
    assert got == {"acceptance": (1, 0, 0), "decision": (1, 2, 2), "total": (2, 1.5, 2)}


def test_backlog_by_age(api, app, clock):
    fixed_cases(api, app, clock)
    backlog = api.get("/statistics/backlog", "supervisor", query_string={"by": "channel"}).get_json()
    assert backlog["total"] == 1 and backlog["as_of"] == "2026-11-25"
    [row] = backlog["rows"]
    assert row["key"] == "window" and row["0-5"] == 1


def test_heads_see_their_department_only(api, app, clock):
    fixed_cases(api, app, clock)
    own = api.get("/statistics/workload", "market_head", query_string=NOVEMBER)
    assert own.status_code == 200 and own.get_json()["totals"]["received"] == 4
    assert own.get_json()["filters"]["department"] == "market"
    other = api.get("/statistics/workload", "housing_head", query_string=NOVEMBER)
    assert other.status_code == 200 and other.get_json()["totals"]["received"] == 0
    assert api.get("/statistics/workload", "housing_head", query_string={"department": "market"}).status_code == 403
    for user in ("market_clerk", "company"):
        assert api.get("/statistics/workload", user).status_code == 403


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2026-13-01"}, "from"), ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"period": "week"}, "period"), ({"by": "colour"}, "by"), ({"channel": "fax"}, "channel"),
    ({"department": "nope"}, "department"), ({"item": "nope"}, "item"), ({"officer": "company"}, "officer"),
    ({"colour": "red"}, "colour"),
])
def test_bad_filters_are_4xx_with_the_field(api, args, field):
    resp = api.get("/statistics/workload", "supervisor", query_string=args)
    assert 400 <= resp.status_code < 500
    assert field in {e.get("field") for e in resp.get_json()["errors"]}


def test_the_backlog_is_not_per_officer(api):
    for by in ("officer", "window"):
        resp = api.get("/statistics/backlog", "supervisor", query_string={"by": by})
        assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "by"


def seat(ctx, clock, username: str, code: str = "W01", name: str = "一号窗口") -> None:
    """A service window as an administrator sets it up, with `username` seated at it."""
    with ctx.uow(write=True) as uow:
        s = uow.session
        window = ServiceWindow(code=code, name=name, department_id=None, active=True, created_at=clock.now())
        s.add(window)
        s.flush()
        s.add(WindowClerk(user_id=s.scalar(select(User.id).where(User.username == username)), window_id=window.id))
        uow.commit()


def test_times_per_officer_window_and_day(api, app, ctx, clock):
    """A stage counts for the officer who ended it: market_clerk accepted A (same day) and refused C at
    preview (a working day after receipt); market_head decided A and center_clerk issued it (two days)."""
    seat(ctx, clock, "market_clerk")
    fixed_cases(api, app, clock)

    def stages(**args) -> dict:
        rows = api.get("/statistics/times", "supervisor", query_string={**NOVEMBER, **args}).get_json()["rows"]
        def who(r: dict) -> str:  # a channel, or the code / user name in a label's brackets
            return r["key"] if args.get("by") == "channel" else r["label"].split(" (")[-1].rstrip(")") if "(" in r["label"] else ""

        return {(r["period"], who(r), r["stage"]): (r["cases"], r["avg_workdays"], r["p90_workdays"]) for r in rows}

    by_officer = stages(by="officer")
    assert by_officer == {("2026-11", "market_clerk", "acceptance"): (1, 0, 0),
                          ("2026-11", "market_clerk", "total"): (1, 1, 1),
                          ("2026-11", "market_head", "decision"): (1, 2, 2),
                          ("2026-11", "center_clerk", "total"): (1, 2, 2)}
    assert stages(window="W01") == {("2026-11", "", "acceptance"): (1, 0, 0), ("2026-11", "", "total"): (1, 1, 1)}
    assert stages(by="window")[("2026-11", "W01", "total")] == (1, 1, 1)
    assert stages(period="day") == {("2026-11-23", "", "acceptance"): (1, 0, 0),
                                    ("2026-11-24", "", "total"): (1, 1, 1),
                                    ("2026-11-25", "", "decision"): (1, 2, 2),
                                    ("2026-11-25", "", "total"): (1, 2, 2)}
    assert stages(by="channel", channel="online") == {("2026-11", "online", "acceptance"): (1, 0, 0),
                                                      ("2026-11", "online", "decision"): (1, 2, 2),
                                                      ("2026-11", "online", "total"): (2, 1.5, 2)}
    assert api.get("/statistics/times", "supervisor", query_string={"by": "officer"}).status_code == 200


def test_the_channel_is_the_one_the_case_recorded(api, app, ctx, clock):
    """Backlog and rollups read cases.channel, set when the case was created: B, recorded at a window, is
    'window'; marking it otherwise in the column moves it, whoever created it."""
    cases = fixed_cases(api, app, clock)
    with ctx.uow() as uow:
        assert uow.session.scalar(select(Case.channel).where(Case.case_no == cases["b"])) == "window"
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(Case).where(Case.case_no == cases["b"]).values(channel="online"))
        uow.commit()
    rows = api.get("/statistics/backlog", "supervisor", query_string={"by": "channel"}).get_json()["rows"]
    assert [(r["key"], r["cases"]) for r in rows] == [("online", 1)]
    assert app.test_cli_runner().invoke(args=["statistics", "rebuild"]).exit_code == 0
    month = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "by": "channel"}).get_json()
    assert {r["key"]: r["received"] for r in month["rows"]} == {"online": 4}


def test_workload_by_the_window_its_clerk_is_seated_at(api, app, ctx, clock):
    seat(ctx, clock, "market_clerk")
    fixed_cases(api, app, clock)
    rows = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "by": "window"}).get_json()["rows"]
    seated = {r["label"]: (r["received"], r["accepted"], r["refused"], r["corrections"]) for r in rows}
    assert seated["一号窗口 (W01)"] == (1, 1, 1, 1)  # market_clerk's work
    assert seated["未设窗口 / no window"] == (3, 0, 0, 0)  # the online applications, nobody's window
    one = api.get("/statistics/workload", "supervisor", query_string={**NOVEMBER, "window": "W01"}).get_json()
    assert one["totals"]["received"] == 1
    bad = api.get("/statistics/workload", "supervisor", query_string={"window": "W99"})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "window"


def test_rebuild_from_the_command_line(api, app, clock):
    fixed_cases(api, app, clock)
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["statistics", "rebuild", "--from", "2026-13-01"])
    assert bad.exit_code != 0 and len(bad.output.strip().splitlines()) == 1 and "--from" in bad.output
    done = runner.invoke(args=["statistics", "rebuild", "--from", "2026-11-24"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("rebuilt from 2026-11-01")  # a monthly row is recounted whole
    totals = api.get("/statistics/workload", "supervisor", query_string=NOVEMBER).get_json()["totals"]
    assert (totals["received"], totals["finished"], totals["withdrawn"]) == (4, 2, 1)  # the same figures
