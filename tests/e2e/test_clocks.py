"""Case clocks through the API: notice and decision limits, deemed acceptance, special procedures,
extensions and the alarms the scheduler fires (time from the injected clock; no sleeping)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Alarm, Case, Notice, User
from app.models.notification import Notification, OutboxMessage
from app.services.casework import processes
from app.services.timelimits.clock_sweep import sweep_clocks
from app.workdays import end_of_day

from .flows import (
    ACCEPT,
    APPROVE,
    FOOD,
    FOOD_APPLY,
    GRANT,
    ISSUE,
    PASS,
    apply,
    complete,
    food_to_review,
    joint_to_approval,
    open_keys,
)

pytestmark = pytest.mark.usefixtures("demo")
ROOT = Path(__file__).resolve().parents[2]
COMPANY_PHONE = "13812345678"  # the demo applicant "company"


def clocks(api, case_no, user="admin"):
    resp = api.get(f"/cases/{case_no}/clocks", user)
    assert resp.status_code == 200, resp.get_json()
    return {c["kind"] if c["kind"] != "step" else f"step:{c['name']}": c for c in resp.get_json()["clocks"]}


def day_of(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(end_of_day(date(2026, 1, 1)).tzinfo).date()


def count_alarms(ctx, **where) -> int:
    with ctx.uow() as uow:
        query = select(func.count()).select_from(Alarm)
        for column, value in where.items():
            query = query.where(getattr(Alarm, column) == value)
        return uow.session.scalar(query) or 0


def test_notice_clock_runs_from_receipt_and_stops_at_acceptance(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]  # Monday 2026-11-23
    notice = clocks(api, case_no)["notice"]
    assert notice["limit"] == 5 and notice["unit"] == "wd" and notice["state"] == "running"
    assert day_of(notice["deadline"]) == date(2026, 11, 30)  # 5 working days after Monday: next Monday
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    after = clocks(api, case_no)
    assert after["notice"]["state"] == "stopped" and after["notice"]["on_time"] is True
    decision = after["decision"]
    assert decision["limit"] == 10 and decision["statutory_limit"] == 20  # promised drives, statutory beside
    assert day_of(decision["deadline"]) == date(2026, 12, 7)
    assert decision["state"] == "running" and decision["level"] == "green"


def test_inbox_deadline_of_a_task_without_step_limit_is_the_case_clock(api, ctx):
    case_no = food_to_review(api)
    tasks = api.get(f"/cases/{case_no}", "admin").get_json()["tasks"]
    review = next(t for t in tasks if t["task_key"] == "review")
    assert day_of(review["due_at"]) == date(2026, 11, 30)  # its own step limit: 5wd
    assert clocks(api, case_no)["step:" + review["name"]]["limit"] == 5


def test_deemed_acceptance_after_five_working_days_without_notice(api, ctx, clock):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    clock.set(end_of_day(date(2026, 11, 30)))  # the last moment of the 5th working day: still in time
    assert sweep_clocks(ctx).deemed == []
    clock.advance(timedelta(microseconds=2))
    result = sweep_clocks(ctx)
    assert result.deemed == [case_no]
    case = api.get(f"/cases/{case_no}", "admin").get_json()
    assert day_of(case["accepted_at"]) == date(2026, 11, 23)  # accepted as of the receipt date (Art. 32)
    now = clocks(api, case_no)
    assert now["notice"]["state"] == "stopped" and now["notice"]["on_time"] is False
    assert day_of(now["decision"]["started_at"]) == date(2026, 11, 23)
    assert count_alarms(ctx, kind="deemed", level="red") == 1
    told = [(n["title"], n["case_no"]) for n in api.get("/notifications", "company").get_json()["items"]
            if n["kind"] == "deemed_accepted"]
    assert told == [(f"您的申请 {case_no} 已视为受理", case_no)]  # the applicant, in the app...
    with ctx.uow() as uow:
        sms = uow.session.execute(select(OutboxMessage.channel, OutboxMessage.recipient, User.username)
                                  .join(User, User.id == OutboxMessage.user_id)
                                  .where(OutboxMessage.dedupe_key.not_like("milestone|%"))).all()  # not the receipt
        everyone = uow.session.scalar(select(func.count()).select_from(Notification)
                                      .where(Notification.kind == "deemed_accepted"))
    assert [tuple(m) for m in sms] == [("sms", COMPANY_PHONE, "company")]  # ...and by text message
    assert everyone == 1  # and nobody else
    assert sweep_clocks(ctx).deemed == [] and count_alarms(ctx, kind="deemed") == 1  # once only
    # The clerk then accepts formally: the decision clock keeps its start at receipt.
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    decisions = [c for c in api.get(f"/cases/{case_no}/clocks", "admin").get_json()["clocks"]
                 if c["kind"] == "decision"]
    assert len(decisions) == 1 and day_of(decisions[0]["started_at"]) == date(2026, 11, 23)


def test_yellow_then_red_alarm_each_fired_once(api, ctx, clock):
    case_no = food_to_review(api)
    decision = clocks(api, case_no)["decision"]
    assert day_of(decision["deadline"]) == date(2026, 12, 7)
    clock.set(end_of_day(date(2026, 12, 2)))  # 7 of 10 working days elapsed: still green
    sweep_clocks(ctx)
    assert clocks(api, case_no)["decision"]["level"] == "green"
    clock.set(end_of_day(date(2026, 12, 3)))  # 8 of 10 = 80 %: yellow
    sweep_clocks(ctx)
    sweep_clocks(ctx)
    assert clocks(api, case_no)["decision"]["level"] == "yellow"
    yellow = api.get("/alarms?level=yellow", "supervisor").get_json()
    assert [a["case_no"] for a in yellow["items"] if a["message"] == "decision"] == [case_no]
    clock.set(end_of_day(date(2026, 12, 7)) + timedelta(seconds=1))
    sweep_clocks(ctx)
    assert clocks(api, case_no)["decision"]["level"] == "red"
    red = api.get("/alarms?level=red", "supervisor").get_json()["items"]
    assert case_no in [a["case_no"] for a in red]
    assert not [a for a in api.get("/alarms?level=yellow", "supervisor").get_json()["items"]
                if a["case_no"] == case_no and a["message"] == "decision"]  # the red one superseded it
    with ctx.uow() as uow:
        keys = uow.session.scalars(select(Alarm.key).where(Alarm.kind == "clock")).all()
    assert len(keys) == len(set(keys))
    assert api.get("/alarms?level=purple", "supervisor").status_code == 400
    assert api.get("/alarms", "company").status_code == 403


def test_suspension_stops_the_decision_clock_and_tells_the_applicant(api, ctx, clock):
    case_no = food_to_review(api)  # accepted Monday 2026-11-23, deadline 2026-12-07
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=end_of_day(date(2026, 1, 1)).tzinfo))  # Wednesday
    bad = api.post(f"/cases/{case_no}/suspensions", "market_approver", json={"procedure": "picnic", "expected_days": 0})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.get_json()["errors"]} == {"procedure", "expected_days"}
    assert api.post(f"/cases/{case_no}/suspensions", "company",
                    json={"procedure": "testing", "expected_days": 5}).status_code == 403
    started = api.post(f"/cases/{case_no}/suspensions", "market_approver",
                       json={"procedure": "testing", "expected_days": 5, "reason": "样品送检"})
    assert started.status_code == 201, started.get_json()
    assert clocks(api, case_no)["decision"]["state"] == "suspended"
    with ctx.uow() as uow:  # the written notice (Art. 45), which the applicant's case page lists
        content = uow.session.scalar(select(Notice.content).where(Notice.kind == "suspension"))
    assert content is not None and content["expected_days"] == 5 and content["procedure_name"] == "检测"
    clock.set(datetime(2026, 12, 2, 2, 0, tzinfo=end_of_day(date(2026, 1, 1)).tzinfo))  # next Wednesday
    assert sweep_clocks(ctx).alarms == 0  # a suspended clock fires nothing
    ended = api.post(f"/cases/{case_no}/suspensions/{started.get_json()['id']}/end", "market_approver")
    assert ended.status_code == 200 and ended.get_json()["days"] == 5  # Thu, Fri, Mon, Tue, Wed
    decision = clocks(api, case_no)["decision"]
    assert decision["state"] == "running" and decision["suspended_days"] == 5
    assert day_of(decision["deadline"]) == date(2026, 12, 14)  # moved on by the 5 working days
    again = api.post(f"/cases/{case_no}/suspensions/{started.get_json()['id']}/end", "market_approver")
    assert again.status_code == 409


def head_tasks(api, user, key="approve_extension"):
    resp = api.get("/tasks?view=all&per_page=100", user)
    assert resp.status_code == 200, resp.get_json()
    return [t for t in resp.get_json()["items"] if t["task_key"] == key]


def applicant_notices(ctx, case_no, kind):
    with ctx.uow() as uow:
        return uow.session.scalars(select(Notice.content).join(Case, Case.id == Notice.case_id)
                                   .where(Case.case_no == case_no, Notice.kind == kind)).all()


def test_extension_is_the_heads_task_in_the_workflow_and_only_once(api, ctx):
    case_no = food_to_review(api)
    assert api.post(f"/cases/{case_no}/extensions", "market_approver", json={}).status_code == 400
    assert api.post(f"/cases/{case_no}/extensions", "company", json={"reason": "x"}).status_code == 403
    asked = api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "需现场核查"})
    assert asked.status_code == 201 and asked.get_json()["days"] == 10 and asked.get_json()["state"] == "requested"
    assert api.post(f"/cases/{case_no}/extensions", "market_approver",
                    json={"reason": "again"}).status_code == 409  # one request at a time, once
    [task] = head_tasks(api, "market_head")  # in the head's inbox, beside the review that goes on
    assert task["name"] == "审批延期申请" and "review" in open_keys(api, case_no)
    assert head_tasks(api, "market_approver") == [] and head_tasks(api, "housing_head") == []
    for user, refused in (("market_approver", 403), ("housing_head", 403)):  # not a candidate
        resp = api.post(f"/tasks/{task['id']}/complete", user, json={"data": {"extension_decision": "approve"}})
        assert resp.status_code == refused, (user, resp.get_json())
    assert clocks(api, case_no)["decision"]["extended_by"] == 0
    # the service-level decision is not a second way around the task
    ext = asked.get_json()["id"]
    assert api.post(f"/cases/{case_no}/extensions/{ext}/decision", "market_head",
                    json={"approve": True}).status_code == 409
    done = api.post(f"/tasks/{task['id']}/complete", "market_head",
                    json={"data": {"extension_decision": "approve", "extension_comment": "同意"}})
    assert done.status_code == 200, done.get_json()
    decision = clocks(api, case_no)["decision"]
    assert decision["extended_by"] == 10 and day_of(decision["deadline"]) == date(2026, 12, 21)
    [extension] = decision["extensions"]
    assert extension["state"] == "approved" and extension["comment"] == "同意" and extension["notice_id"]
    [notice] = applicant_notices(ctx, case_no, "extension")
    assert notice["days"] == 10 and notice["reason"] == "需现场核查"
    told = [n["title"] for n in api.get("/notifications", "company").get_json()["items"] if n["kind"] == "extension"]
    assert told == [f"办件 {case_no} 审查期限已延长"]  # the applicant hears of it
    assert head_tasks(api, "market_head") == [] and "review" in open_keys(api, case_no)
    assert api.post(f"/cases/{case_no}/extensions", "market_approver",
                    json={"reason": "once more"}).status_code == 409


def test_a_rejected_extension_leaves_the_limit_and_may_be_asked_again(api, ctx):
    case_no = food_to_review(api)
    api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "需现场核查"})
    [task] = head_tasks(api, "market_head")
    bad = api.post(f"/tasks/{task['id']}/complete", "market_head", json={"data": {"extension_decision": "maybe"}})
    assert bad.status_code == 422 and "extension_decision" in str(bad.get_json())
    done = api.post(f"/tasks/{task['id']}/complete", "market_head", json={"data": {"extension_decision": "reject"}})
    assert done.status_code == 200, done.get_json()
    decision = clocks(api, case_no)["decision"]
    assert decision["extended_by"] == 0 and [e["state"] for e in decision["extensions"]] == ["rejected"]
    assert applicant_notices(ctx, case_no, "extension") == []
    again = api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "样品复检"})
    assert again.status_code == 201
    [second] = head_tasks(api, "market_head")
    done = api.post(f"/tasks/{second['id']}/complete", "market_head", json={"data": {"extension_decision": "approve"}})
    assert done.status_code == 200, done.get_json()
    decision = clocks(api, case_no)["decision"]
    assert decision["extended_by"] == 10 and [e["state"] for e in decision["extensions"]] == ["rejected", "approved"]


def test_a_request_the_head_never_answered_lapses_when_the_case_is_decided(api, ctx):
    case_no = food_to_review(api)
    api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "需现场核查"})
    assert len(head_tasks(api, "market_head")) == 1
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    done = complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    assert done["status"] == "issued"
    assert head_tasks(api, "market_head") == []  # the end of the case ended the head's task too
    final = api.get(f"/cases/{case_no}", "admin").get_json()
    assert final["tasks"] == [] and final["closed_at"]
    [extension] = [e for c in api.get(f"/cases/{case_no}/clocks", "admin").get_json()["clocks"]
                   for e in c["extensions"]]
    assert extension["state"] == "lapsed"


def test_joint_handling_45_plus_15(api):
    case_no = joint_to_approval(api)
    decision = clocks(api, case_no)["decision"]
    assert decision["statutory_limit"] == 45 and decision["limit"] == 20
    asked = api.post(f"/cases/{case_no}/extensions", "housing_approver", json={"reason": "多部门联合踏勘"})
    assert asked.status_code == 201 and asked.get_json()["days"] == 15
    assert head_tasks(api, "fire_approver") == []  # the lead department's head decides
    [task] = head_tasks(api, "housing_head")
    done = api.post(f"/tasks/{task['id']}/complete", "housing_head", json={"data": {"extension_decision": "approve"}})
    assert done.status_code == 200, done.get_json()
    assert clocks(api, case_no)["decision"]["extended_by"] == 15


def test_a_process_version_without_the_approval_task_is_decided_by_the_service(api, ctx):
    """Cases on a version deployed before the extension subprocess: the head decides through the API."""
    source = (ROOT / "bpmn" / "food_licence.bpmn").read_text()
    source = re.sub(r"\s*<bpmn:subProcess id=\"extension_approval\".*?</bpmn:subProcess>", "", source, flags=re.S)
    source = re.sub(r"\s*<bpmn:message id=\"message_extension_requested\"[^>]*/>", "", source)
    source = re.sub(r"\s*<bpmndi:(BPMNShape|BPMNEdge) id=\"(extension_\w+|approve_extension|flow_extension_\w+)_di\""
                    r".*?</bpmndi:\1>", "", source, flags=re.S)
    assert "_extension" not in source and "extension_" not in source
    processes.deploy(ctx, None, source.encode(), "food_licence.bpmn")
    case_no = food_to_review(api)
    asked = api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "需现场核查"})
    assert asked.status_code == 201
    assert head_tasks(api, "market_head") == []
    ext = asked.get_json()["id"]
    for user, refused in (("market_approver", 403), ("housing_head", 403)):
        resp = api.post(f"/cases/{case_no}/extensions/{ext}/decision", user, json={"approve": True})
        assert resp.status_code == refused, user
    ok = api.post(f"/cases/{case_no}/extensions/{ext}/decision", "market_head", json={"approve": True})
    assert ok.status_code == 200 and ok.get_json()["state"] == "approved" and ok.get_json()["notice_id"]
    assert clocks(api, case_no)["decision"]["extended_by"] == 10
    assert api.post(f"/cases/{case_no}/extensions/{ext}/decision", "market_head",
                    json={"approve": True}).status_code == 409


def test_clocks_are_private_to_who_may_see_the_case(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert api.get(f"/cases/{case_no}/clocks", "company").status_code == 200
    assert api.get(f"/cases/{case_no}/clocks", "citizen").status_code == 404
    assert api.get(f"/cases/{case_no}/clocks", "housing_approver").status_code == 404


def heads_alarms(api) -> list[tuple[str, list[str]]]:
    """The market head's red-alarm messages as (title, case numbers listed), seen as the head sees them."""
    items = api.get("/notifications", "market_head").get_json()["items"]
    return [(n["title"], n["body"].split("：", 1)[1].split("、")) for n in items if n["kind"] == "alarm"]


def test_the_heads_message_names_each_red_case_once(api, ctx, clock):
    first, second = food_to_review(api), food_to_review(api)
    clock.set(end_of_day(date(2026, 12, 7)) + timedelta(seconds=1))  # decision and review clocks of both overdue
    assert sweep_clocks(ctx).alarms == 4  # two red clocks a case
    [(title, listed)] = heads_alarms(api)
    assert title == "2 件办件红灯预警" and sorted(listed) == sorted([first, second])


def test_the_heads_hear_of_every_red_case_once_even_when_a_tick_takes_several_batches(api, ctx, clock):
    first, second = food_to_review(api), food_to_review(api)
    clock.set(end_of_day(date(2026, 12, 7)) + timedelta(seconds=1))
    assert sweep_clocks(ctx, batch=1).alarms == 4
    told = heads_alarms(api)
    assert [title for title, _ in told] == ["1 件办件红灯预警"] * 2
    assert sorted(no for _, listed in told for no in listed) == sorted([first, second])
    assert sweep_clocks(ctx).alarms == 0 and len(heads_alarms(api)) == 2  # and nothing again on the next tick
