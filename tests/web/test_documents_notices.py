"""Notices issued as a case moves: which, when, with what content and number (the documents service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.engine.runtime import StepResult
from app.models import CaseEvent, Item, Notice
from app.services.documents import notices
from app.services.documents.notices import StatusChange
from tests.e2e.flows import (
    ACCEPT,
    APPROVE,
    CORRECT,
    FOOD,
    FOOD_APPLY,
    GRANT,
    INSTANT,
    INSTANT_APPLY,
    ISSUE,
    PASS,
    apply,
    complete,
    correct,
    food_to_review,
    post_case,
)

from .documents_helpers import NUMBER, notices_of, one

pytestmark = pytest.mark.usefixtures("demo")

TWO_DEFICIENCIES = {"preview_result": "correct", "deficiencies": [
    {"material": "食品经营许可申请书", "requirement": "请补充法定代表人签字"},
    {"material": "食品安全管理人员证明", "requirement": "请提交培训考核合格证明原件扫描件"},
]}


def test_receipt_right_after_applying(api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    receipt = one(ctx, case_no, "receipt")
    c = receipt.content
    assert receipt.title == c["title"] == "收件回执"
    assert (c["case_no"], c["item_name"], c["applicant_name"]) == (case_no, "食品经营许可", "江城味道餐饮管理有限公司")
    assert c["received_at"].startswith("2026-11-23T09:00")
    assert (c["promised_limit"], c["statutory_limit"], c["limit_unit"]) == (10, 20, "wd")
    names = [m["name"] for m in c["materials"]]
    assert names[0] == "食品经营许可申请书" and len(names) == 7
    assert c["materials"][0]["required"] is True and c["materials"][-1]["required"] is False
    assert c["correction_notice_by"] == "2026-11-30"  # five working days after Monday 23 November
    assert c["organ"] == "市市场监督管理局" and c["phone"] == "027-85550121"
    assert c["issuer"] is None  # filed online by the applicant: no staff member issued it
    assert notices_of(ctx, case_no) == [receipt]


def test_window_intake_receipt_names_the_clerk(api, ctx):
    resp = post_case(api, FOOD, FOOD_APPLY, "market_clerk", applicant="company")
    assert resp.status_code == 201, resp.get_json()
    receipt = one(ctx, resp.get_json()["case_no"], "receipt")
    assert receipt.content["issuer"] == {"name": "王芳", "staff_no": "SJ0101", "department": "市场监督管理局"}
    assert (receipt.issued_by, receipt.issued_by_staff_no) == ("王芳", "SJ0101")


def test_correction_notice_lists_every_deficiency_and_each_round_has_its_own(api, ctx, clock):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", TWO_DEFICIENCIES)
    first = one(ctx, case_no, "correction")
    c = first.content
    assert first.title == "补正告知书"
    assert c["deficiencies"] == TWO_DEFICIENCIES["deficiencies"]
    assert c["round"] == 1 and c["deadline"] is None
    assert c["issuer"] == {"name": "王芳", "staff_no": "SJ0101", "department": "市场监督管理局"}

    clock.advance(timedelta(days=1))
    correct(api, case_no)
    assert len(notices_of(ctx, case_no, "correction")) == 1  # resubmitting issues nothing
    complete(api, case_no, "preview", "market_clerk2", CORRECT)
    rounds = notices_of(ctx, case_no, "correction")
    assert len(rounds) == 2
    second = rounds[1]
    assert second.number != first.number and second.number.startswith("BZ20261124")
    assert second.content["round"] == 2
    assert second.content["deficiencies"] == CORRECT["deficiencies"]
    assert second.content["issuer"]["staff_no"] == "SJ0102"
    assert first.content["deficiencies"] == TWO_DEFICIENCIES["deficiencies"]  # the first stays as issued


def test_acceptance_notice_gives_the_promised_deadline_in_working_days(api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", PASS)
    assert notices_of(ctx, case_no, "acceptance") == []  # passing the preview accepts nothing yet
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    c = one(ctx, case_no, "acceptance").content
    assert c["accepted_on"] == "2026-11-23"  # Monday
    assert c["promised_limit"] == 10 and c["promised_deadline"] == "2026-12-07"
    assert c["statutory_limit"] == 20 and c["statutory_deadline"] == "2026-12-21"
    assert c["issuer"]["name"] == "王芳"


@pytest.mark.parametrize("step", ["preview", "acceptance"])
def test_refusal_notice_before_acceptance_carries_the_reason(api, ctx, step):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    if step == "preview":
        complete(api, case_no, "preview", "market_clerk", {"preview_result": "refuse",
                                                            "refusal_reason": "不属于本机关职权范围"})
        reason = "不属于本机关职权范围"
    else:
        complete(api, case_no, "preview", "market_clerk", PASS)
        complete(api, case_no, "acceptance", "market_clerk", {"accept_result": "refuse",
                                                               "refusal_reason": "申请事项依法不需要取得行政许可"})
        reason = "申请事项依法不需要取得行政许可"
    refusal = one(ctx, case_no, "refusal")
    assert refusal.title == "不予受理通知书" and refusal.content["reason"] == reason
    assert NUMBER.match(refusal.number).group(1) == "BSL"
    assert notices_of(ctx, case_no, "decision") == [] and notices_of(ctx, case_no, "acceptance") == []


def test_refusal_after_acceptance_is_a_decision(api, ctx):
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", {"decision": "refuse", "decision_reason": "经营场所不符合要求",
                                                       "remedy_informed": True})
    decision = one(ctx, case_no, "decision")
    assert decision.title == "行政许可决定书"
    assert decision.content["reason"] == "经营场所不符合要求" and decision.content["result"] == "refuse"
    assert decision.content["accepted_on"] == "2026-11-23"
    assert decision.content["issuer"]["staff_no"] == "SJ0301"
    assert notices_of(ctx, case_no, "refusal") == []


def test_pickup_receipt_after_issuance(api, ctx):
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    assert notices_of(ctx, case_no, "pickup") == []
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    pickup = one(ctx, case_no, "pickup")
    c = pickup.content
    assert pickup.title == "领证回执"
    assert (c["licence_no"], c["issue_date"], c["licence_name"]) == ("JY14201020260001", "2026-11-30", "食品经营许可证")
    assert c["issuer"]["staff_no"] == "ZW0101"
    kinds = [n.kind for n in notices_of(ctx, case_no)]
    assert kinds == ["receipt", "acceptance", "decision", "pickup"]  # the grant decision (准予行政许可决定书)


def test_mail_delivery_records_the_tracking_number_instead(api, ctx):
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", {**ISSUE, "delivery_method": "mail",
                                                             "mail_address": "武汉市江岸区沿江大道100号",
                                                             "mail_tracking_no": "SF1234567890"})
    assert notices_of(ctx, case_no, "pickup") == []
    with ctx.uow() as uow:
        events = uow.session.scalars(select(CaseEvent).where(CaseEvent.action == "delivered")).all()
        assert len(events) == 1 and "SF1234567890" in events[0].message
        assert events[0].data_after["mail_tracking_no"] == "SF1234567890"
        assert events[0].actor.username == "center_clerk"


def test_instant_item_handed_over_on_the_spot_gets_a_pickup_receipt(api, ctx):
    case_no = apply(api, INSTANT, INSTANT_APPLY)["case_no"]
    complete(api, case_no, "handle_on_spot", "market_clerk", {"instant_result": "grant",
                                                               "licence_no": "JY14201020012345"})
    assert one(ctx, case_no, "pickup").content["licence_no"] == "JY14201020012345"
    other = apply(api, INSTANT, INSTANT_APPLY)["case_no"]
    complete(api, other, "handle_on_spot", "market_clerk", {"instant_result": "refuse",
                                                             "refusal_reason": "原许可证已注销"})
    assert one(ctx, other, "refusal").content["reason"] == "原许可证已注销"


def test_numbers_are_unique_and_well_formed(api, ctx, clock):
    cases = [apply(api, FOOD, FOOD_APPLY)["case_no"] for _ in range(3)]
    clock.advance(timedelta(days=1))
    cases.append(apply(api, FOOD, FOOD_APPLY)["case_no"])
    for case_no in cases[:2]:
        complete(api, case_no, "preview", "market_clerk", CORRECT)
    with ctx.uow() as uow:
        numbers = list(uow.session.scalars(select(Notice.number).order_by(Notice.id)))
    assert len(numbers) == len(set(numbers)) == 6
    parts = [NUMBER.match(n).groups() for n in numbers]
    assert [p[:2] for p in parts] == [("SJ", "20261123")] * 3 + [("SJ", "20261124")] + [("BZ", "20261124")] * 2
    assert [p[2] for p in parts] == ["000001", "000002", "000003", "000001", "000001", "000002"]


def test_a_notice_is_frozen_when_issued(api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(Item).where(Item.code == FOOD).values(name="改名后的事项", promised_limit=5,
                                                                          materials=[], guide={}))
        uow.commit()
    assert one(ctx, case_no, "receipt").content["item_name"] == "食品经营许可"
    acceptance = one(ctx, case_no, "acceptance").content
    assert acceptance["promised_deadline"] == "2026-12-07" and acceptance["organ"] == "市市场监督管理局"


def test_steps_that_call_for_no_notice_issue_none(api, ctx):
    case_no = food_to_review(api)
    before = [n.number for n in notices_of(ctx, case_no)]
    complete(api, case_no, "review", "market_approver", APPROVE)
    assert [n.number for n in notices_of(ctx, case_no)] == before


class _Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"after_step touched {name} although no notice was due")


def test_after_step_does_no_work_when_nothing_is_due():
    def data():
        raise AssertionError("read the process data although no notice was due")

    for before, reached in [("submitted", ["in_review"]), ("decided", ["decided"]), ("correction", ["submitted"]),
                            ("submitted", [])]:
        notices.after_step(_Untouchable(), _Untouchable(), _Untouchable(), StatusChange(before, reached, StepResult()), data,
                           datetime(2026, 11, 23, tzinfo=UTC), 1)
