"""Alarm thresholds are set per item (and per step in BPMN): a stricter item warns earlier."""

from __future__ import annotations

import io
from datetime import date

import pytest

from app.services.timelimits.clock_sweep import sweep_clocks
from app.workdays import end_of_day, start_of_day

from .flows import FOOD, food_to_review

pytestmark = pytest.mark.usefixtures("demo")


def decision_level(api, case_no):
    clocks = api.get(f"/cases/{case_no}/clocks", "admin").get_json()["clocks"]
    return next(c["level"] for c in clocks if c["kind"] == "decision")


def test_item_thresholds_move_the_yellow_warning(api, ctx, clock):
    item = api.get(f"/items/{FOOD}", "admin").get_json()
    assert item["yellow_ratio"] is None and item["yellow_days"] is None  # the defaults: 80 %, 1 day
    body = {k: item[k] for k in ("code", "name", "type_code", "department", "case_kind", "statutory_limit",
                                 "promised_limit", "limit_unit", "joint", "departments", "materials", "fees",
                                 "process_key", "form_key", "case_prefix")}
    bad = api.put(f"/items/{FOOD}", "admin", json={**body, "yellow_ratio": 1.5, "yellow_days": -1})
    assert bad.status_code == 400 and {e["field"] for e in bad.get_json()["errors"]} == {"yellow_ratio", "yellow_days"}
    ok = api.put(f"/items/{FOOD}", "admin", json={**body, "yellow_ratio": 0.5, "yellow_days": 3})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["yellow_ratio"] == 0.5 and ok.get_json()["yellow_days"] == 3
    case_no = food_to_review(api)  # accepted Monday 2026-11-23: 10 working days, deadline 2026-12-07
    clock.set(end_of_day(date(2026, 11, 27)))  # 4 of 10 working days elapsed
    sweep_clocks(ctx)
    assert decision_level(api, case_no) == "green"
    clock.set(start_of_day(date(2026, 11, 30)))  # the 5th working day begins: 50 % elapsed
    sweep_clocks(ctx)
    assert decision_level(api, case_no) == "yellow"  # the default (80 %) would still be green


def step_level(api, case_no):
    clocks = api.get(f"/cases/{case_no}/clocks", "admin").get_json()["clocks"]
    return next(c["level"] for c in clocks if c["kind"] == "step" and c["name"] == "审查")


def test_step_thresholds_in_bpmn_move_the_steps_yellow_warning(api, ctx, clock):
    """`yellowRatio` / `yellowDays` on a user task beat the item's and the default thresholds for that step."""
    v1 = (ctx.bpmn_dir / "food_licence.bpmn").read_text(encoding="utf-8")
    plain = food_to_review(api)  # review: 5 working days from Monday 2026-11-23, default 80 % / 1 day
    limit = '<camunda:property name="timeLimit" value="5wd" />'
    assert v1.count(limit) == 1
    v2 = v1.replace(limit, limit + '<camunda:property name="yellowRatio" value="0.4" />')
    deployed = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(v2.encode()), "food_licence.bpmn")},
                        content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.get_json()
    strict = food_to_review(api)
    clock.set(end_of_day(date(2026, 11, 24)))  # 1 of 5 working days: 20 %
    assert (step_level(api, plain), step_level(api, strict)) == ("green", "green")
    clock.set(end_of_day(date(2026, 11, 25)))  # 2 of 5: 40 %
    assert (step_level(api, plain), step_level(api, strict)) == ("green", "yellow")

    v3 = v1.replace(limit, limit + '<camunda:property name="yellowRatio" value="0.9" />'
                                   '<camunda:property name="yellowDays" value="3" />')
    assert api.post("/process-definitions", "designer", data={"file": (io.BytesIO(v3.encode()), "food_licence.bpmn")},
                    content_type="multipart/form-data").status_code == 201
    clock.set(start_of_day(date(2026, 11, 25)))
    by_days = food_to_review(api)  # review from Wednesday 11-25: deadline Wednesday 12-02
    clock.set(end_of_day(date(2026, 11, 26)))  # 4 working days left
    assert step_level(api, by_days) == "green"
    clock.set(end_of_day(date(2026, 11, 27)))  # 3 left: within yellowDays
    assert (step_level(api, by_days), step_level(api, plain)) == ("yellow", "yellow")
