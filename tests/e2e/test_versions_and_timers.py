"""Process versions pin running cases; BPMN timers fire from the scheduler's tick on the injected clock."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import EngineTimer
from app.services.casework.timers import fire_due_timers

from .flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS, apply, case, complete, open_keys

pytestmark = pytest.mark.usefixtures("demo")


def deploy(api, content: bytes, name: str):
    return api.post("/process-definitions", "designer", data={"file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data")


def test_a_running_case_finishes_on_its_version_and_new_cases_take_the_latest(api, ctx):
    v1_xml = (ctx.bpmn_dir / "food_licence.bpmn").read_bytes()
    again = deploy(api, v1_xml, "food_licence.bpmn")
    assert again.status_code == 200 and again.get_json()["version"] == 1  # same content, same version
    old = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, old, "preview", "market_clerk", PASS)
    complete(api, old, "acceptance", "market_clerk", ACCEPT)

    v2_xml = v1_xml.replace('name="审查"'.encode(), 'name="实质审查"'.encode())
    assert v2_xml != v1_xml
    created = deploy(api, v2_xml, "food_licence.bpmn")
    assert created.status_code == 201 and created.get_json()["version"] == 2
    new = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, new, "preview", "market_clerk", PASS)
    complete(api, new, "acceptance", "market_clerk", ACCEPT)

    assert case(api, old)["process_version"] == 1 and case(api, new)["process_version"] == 2
    assert [t["name"] for t in case(api, old)["tasks"]] == ["审查"]
    assert [t["name"] for t in case(api, new)["tasks"]] == ["实质审查"]
    for n, case_no in enumerate((old, new)):
        complete(api, case_no, "review", "market_approver", APPROVE)
        complete(api, case_no, "decision", "market_head", GRANT)
        issue = {**ISSUE, "licence_no": f"{ISSUE['licence_no'][:-1]}{n + 2}"}  # licence numbers are unique
        assert complete(api, case_no, "issue_licence", "center_clerk", issue)["status"] == "issued"
    versions = api.get("/process-definitions/food_licence", "designer").get_json()["versions"]
    assert [(v["version"], v["case_count"]) for v in versions] == [(2, 1), (1, 1)]
    assert versions[0]["deployed_by"] == "designer"


TIMER_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="timed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="wait_for_applicant" name="wait" camunda:assignee="${applicant}">
      <bpmn:extensionElements><camunda:properties><camunda:property name="status" value="correction"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="deadline" attachedToRef="wait_for_applicant" cancelActivity="true">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>workday_deadline(received_at, 5)</bpmn:timeDate>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="timed_out" name="deemed withdrawn">
      <bpmn:extensionElements><camunda:properties><camunda:property name="status" value="withdrawn"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_for_applicant"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait_for_applicant" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="timed_out"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_working_day_boundary_timer_fires_on_its_day(api, ctx, clock):
    assert deploy(api, TIMER_BPMN, "timed.bpmn").status_code == 201
    item = {"code": "T-1", "name": "限期补正", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": "timed", "case_prefix": "TM"}
    assert api.post("/items", "admin", json=item).status_code == 201
    case_no = apply(api, "T-1", {})["case_no"]  # Monday 2026-11-23: 5 working days -> Monday 11-30
    with ctx.uow() as uow:
        due = uow.session.scalar(select(EngineTimer.due_at))
    assert due.isoformat() == "2026-11-30T15:59:59.999999+00:00"  # end of 11-30 in Beijing

    clock.advance(timedelta(days=7))  # Monday 11-30 09:00 in Beijing: not yet
    assert fire_due_timers(ctx) == 0
    assert open_keys(api, case_no) == ["wait_for_applicant"]

    clock.advance(timedelta(days=1))  # Tuesday: the deadline has passed
    assert fire_due_timers(ctx) == 1
    view = case(api, case_no)
    assert view["status"] == "withdrawn" and view["tasks"] == [] and view["closed_at"]
    assert fire_due_timers(ctx) == 0  # fired once
    with ctx.uow() as uow:
        assert uow.session.scalar(select(EngineTimer.id)) is None


def test_a_timer_fires_on_the_tick_at_its_very_due_time(api, ctx, clock):
    """The engine fires a timer only once its time has passed; the tick that claims it at exactly its due
    time must still fire it, not leave it for the next tick."""
    assert deploy(api, TIMER_BPMN, "timed.bpmn").status_code == 201
    item = {"code": "T-2", "name": "限期补正", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": "timed", "case_prefix": "TN"}
    assert api.post("/items", "admin", json=item).status_code == 201
    case_no = apply(api, "T-2", {})["case_no"]
    with ctx.uow() as uow:
        due = uow.session.scalar(select(EngineTimer.due_at))
    clock.set(due)
    assert fire_due_timers(ctx) == 1
    assert case(api, case_no)["status"] == "withdrawn"


def test_a_calendar_change_moves_a_waiting_working_day_timer(api, ctx, clock):
    from datetime import date

    from app.models import CaseEvent
    from app.services.admin.calendar_admin import set_day

    assert deploy(api, TIMER_BPMN, "timed.bpmn").status_code == 201
    item = {"code": "T-2", "name": "限期补正", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": "timed", "case_prefix": "TN"}
    assert api.post("/items", "admin", json=item).status_code == 201
    case_no = apply(api, "T-2", {})["case_no"]  # Monday 2026-11-23: due at the end of Monday 11-30
    set_day(ctx, None, date(2026, 11, 25), "holiday", "地方假日", local=True)  # a local extra holiday
    with ctx.uow() as uow:
        due = uow.session.scalar(select(EngineTimer.due_at))
        moved = uow.session.scalars(select(CaseEvent.message).where(CaseEvent.action == "deadline_moved")).all()
    assert due.isoformat() == "2026-12-01T15:59:59.999999+00:00"  # one working day later: Tuesday 12-01
    assert "calendar:timer:deadline" in moved
    clock.advance(timedelta(days=8))  # Tuesday 12-01 09:00: the old deadline has passed, the new one not
    assert fire_due_timers(ctx) == 0 and open_keys(api, case_no) == ["wait_for_applicant"]
    clock.advance(timedelta(days=1))
    assert fire_due_timers(ctx) == 1 and case(api, case_no)["status"] == "withdrawn"


def test_a_non_executable_pool_beside_an_executable_process_is_ignored(api):
    from tests.bpmn_builder import linear, user

    xml = linear("served", user("work", group="market.clerk")).replace(
        b"</bpmn:definitions>", b'<bpmn:process id="citizen_pool" isExecutable="false"/></bpmn:definitions>')
    resp = deploy(api, xml, "served.bpmn")
    assert resp.status_code == 201, resp.get_json()
    assert [d["key"] for d in resp.get_json()["definitions"]] == ["served"]
    only_pool = deploy(api, linear("nothing", user("x"), executable=False), "nothing.bpmn")
    assert only_pool.status_code == 400
    assert only_pool.get_json()["errors"][0]["element_id"] == "nothing"


def test_deploy_with_an_xml_body(api):
    from tests.bpmn_builder import linear, user

    resp = api.post("/process-definitions?filename=raw.bpmn", "admin", data=linear("raw", user("t", group="x.clerk")),
                    content_type="application/xml")
    assert resp.status_code == 201 and resp.get_json()["key"] == "raw" and resp.get_json()["version"] == 1
    assert api.post("/process-definitions", "admin", json={"x": 1}).status_code == 400
