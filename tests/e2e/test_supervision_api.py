"""Supervision orders (督办单) and the supervisor's dashboard through the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.timelimits.clock_sweep import sweep_clocks
from app.services.timelimits.supervision import sweep_orders

from .flows import APPROVE, FOOD, GRANT, complete, food_to_review

pytestmark = pytest.mark.usefixtures("demo")


def _fields(resp) -> set[str]:
    return {e.get("field") for e in resp.get_json()["errors"]}


def _issue(api, case_no: str, reply_by: str = "2026-11-26", department: str = "market", user: str = "supervisor"):
    return api.post("/supervision-orders", user, json={"case_no": case_no, "department": department,
                                                        "reason": "请说明审查进度", "reply_by": reply_by})


def _notified(api, user: str, kind: str) -> list[dict]:
    return [n for n in api.get("/notifications", user).get_json()["items"] if n["kind"] == kind]


def test_issue_reply_close(api):
    case_no = food_to_review(api)
    resp = _issue(api, case_no)
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["state"] == "open" and order["department"] == "market" and order["reply_by"] == "2026-11-26"
    assert _notified(api, "market_head", "supervision_order")
    assert any(e["action"] == "supervision_order" for e in api.get(f"/cases/{case_no}", "admin").get_json()["history"])

    listed = api.get("/supervision-orders?state=open", "market_approver").get_json()
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert api.get("/supervision-orders", "housing_head").get_json()["total"] == 0

    resp = api.post(f"/supervision-orders/{order['id']}/reply", "market_head", json={"reply": "已完成现场核查，本周内作出决定"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "replied"
    assert _notified(api, "supervisor", "order_reply")

    resp = api.post(f"/supervision-orders/{order['id']}/close", "supervisor")
    assert resp.status_code == 200 and resp.get_json()["state"] == "closed"
    shown = api.get(f"/supervision-orders/{order['id']}", "market_head").get_json()
    assert shown["state"] == "closed" and shown["reply"] == "已完成现场核查，本周内作出决定"


def test_who_may_issue_reply_and_close(api):
    case_no = food_to_review(api)
    assert _issue(api, case_no, user="market_head").status_code == 403
    assert _issue(api, case_no, user="company").status_code == 403
    order_id = _issue(api, case_no).get_json()["id"]
    reply = {"reply": "收到"}
    assert api.post(f"/supervision-orders/{order_id}/reply", "housing_head", json=reply).status_code == 404
    assert api.get(f"/supervision-orders/{order_id}", "housing_head").status_code == 404
    assert api.post(f"/supervision-orders/{order_id}/reply", "market_clerk", json=reply).status_code == 403
    assert api.post(f"/supervision-orders/{order_id}/reply", "supervisor", json=reply).status_code == 403
    assert api.post(f"/supervision-orders/{order_id}/close", "market_head").status_code == 403
    assert api.get("/dashboard", "market_head").status_code == 403
    assert api.post(f"/supervision-orders/{order_id}/reply", "market_approver", json=reply).status_code == 200
    assert api.post(f"/supervision-orders/{order_id}/reply", "market_head", json=reply).status_code == 409


def test_bad_input(api):
    case_no = food_to_review(api)
    resp = _issue(api, case_no, department="housing")
    assert resp.status_code == 400 and _fields(resp) == {"department"}
    resp = _issue(api, case_no, reply_by="2026-11-23")
    assert resp.status_code == 400 and _fields(resp) == {"reply_by"}
    resp = _issue(api, case_no, reply_by="next week")
    assert resp.status_code == 400 and "reply_by" in _fields(resp)
    resp = api.post("/supervision-orders", "supervisor", json={"case_no": case_no})
    assert resp.status_code == 400 and {"department", "reason", "reply_by"} <= _fields(resp)
    assert _issue(api, "NOPE123").status_code == 404
    order_id = _issue(api, case_no).get_json()["id"]
    resp = api.post(f"/supervision-orders/{order_id}/reply", "market_head", json={"reply": ""})
    assert resp.status_code == 400 and _fields(resp) == {"reply"}
    assert api.get("/supervision-orders?state=lost", "supervisor").status_code == 400
    resp = api.get("/dashboard?from=2026-12-01&to=2026-11-01", "supervisor")
    assert resp.status_code == 400 and "from" in _fields(resp)
    assert api.get("/dashboard?from=yesterday", "supervisor").status_code == 400


def test_overdue_reply_alarms_once(api, ctx, clock):
    case_no = food_to_review(api)
    order_id = _issue(api, case_no, reply_by="2026-11-24").get_json()["id"]
    assert sweep_orders(ctx).alarms == 0  # not yet due
    clock.advance(timedelta(days=1, hours=14))  # Tuesday 23:00 Beijing: still the reply day
    assert sweep_orders(ctx).alarms == 0
    clock.advance(timedelta(hours=2))  # Wednesday 01:00: the reply day has passed
    assert sweep_orders(ctx).alarms == 1
    assert sweep_orders(ctx).alarms == 0
    alarms = [a for a in api.get("/alarms", "supervisor").get_json()["items"] if a["kind"] == "order"]
    assert len(alarms) == 1 and alarms[0]["level"] == "red" and alarms[0]["case_no"] == case_no
    assert len(_notified(api, "market_head", "alarm")) == 1
    assert len(_notified(api, "supervisor", "alarm")) == 1
    assert api.get(f"/supervision-orders/{order_id}", "supervisor").get_json()["overdue"] is True

    api.post(f"/supervision-orders/{order_id}/reply", "market_head", json={"reply": "已补办"})
    assert not [a for a in api.get("/alarms", "supervisor").get_json()["items"] if a["kind"] == "order"]


def test_dashboard_shows_a_case_gone_red(api, ctx, clock):
    case_no = food_to_review(api)
    before = api.get("/dashboard?from=2026-11-01&to=2026-11-30", "supervisor").get_json()
    assert before["totals"]["red"] == 0 and before["overdue"]["total"] == 0
    market = {r["department"]: r for r in before["by_department"]}["market"]
    assert market["green"] >= 1

    clock.advance(timedelta(days=16))  # past the promised 10 working days
    sweep_clocks(ctx)
    after = api.get("/dashboard?from=2026-11-01&to=2026-12-31", "supervisor").get_json()
    assert after["totals"]["red"] == before["totals"]["red"] + 1
    assert {r["department"]: r for r in after["by_department"]}["market"]["red"] == 1
    assert {r["item"]: r for r in after["by_item"]}[FOOD]["red"] == 1
    overdue = after["overdue"]["items"]
    assert [o["case_no"] for o in overdue] == [case_no]
    assert overdue[0]["department"] == "market" and overdue[0]["overdue_workdays"] >= 1

    only_housing = api.get("/dashboard?department=housing", "supervisor").get_json()
    assert only_housing["totals"]["red"] == 0 and only_housing["overdue"]["total"] == 0

    _issue(api, case_no, reply_by="2026-12-15")
    assert api.get("/dashboard", "supervisor").get_json()["open_orders"] == 1


def test_dashboard_on_time_rate_and_average_working_days_within_the_date_range(api, clock):
    on_time, late = food_to_review(api), food_to_review(api)  # both accepted Monday 2026-11-23 (10 wd)
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # Wednesday: 2 working days later
    complete(api, on_time, "review", "market_approver", APPROVE)
    complete(api, on_time, "decision", "market_head", GRANT)
    clock.set(datetime(2026, 12, 9, 2, 0, tzinfo=UTC))  # 12 working days: past the 2026-12-07 deadline
    complete(api, late, "review", "market_approver", APPROVE)
    complete(api, late, "decision", "market_head", GRANT)
    board = api.get("/dashboard?from=2026-11-01&to=2026-12-31", "supervisor").get_json()
    assert board["on_time"] == {"on_time": 1, "completed": 2, "rate": 0.5}
    assert board["handling"] == {"cases": 2, "average_workdays": 7.0}
    outside = api.get("/dashboard?from=2027-01-01&to=2027-01-31", "supervisor").get_json()
    assert outside["on_time"]["completed"] == 0 and outside["handling"]["cases"] == 0
