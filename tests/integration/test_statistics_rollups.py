"""The rollups equal a recount from the event log: a seeded random sequence of cases driven through the
API on the injected clock, the scheduler's job run at random moments (in small batches), then every
answer compared with a direct count of the case events, and again after `flask statistics rebuild`."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from app.clock import CHINA_TZ
from app.jobs.ticks import statistics_tick
from app.models import FINAL_STATUSES, MEASURES, Case, CaseClock, CaseEvent, Item, StatWatermark
from app.services.statistics import rollups
from app.services.statistics.filters import Filters
from app.services.statistics.queries import summary, times, workload
from tests.e2e.flows import (
    ACCEPT,
    APPROVE,
    CORRECT,
    FOOD,
    FOOD_APPLY,
    GRANT,
    ISSUE,
    PASS,
    apply,
    complete,
    open_keys,
)

pytestmark = pytest.mark.usefixtures("demo")
RANGE = {"since": date(2026, 11, 1), "until": date(2027, 2, 28)}
REFUSE = {"preview_result": "refuse", "refusal_reason": "不属于本机关职权范围"}
DECLINE = {"decision": "refuse", "decision_reason": "经营场所不符合要求", "remedy_informed": True}


def step(api, rng: random.Random, case_no: str) -> bool:
    """One plausible next action on the case by whoever it waits for; False when nothing is left."""
    keys = open_keys(api, case_no)
    if not keys:
        return False
    key = keys[0]
    if key == "preview":
        if rng.random() < 0.1:  # the applicant gives up before acceptance
            return api.post(f"/cases/{case_no}/withdraw", case_owner(api, case_no), json={}).status_code != 200
        complete(api, case_no, key, "market_clerk", rng.choices([PASS, CORRECT, REFUSE], [6, 3, 1])[0])
    elif key == "correction":  # the applicant may give up while asked to correct; else the case waits
        if rng.random() < 0.3:
            return api.post(f"/cases/{case_no}/withdraw", case_owner(api, case_no), json={}).status_code != 200
        return rng.random() < 0.8
    elif key == "acceptance":
        complete(api, case_no, key, rng.choice(["market_clerk", "market_clerk2"]), ACCEPT)
    elif key == "review":
        complete(api, case_no, key, "market_approver", APPROVE)
    elif key == "decision":
        complete(api, case_no, key, "market_head", rng.choices([GRANT, DECLINE], [4, 1])[0])
    elif key == "issue_licence":
        complete(api, case_no, key, "center_clerk", {**ISSUE, "licence_no": f"JY1420102026{rng.randrange(10**4):04d}"})
    else:
        return False
    return True


OWNERS: dict[str, str] = {}  # case number -> the applicant's username


def case_owner(_api, case_no: str) -> str:
    return OWNERS[case_no]


def random_activity(api, app, clock, seed: int) -> None:
    rng = random.Random(seed)
    open_cases: list[str] = []
    for _ in range(70):
        roll = rng.random()
        if roll < 0.25 or not open_cases:
            window = rng.random() < 0.4
            user, applicant = ("market_clerk", "citizen") if window else (rng.choice(["company", "citizen"]), None)
            case_no = apply(api, FOOD, FOOD_APPLY, user, applicant=applicant)["case_no"]
            OWNERS[case_no] = applicant or user
            open_cases.append(case_no)
        elif roll < 0.85:
            case_no = rng.choice(open_cases)
            if not step(api, rng, case_no):
                open_cases.remove(case_no)
        elif roll < 0.95:
            clock.advance(timedelta(hours=rng.choice([3, 14, 24, 50, 75])))
        else:
            clock.advance(timedelta(minutes=3))
            statistics_tick(app)  # folds what is older than the lag, mid-activity
    clock.advance(timedelta(minutes=5))


def recount(ctx) -> dict[str, Counter]:
    """Count straight from the event log: per (day, measure, channel) and per officer, first events only."""
    with ctx.uow() as uow:
        s = uow.session
        channel = dict(s.execute(select(Case.id, Case.channel)).all())  # recorded when the case was created
        late = set(s.scalars(select(CaseClock.case_id).where(CaseClock.on_time.is_(False),
                                                             CaseClock.kind.in_(rollups.LEGAL_CLOCKS))))
        events = s.execute(select(CaseEvent.case_id, CaseEvent.at, CaseEvent.actor_id, CaseEvent.action,
                                  CaseEvent.data_after).order_by(CaseEvent.id)).all()
        cal = ctx.calendar.get(s)
        dept = dict(s.execute(select(Item.id, Item.department_id)).all())
    counts: Counter = Counter()
    officers: Counter = Counter()
    stages: dict[str, Counter] = {st: Counter() for st in ("acceptance", "decision", "total")}
    by_officer: dict[tuple[str, int], Counter] = {}  # (stage, the officer who ended it) -> working days
    firsts: dict[tuple[int, str], Any] = {}
    for e in events:
        status = (e.data_after or {}).get("status") if e.action == "status" else None
        kind = ("created" if e.action == "created" else "accepted" if e.action == "deemed_accepted" or status == "accepted"
                else "decided" if status == "decided" else "final" if status in FINAL_STATUSES
                else "correction" if status == "correction" else None)
        if kind is None or ((e.case_id, kind) in firsts and kind != "correction"):
            continue
        firsts.setdefault((e.case_id, kind), e)
        day = e.at.astimezone(CHINA_TZ).date().isoformat()
        ch = channel[e.case_id]
        measures = {"created": ["received"], "accepted": ["accepted"], "correction": ["corrections"], "decided": [],
                    "final": (["withdrawn"] if status == "withdrawn" else
                              ["finished", "late" if e.case_id in late else "on_time"]
                              + (["refused"] if status == "refused" else []))}[kind]
        who = e.actor_id if (kind != "created" or ch == "window") else None
        for m in measures:
            counts[(day, m, ch)] += 1
            officers[(m, who or 0)] += 1
        since = {"accepted": "created", "decided": "accepted", "final": "created"}.get(kind)
        if since and (e.case_id, since) in firsts and status != "withdrawn":
            stage = {"accepted": "acceptance", "decided": "decision", "final": "total"}[kind]
            took = cal.workdays_between(firsts[(e.case_id, since)].at, e.at)
            stages[stage][took] += 1
            by_officer.setdefault((stage, e.actor_id or 0), Counter())[took] += 1
    assert set(dept.values())  # every item has its department
    assert all(day < "2027" for day, _, _ in counts)
    return {"counts": counts, "officers": officers, **stages,
            "officer_times": {k: summary(dict(v)) for k, v in by_officer.items()}}


def answers(ctx) -> dict[str, Counter]:
    """The same figures as the statistics service gives them."""
    from app.services.identity.principal import Principal

    boss = Principal(id=0, username="boss", full_name="", role="supervisor", roles=frozenset({"supervisor"}),
                     groups=frozenset(), department=None)
    counts: Counter = Counter()
    for ch in ("online", "window"):
        for row in workload(ctx, boss, Filters(period="day", channel=ch, **RANGE))["rows"]:
            for m in ("received", "accepted", "finished", "refused", "withdrawn", "corrections", "on_time", "late"):
                if row[m]:
                    counts[(row["period"], m, ch)] += row[m]
    officers: Counter = Counter()
    for row in workload(ctx, boss, Filters(by="officer", **RANGE))["rows"]:
        for m in ("received", "accepted", "finished", "refused", "withdrawn", "corrections", "on_time", "late"):
            if row[m]:
                officers[(m, row["key"])] += row[m]
    out: dict[str, Counter] = {"counts": counts, "officers": officers}
    year = Filters(period="year", since=RANGE["since"], until=date(2026, 12, 31))  # the activity ends in 2026
    by_stage = {r["stage"]: r for r in times(ctx, boss, year)["rows"]}
    for stage in ("acceptance", "decision", "total"):
        out[stage] = by_stage.get(stage, {"cases": 0})  # type: ignore[assignment]
    out["officer_times"] = {(r["stage"], r["key"]): {k: r[k] for k in ("cases", "avg_workdays", "p90_workdays")}
                            for r in times(ctx, boss, replace(year, by="officer"))["rows"]}
    return out


def assert_stock_is_the_open_cases(ctx) -> None:
    """In progress at the range's end, from the rollups (received less finished and withdrawn), is the
    count of open cases in the cases table, per channel too."""
    from app.services.identity.principal import Principal

    boss = Principal(id=0, username="boss", full_name="", role="supervisor", roles=frozenset({"supervisor"}),
                     groups=frozenset(), department=None)
    for channel in (None, "online", "window"):
        answer = workload(ctx, boss, Filters(period="month", channel=channel, **RANGE))
        assert answer["totals"]["open_at_end"] == answer["in_progress"], channel
    assert answer["in_progress"] > 0


def assert_months_add_up(ctx) -> None:
    """A range that cuts months: per month (whole months from the monthly tables, the ends from the daily
    ones) the figures are the per-day figures added up, in every dimension."""
    from app.services.identity.principal import Principal

    boss = Principal(id=0, username="boss", full_name="", role="supervisor", roles=frozenset({"supervisor"}),
                     groups=frozenset(), department=None)
    cut = Filters(since=date(2026, 11, 24), until=date(2026, 12, 2))
    for by in (None, "item", "officer", "window", "channel"):
        days, months = (workload(ctx, boss, replace(cut, by=by, period=p))["rows"] for p in ("day", "month"))
        added: Counter = Counter()
        for r in days:
            for m in MEASURES:
                added[(r["period"][:7], r["key"], m)] += r[m]
        assert +added == Counter({(r["period"], r["key"], m): r[m] for r in months for m in MEASURES if r[m]}), by
        stages = times(ctx, boss, replace(cut, by=by, period="month"))["rows"]
        per_day = Counter()
        for r in times(ctx, boss, replace(cut, by=by, period="day"))["rows"]:
            per_day[(r["period"][:7], r["key"], r["stage"])] += r["cases"]
        assert per_day == Counter({(r["period"], r["key"], r["stage"]): r["cases"] for r in stages}), by


def assert_equal(found: dict, expected: dict) -> None:
    assert found["counts"] == expected["counts"]
    assert found["officers"] == expected["officers"]
    assert found["officer_times"] == expected["officer_times"]
    for stage in ("acceptance", "decision", "total"):
        want = summary(dict(expected[stage]))
        got = found[stage]
        assert (got["cases"], got.get("avg_workdays"), got.get("p90_workdays")) == (
            want["cases"], want["avg_workdays"], want["p90_workdays"]), stage


@pytest.mark.parametrize("seed", [11, 2026])
def test_rollups_equal_a_recount_after_random_activity(api, app, ctx, clock, monkeypatch, seed):
    monkeypatch.setattr(rollups, "BATCH_EVENTS", 7)  # many small batches, each its own transaction
    random_activity(api, app, clock, seed)
    statistics_tick(app)
    expected = recount(ctx)
    assert sum(v for (_, m, _), v in expected["counts"].items() if m == "received") >= 10
    assert_equal(answers(ctx), expected)
    assert_months_add_up(ctx)
    assert_stock_is_the_open_cases(ctx)
    assert statistics_tick(app) == 0  # nothing new: folding again changes nothing
    assert_equal(answers(ctx), expected)
    rollups.rebuild(ctx)  # from scratch
    assert_equal(answers(ctx), expected)
    rollups.rebuild(ctx, date(2026, 12, 1))  # the later months only
    assert_equal(answers(ctx), expected)
    assert_months_add_up(ctx)


def test_events_younger_than_the_lag_wait_for_the_next_run(api, app, clock):
    apply(api, FOOD, FOOD_APPLY)
    assert statistics_tick(app) == 0
    clock.advance(rollups.LAG + timedelta(seconds=1))
    assert statistics_tick(app) > 0


def test_a_second_scheduler_skips_while_the_first_holds_the_watermark(api, app, ctx, clock, db_url):
    if not ctx.db.is_postgres:
        pytest.skip("SQLite's single writer serializes the schedulers instead")
    apply(api, FOOD, FOOD_APPLY)
    clock.advance(timedelta(minutes=5))
    statistics_tick(app)
    apply(api, FOOD, FOOD_APPLY)
    clock.advance(timedelta(minutes=5))
    with ctx.db.engine.connect() as other:
        other.execute(text("SELECT 1 FROM stat_watermarks FOR UPDATE"))
        assert rollups.run_rollups(ctx) == 0  # returned at once instead of waiting
        other.rollback()
    assert rollups.run_rollups(ctx) > 0
    with ctx.uow() as uow:
        assert uow.session.scalar(select(StatWatermark.last_event_id)) > 0
