"""`flask scheduler tick` with work to do: one tick fires a due BPMN timer, deems a case accepted whose
notice clock ran out, alarms an unanswered supervision order and sends the outbox (time from the
injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.clock import CHINA_TZ
from app.jobs.ticks import JOBS
from app.models import OutboxMessage
from tests.integration.test_scheduler_isolation import timer_item

from .flows import FOOD, FOOD_APPLY, apply, case, food_to_review, open_keys

pytestmark = pytest.mark.usefixtures("demo")
COMPANY_PHONE = "13812345678"  # the demo applicant "company"


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def test_one_tick_acts_on_every_kind_of_due_work(app, api, ctx, clock):
    deemed = apply(api, FOOD, FOOD_APPLY)["case_no"]  # Monday 11-23: notice clock to the end of 11-30
    clock.set(beijing(11, 27, 9))
    supervised = food_to_review(api)
    order = api.post("/supervision-orders", "supervisor", json={
        "case_no": supervised, "department": "market", "reason": "请说明审查进度", "reply_by": "2026-11-30"})
    assert order.status_code == 201, order.get_json()
    clock.set(beijing(11, 30, 20))
    timed = apply(api, timer_item(api, "TC-1"), {})["case_no"]  # its timer falls due at 21:00

    clock.set(beijing(12, 1, 0, 30))  # Tuesday 00:30: 11-30 is over
    result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [job.label for job in JOBS]  # every job, once
    assert lines[:5] == [
        "timers: 1 case(s) moved", "clocks: 2 alarm(s) fired", "supervision orders: 1 overdue alarm(s) fired",
        "outbox: 5 message(s) sent", "calendar: 1 alarm(s) raised"]  # deemed acceptance + 4 milestone SMS

    assert open_keys(api, timed) == ["after"] and case(api, timed)["status"] == "in_review"
    view = case(api, deemed)
    assert view["accepted_at"].startswith("2026-11-23") and "deemed_accepted" in [e["action"] for e in view["history"]]
    assert api.get(f"/supervision-orders/{order.get_json()['id']}", "supervisor").get_json()["overdue"] is True
    with ctx.uow() as uow:
        sent = uow.session.execute(select(OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body,
                                          OutboxMessage.state)
                                   .where(OutboxMessage.dedupe_key.not_like("milestone|%"))).all()  # not receipts
    assert [(r.recipient, r.state) for r in sent] == [(COMPANY_PHONE, "sent")]
    assert deemed in sent[0].subject + sent[0].body
