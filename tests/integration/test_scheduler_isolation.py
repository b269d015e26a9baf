"""Every scheduler job isolates its items: a poisoned case, clock, supervision order or outbox row among
healthy ones gets an incident (or its row's retry mark) and is postponed, while the healthy ones are done
in the same `flask scheduler tick` (time from the injected clock; no sleeping)."""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.models import Case, CaseClock, EngineTimer, HumanTask, Incident, OutboxMessage, SupervisionOrder
from app.services.casework.timers import RETRY_AFTER_FAILURE
from app.services.messaging.notifications import notify
from app.services.messaging.outbox import OutgoingMessage, backoff
from app.workdays import end_of_day
from tests.conftest import Api
from tests.e2e.flows import FOOD, FOOD_APPLY, apply, case, food_to_review, open_keys

pytestmark = pytest.mark.usefixtures("demo")

GENERATOR = "g = (i for i in [1])"  # leaves data that cannot be saved as JSON


def timer_process(key: str, script: str = "x = 1") -> bytes:
    """start -> wait one hour -> milestone "计时到" (status in_review) -> script -> user task `after`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="等一小时"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateThrowEvent id="fired" name="计时到">
      <bpmn:extensionElements><camunda:properties><camunda:property name="status" value="in_review"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:intermediateThrowEvent>
    <bpmn:scriptTask id="work" name="work" scriptFormat="python"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="after" name="after" camunda:candidateGroups="market.clerk">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="fired"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fired" targetRef="work"/>
    <bpmn:sequenceFlow id="f4" sourceRef="work" targetRef="after"/>
    <bpmn:sequenceFlow id="f5" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def timer_item(api: Api, code: str, script: str = "x = 1") -> str:
    """Deploy a timer process and an item on it; returns the item code."""
    key = code.lower().replace("-", "_")
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(timer_process(key, script)),
                    f"{key}.bpmn")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    item = {"code": code, "name": f"定时 {code}", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": key, "case_prefix": code[:2]}
    assert api.post("/items", "admin", json=item).status_code == 201
    return code


def tick(app: Any) -> list[str]:
    result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def incidents(api: Api, case_no: str) -> list[str]:
    return [i["message"] for i in case(api, case_no)["incidents"]]


def case_id(ctx: Any, case_no: str) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(Case.id).where(Case.case_no == case_no)))


def timer_due(ctx: Any, case_no: str) -> list[Any]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(EngineTimer.due_at).where(EngineTimer.case_id == case_id(ctx, case_no))))


# --- engine timers ----------------------------------------------------------------------------------

def test_a_case_whose_timer_step_fails_is_postponed_and_the_others_fire(app, api, ctx, clock):
    healthy, poisoned = timer_item(api, "TH-1"), timer_item(api, "TP-1", GENERATOR)
    first = apply(api, healthy, {})["case_no"]
    bad = apply(api, poisoned, {})["case_no"]
    last = apply(api, healthy, {})["case_no"]
    clock.advance(timedelta(hours=2))
    assert "timers: 2 case(s) moved" in tick(app)
    for case_no in (first, last):
        assert open_keys(api, case_no) == ["after"] and case(api, case_no)["status"] == "in_review"
    assert open_keys(api, bad) == [] and case(api, bad)["status"] == "submitted"
    [message] = incidents(api, bad)
    assert message.startswith("scheduler engine_timers: ")
    assert timer_due(ctx, bad) == [clock.now() + RETRY_AFTER_FAILURE]

    # postponed: not tried on every tick, but again once the retry time has come
    assert "timers: 0 case(s) moved" in tick(app)
    assert len(incidents(api, bad)) == 1
    clock.advance(RETRY_AFTER_FAILURE)
    assert "timers: 0 case(s) moved" in tick(app)
    assert len(incidents(api, bad)) == 2 and timer_due(ctx, bad) == [clock.now() + RETRY_AFTER_FAILURE]


def test_a_case_with_damaged_state_is_postponed_and_the_others_fire(app, api, ctx, clock):
    """Not an engine failure: the stored state itself is unreadable."""
    item = timer_item(api, "TH-2")
    cases = [apply(api, item, {})["case_no"] for _ in range(3)]
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(Case).where(Case.case_no == cases[1]).values(engine_state="{damaged"))
        uow.commit()
    clock.advance(timedelta(hours=2))
    assert "timers: 2 case(s) moved" in tick(app)
    assert [open_keys(api, c) for c in (cases[0], cases[2])] == [["after"], ["after"]]
    damaged = case_id(ctx, cases[1])
    with ctx.uow() as uow:  # (the staff case page cannot show a case whose state it cannot read)
        [message] = uow.session.scalars(select(Incident.message).where(Incident.case_id == damaged))
        assert uow.session.scalar(select(HumanTask.id).where(HumanTask.case_id == damaged)) is None
    assert message.startswith("scheduler engine_timers: ")
    assert timer_due(ctx, cases[1]) == [clock.now() + RETRY_AFTER_FAILURE]


# --- clocks -----------------------------------------------------------------------------------------

def test_a_damaged_clock_is_postponed_and_the_other_cases_are_deemed_accepted(app, api, ctx, clock):
    cases = [apply(api, FOOD, FOOD_APPLY)["case_no"] for _ in range(3)]  # Monday 11-23: notice clocks
    poisoned = case_id(ctx, cases[1])
    with ctx.uow(write=True) as uow:  # a limit no calendar can count: the deadline overflows
        uow.session.execute(update(CaseClock).where(CaseClock.case_id == poisoned, CaseClock.kind == "notice")
                            .values(unit="d", limit_value=2**31 - 1))
        uow.commit()
    clock.set(end_of_day(date(2026, 11, 30)) + timedelta(seconds=1))  # the 5 working days have run out
    tick(app)
    assert [case(api, c)["accepted_at"] is not None for c in cases] == [True, False, True]
    deemed = api.get("/alarms?level=red", "supervisor").get_json()["items"]
    assert sorted(a["case_no"] for a in deemed if a["kind"] == "deemed") == sorted([cases[0], cases[2]])
    [message] = incidents(api, cases[1])
    assert message.startswith("scheduler clocks: OverflowError")
    with ctx.uow() as uow:
        notice = uow.session.execute(select(CaseClock.state, CaseClock.next_check_at).where(
            CaseClock.case_id == poisoned, CaseClock.kind == "notice")).one()
    assert tuple(notice) == ("running", clock.now() + RETRY_AFTER_FAILURE)
    assert "clocks: 0 alarm(s) fired" in tick(app)
    assert len(incidents(api, cases[1])) == 1


# --- supervision orders -----------------------------------------------------------------------------

def test_an_order_that_fails_is_postponed_and_the_other_orders_alarm(app, api, ctx, clock, monkeypatch):
    from app.services.timelimits import supervision

    cases = [food_to_review(api) for _ in range(3)]
    orders = []
    for case_no in cases:
        resp = api.post("/supervision-orders", "supervisor", json={
            "case_no": case_no, "department": "market", "reason": "请说明审查进度", "reply_by": "2026-11-24"})
        assert resp.status_code == 201, resp.get_json()
        orders.append(resp.get_json()["id"])
    real = supervision.notifications.notify_groups

    def notify_groups(s, now, groups, kind, title, body, **options):  # type: ignore[no-untyped-def]
        if cases[1] in title:  # e.g. the order's department has lost its head group
            raise LookupError(f"no such group for {cases[1]}")
        return real(s, now, groups, kind, title, body, **options)

    monkeypatch.setattr(supervision.notifications, "notify_groups", notify_groups)
    clock.set(end_of_day(date(2026, 11, 24)) + timedelta(seconds=1))
    assert "supervision orders: 2 overdue alarm(s) fired" in tick(app)
    shown = [api.get(f"/supervision-orders/{o}", "supervisor").get_json()["overdue"] for o in orders]
    assert shown == [True, False, True]
    [message] = incidents(api, cases[1])
    assert message.startswith(f"scheduler orders (order {orders[1]}): LookupError")
    with ctx.uow() as uow:
        due = uow.session.scalar(select(SupervisionOrder.reply_check_at).where(SupervisionOrder.id == orders[1]))
    assert due == clock.now() + RETRY_AFTER_FAILURE
    assert "supervision orders: 0 overdue alarm(s) fired" in tick(app)
    assert len(incidents(api, cases[1])) == 1


# --- outbox -----------------------------------------------------------------------------------------

class Picky:
    """A gateway that refuses one number with an error text the database cannot store as it is."""

    def __init__(self, refused: str) -> None:
        self.refused, self.sent = refused, []

    def send(self, message: OutgoingMessage) -> None:
        if message.recipient == self.refused:
            raise ValueError("gateway: bad number\x00")
        self.sent.append(message.recipient)


def test_a_message_the_gateway_refuses_waits_its_backoff_and_the_others_are_sent(app, ctx, clock, caplog):
    from app.models import User

    names = ["citizen", "company", "market_clerk"]
    phones = {name: f"1390000000{n}" for n, name in enumerate(names)}
    with ctx.uow(write=True) as uow:
        s = uow.session
        for user in s.scalars(select(User).where(User.username.in_(names))):
            user.phone = phones[user.username]
            notify(s, clock.now(), [user.id], "notice", "您的申请已受理", "", channels=("sms",),
                   dedupe_key=f"t:{user.username}")
        uow.commit()
    sender = Picky(refused=phones["company"])
    app.extensions["banjian_outbox_sender"] = sender
    with caplog.at_level(logging.WARNING, logger="app.services.messaging.outbox"):
        assert "outbox: 2 message(s) sent" in tick(app)
    assert sorted(sender.sent) == sorted([phones["citizen"], phones["market_clerk"]])
    with ctx.uow() as uow:
        refused = uow.session.execute(select(
            OutboxMessage.id, OutboxMessage.state, OutboxMessage.attempts, OutboxMessage.next_attempt_at,
            OutboxMessage.last_error).where(OutboxMessage.recipient == phones["company"])).one()
    assert tuple(refused)[1:] == ("pending", 1, clock.now() + backoff(1), "ValueError: gateway: bad number\\0")
    assert any(f"outbox #{refused.id} attempt 1 failed" in r.getMessage() for r in caplog.records)
    assert "outbox: 0 message(s) sent" in tick(app)  # not before its backoff


# --- a job that fails as a whole ----------------------------------------------------------------------

def test_a_job_that_fails_as_a_whole_does_not_stop_the_others_in_the_tick(app, api, ctx, clock, monkeypatch,
                                                                          caplog):
    from app.services.admin import calendar_admin
    from app.services.timelimits import clock_sweep

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(clock_sweep, "_claim", broken)
    monkeypatch.setattr(calendar_admin, "missing_next_year", broken)
    case_no = apply(api, timer_item(api, "TH-3"), {})["case_no"]
    clock.advance(timedelta(hours=2))
    with caplog.at_level(logging.ERROR, logger="app.jobs.ticks"):
        result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[:5] == [
        "timers: 1 case(s) moved", "clocks: failed (see the log)", "supervision orders: 0 overdue alarm(s) fired",
        "outbox: 1 message(s) sent", "calendar: failed (see the log)"]  # the case's receipt SMS
    assert open_keys(api, case_no) == ["after"]
    assert sorted(r.getMessage() for r in caplog.records) == [
        "scheduler job calendar failed", "scheduler job clocks failed"]
