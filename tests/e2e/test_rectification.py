"""差评整改 through the API: a bad rating opens a rectification case of its own (one per rating, none for a
good or neutral one); its callback limit of one working day goes yellow then red on the injected clock and a
supervisor's order follows; the centre calls back and classifies; the rated department rectifies (or appeals);
the centre feeds back and the applicant rates again (追加评价); a mistaken or malicious classification goes to
the supervisor's review. Who may do what, and bad input, answered with 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Alarm, AuditEntry, CaseClock, Rectification
from app.services.timelimits.clock_sweep import sweep_clocks
from tests.e2e.flows import case, complete, open_keys, task_id
from tests.e2e.test_ratings_api import ONLINE, finished_case
from tests.web.signin import sign_in

pytestmark = pytest.mark.usefixtures("demo")

BAD = {"level": 1, "dimensions": ONLINE, "reasons": ["efficiency"], "comment": "等了很久没人处理"}
CALLBACK = {"callback_result": "reached", "callback_outcome": "已电话联系申请人，核实办理超时属实"}
VALID = {"classification": "valid", "classification_reason": "办理超出承诺时限"}
RECTIFIED = {"rectify_result": "rectified", "rectification": "已优化审查流程，增设专人跟踪"}
FEEDBACK = {"feedback_result": "accepted", "feedback": "市场监管局已优化审查流程，感谢您的监督"}


def rectification_of(api, user="center_clerk"):
    items = api.get("/rectifications", user).get_json()["items"]
    assert len(items) == 1, items
    return items[0]


def row(ctx, rectification_id):
    with ctx.uow() as uow:
        found = uow.session.get(Rectification, rectification_id)
        uow.session.expunge(found)
        return found


def test_a_bad_rating_is_called_back_on_the_clock_rectified_fed_back_and_rated_again(api, ctx, clock):
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    rect = rectification_of(api)
    assert rect["state"] == "open" and rect["stage"] == "callback" and rect["department"]["code"] == "market"
    assert rect["rating"]["case_no"] == case_no and rect["rating"]["comment"] == BAD["comment"]
    assert [r["name"] for r in rect["rating"]["reasons"]] == ["办事效率"]
    no = rect["case_no"]
    assert no.startswith("HCP")
    assert [c["name"] for c in rect["clocks"]] == ["回访"] and rect["level"] == "green"

    # the callback limit: one working day; yellow, then red; an alarm each, and a supervisor's order
    clock.advance(timedelta(hours=20))
    sweep_clocks(ctx)
    assert rectification_of(api)["level"] == "yellow"
    clock.advance(timedelta(days=2))
    sweep_clocks(ctx)
    assert rectification_of(api)["level"] == "red"
    with ctx.uow() as uow:
        fired = uow.session.execute(select(Alarm.level, Alarm.department).join(CaseClock, CaseClock.id == Alarm.clock_id)
                                    .where(CaseClock.name == "回访")).all()
    assert sorted(fired) == [("red", "service_center"), ("yellow", "service_center")]
    order = api.post("/supervision-orders", "supervisor", json={
        "case_no": no, "department": "service_center", "reason": "差评回访超时", "reply_by": "2026-12-31"})
    assert order.status_code == 201, order.get_json()
    reply = api.post(f"/supervision-orders/{order.get_json()['id']}/reply", "center_head", json={"reply": "今日回访"})
    assert reply.status_code == 200, reply.get_json()

    complete(api, no, "callback", "center_clerk", CALLBACK)
    complete(api, no, "classify", "center_clerk", VALID)
    rect = rectification_of(api)
    assert rect["called_back_at"] and rect["classification"] == "valid" and rect["stage"] == "rectification"
    assert rect["level"] == "green"  # the 15 working days of the rectification run now
    # an order may go to the rated department too, as its limit now runs; not to one with nothing to do here
    to = {"case_no": no, "reason": "请按期整改", "reply_by": "2026-12-31"}
    assert api.post("/supervision-orders", "supervisor", json={**to, "department": "market"}).status_code == 201
    wrong = api.post("/supervision-orders", "supervisor", json={**to, "department": "housing"})
    assert wrong.status_code == 400 and [e["field"] for e in wrong.get_json()["errors"]] == ["department"]
    # the rated department rectifies; another department cannot
    tid = task_id(api, no, "rectify")
    assert api.post(f"/tasks/{tid}/complete", "housing_approver", json={"data": RECTIFIED}).status_code in (403, 404)
    assert api.get(f"/rectifications/{rect['id']}", "housing_approver").status_code == 404
    assert api.get(f"/rectifications/{rect['id']}", "market_approver").status_code == 200
    clock.advance(timedelta(days=10))  # past the first rating's window of five working days
    complete(api, no, "rectify", "market_approver", RECTIFIED)
    complete(api, no, "feedback", "center_clerk", FEEDBACK)

    done = row(ctx, rect["id"])
    assert done.state == "closed" and done.classification == "valid" and done.rectified_at and done.closed_at
    assert done.rectification == RECTIFIED["rectification"] and done.feedback == FEEDBACK["feedback"]
    assert case(api, no)["status"] == "closed"

    # the applicant hears of it and may rate again, even after the first window of five working days
    notes = api.get("/notifications", "company").get_json()["items"]
    assert any("差评整改反馈" in n["title"] and n["link"] == f"/my/cases/{case_no}/rate" for n in notes)
    state = api.get(f"/cases/{case_no}/ratings", "company").get_json()
    assert state["can_rate"] and state["follow_up"]
    again = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 4, "dimensions": ONLINE})
    assert again.status_code == 201 and again.get_json()["kind"] == "follow_up"
    assert len(api.get("/rectifications", "center_clerk").get_json()["items"]) == 1  # a good follow-up opens none
    with ctx.uow() as uow:
        actions = set(uow.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "rectification")))
    assert {"rectification.callback", "rectification.classify", "rectification.rectify", "rectification.feedback",
            "rectification.close"} <= actions


def test_one_rectification_per_bad_rating_and_none_for_good_or_neutral_ones(api, ctx):
    good, neutral = finished_case(api, "JY14201000000001"), finished_case(api, "JY14201000000002")
    assert api.post(f"/cases/{good}/ratings", "company", json={"level": 5, "dimensions": ONLINE}).status_code == 201
    assert api.post(f"/cases/{neutral}/ratings", "company", json={"level": 3, "dimensions": ONLINE}).status_code == 201
    assert api.get("/rectifications", "supervisor").get_json()["total"] == 0
    bad = finished_case(api, "JY14201000000003")
    assert api.post(f"/cases/{bad}/ratings", "company", json=BAD).status_code == 201
    assert api.post(f"/cases/{bad}/ratings", "company", json=BAD).status_code == 201  # its follow-up: bad again
    listed = api.get("/rectifications", "supervisor").get_json()["items"]
    assert sorted(r["rating"]["kind"] for r in listed) == ["follow_up", "rating"]  # one each, not two for one
    assert len({r["case_no"] for r in listed}) == 2
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Rectification)) == 2


def test_a_mistaken_rating_goes_to_the_supervisor_who_upholds_it_or_overturns_it(api, ctx):
    first, second = finished_case(api, "JY14201000000011"), finished_case(api, "JY14201000000012")
    for case_no in (first, second):
        assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    upheld, overturned = sorted(api.get("/rectifications", "supervisor").get_json()["items"], key=lambda r: r["id"])
    for r in (upheld, overturned):
        complete(api, r["case_no"], "callback", "center_clerk", CALLBACK)
        complete(api, r["case_no"], "classify", "center_clerk",
                 {"classification": "malicious" if r is upheld else "mistaken",
                  "classification_reason": "评价内容与办件无关"})
        assert row(ctx, r["id"]).classification is None  # not final before the review
    # a clerk is not the reviewer
    tid = task_id(api, upheld["case_no"], "review")
    assert api.post(f"/tasks/{tid}/complete", "center_clerk", json={"data": {
        "review_result": "upheld", "review_opinion": "同意"}}).status_code == 403
    complete(api, upheld["case_no"], "review", "supervisor", {"review_result": "upheld", "review_opinion": "属恶意评价"})
    closed = row(ctx, upheld["id"])
    assert closed.state == "closed" and closed.classification == "malicious" and closed.rectified_at is None
    assert closed.called_back_at is not None

    complete(api, overturned["case_no"], "review", "supervisor",
             {"review_result": "overturned", "review_opinion": "评价人反映的问题属实"})
    moved = row(ctx, overturned["id"])
    assert moved.classification == "valid" and moved.state == "open"
    assert open_keys(api, overturned["case_no"]) == ["rectify"]


def test_the_department_may_appeal_a_valid_classification_to_the_supervisor(api, ctx):
    first, second = finished_case(api, "JY14201000000021"), finished_case(api, "JY14201000000022")
    for case_no in (first, second):
        assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    granted, refused = sorted(api.get("/rectifications", "supervisor").get_json()["items"], key=lambda r: r["id"])
    for r in (granted, refused):
        complete(api, r["case_no"], "callback", "center_clerk", CALLBACK)
        complete(api, r["case_no"], "classify", "center_clerk", VALID)
        complete(api, r["case_no"], "rectify", "market_approver",
                 {"rectify_result": "appeal", "rectification": "超时系申请人补正材料所致，非本部门原因"})
        assert open_keys(api, r["case_no"]) == ["appeal"]
    complete(api, granted["case_no"], "appeal", "supervisor", {"appeal_result": "upheld", "appeal_opinion": "申诉成立"})
    done = row(ctx, granted["id"])
    assert done.state == "closed" and done.classification == "mistaken" and done.rectified_at is None
    assert done.classification_reason.startswith("申诉成立")

    complete(api, refused["case_no"], "appeal", "supervisor",
             {"appeal_result": "rejected", "appeal_opinion": "超时发生在受理之后"})
    assert open_keys(api, refused["case_no"]) == ["rectify"] and row(ctx, refused["id"]).classification == "valid"
    # the centre returns a rectification that falls short; the department rectifies again
    complete(api, refused["case_no"], "rectify", "market_approver", RECTIFIED)
    complete(api, refused["case_no"], "feedback", "center_clerk",
             {"feedback_result": "returned", "feedback": "请补充整改措施的落实时间"})
    assert open_keys(api, refused["case_no"]) == ["rectify"] and row(ctx, refused["id"]).rectified_at is None
    complete(api, refused["case_no"], "rectify", "market_approver", RECTIFIED)
    complete(api, refused["case_no"], "feedback", "center_clerk", FEEDBACK)
    assert row(ctx, refused["id"]).rectified_at is not None


def test_who_may_see_and_act_and_bad_input(api):
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    rect = rectification_of(api, "supervisor")
    no = rect["case_no"]
    # the applicant can neither list nor classify; the rectification case is not in their list of cases
    assert api.get("/rectifications", "company").status_code == 403
    assert api.get(f"/rectifications/{rect['id']}", "company").status_code == 403
    tid = task_id(api, no, "callback")
    assert api.post(f"/tasks/{tid}/complete", "company", json={"data": CALLBACK}).status_code in (403, 404)
    # another department sees none of it; the rated department sees its own
    assert api.get("/rectifications", "housing_approver").get_json()["total"] == 0
    assert api.get("/rectifications", "market_clerk").get_json()["total"] == 1
    assert api.get("/rectifications/999999", "supervisor").status_code == 404
    assert api.get("/rectifications?state=half", "supervisor").status_code == 400
    assert api.get("/rectifications?classification=rude", "supervisor").status_code in (400, 422)
    assert api.get("/rectifications?classification=pending&state=open", "center_clerk").get_json()["total"] == 1
    # a classification out of the list, an empty reason: the form says which field
    complete(api, no, "callback", "center_clerk", CALLBACK)
    tid = task_id(api, no, "classify")
    wrong = api.post(f"/tasks/{tid}/complete", "center_clerk", json={"data": {"classification": "rude"}})
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.get_json()["errors"]} >= {"classification", "classification_reason"}
    assert api.get("/rectifications?state=open", "center_clerk").get_json()["items"][0]["stage"] == "classification"


def test_an_anonymous_bad_rating_of_a_consultation_is_kept_with_a_rectification_not_started(api):
    api.put("/windows/W09", "admin", json={"name": "综合咨询窗口", "department": "market", "clerks": ["market_clerk"]})
    token = api.post("/visits", "market_clerk").get_json()["token"]
    bad = {"level": 2, "dimensions": {"efficiency": 2, "competence": 3, "attitude": 2}, "reasons": ["attitude"]}
    assert api.post(f"/visits/{token}/ratings", json=bad).status_code == 201
    [rect] = api.get("/rectifications", "supervisor").get_json()["items"]
    assert rect["case_no"] is None and rect["state"] == "open"  # nobody to call back, the rating is kept


def test_the_pages_refuse_applicants_and_name_unreadable_filters(app, api):
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    applicant = sign_in(app.test_client(), "company")
    assert applicant.get("/ratings/rectifications").status_code == 403
    page = applicant.get(f"/my/cases/{case_no}").get_data(as_text=True)
    assert "您的差评处理情况" in page and "我们将在 1 个工作日内回访您。" in page
    assert "HCP" not in applicant.get("/my/cases").get_data(as_text=True)  # not among their applications
    clerk = sign_in(app.test_client(), "center_clerk")
    listed = clerk.get("/ratings/rectifications")
    assert listed.status_code == 200 and "等了很久没人处理" in listed.get_data(as_text=True)
    odd = clerk.get("/ratings/rectifications?state=half&page=x")
    assert odd.status_code == 400 and "state" in odd.get_data(as_text=True)


def test_a_rater_who_already_followed_up_hears_the_feedback_without_an_invitation_to_rate_again(api):
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    assert api.post(f"/cases/{case_no}/ratings", "company", json={"level": 3, "dimensions": ONLINE}).status_code == 201
    no = rectification_of(api)["case_no"]
    for key, user, data in (("callback", "center_clerk", CALLBACK), ("classify", "center_clerk", VALID),
                            ("rectify", "market_approver", RECTIFIED), ("feedback", "center_clerk", FEEDBACK)):
        complete(api, no, key, user, data)
    [note] = [n for n in api.get("/notifications", "company").get_json()["items"] if "差评整改反馈" in n["title"]]
    assert FEEDBACK["feedback"] in note["body"] and "追加评价" not in note["body"] and note["link"] == "/notifications"
    assert api.get(f"/cases/{case_no}/ratings", "company").get_json()["can_rate"] is False


def test_rectification_cases_are_not_counted_as_services_in_the_statistics(api, app, clock):
    """差评整改 is the centre's own work, not a service to the public: the workload and the backlog count
    the rated case, not the rectification case opened for it."""
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company", json=BAD).status_code == 201
    assert rectification_of(api)["case_no"]
    clock.advance(timedelta(minutes=5))  # past the rollups' lag
    assert app.test_cli_runner().invoke(args=["statistics", "rebuild"]).exit_code == 0
    day = clock.now().date().isoformat()
    totals = api.get("/statistics/workload", "supervisor",
                     query_string={"from": "2026-11-01", "to": day}).get_json()["totals"]
    assert (totals["received"], totals["finished"]) == (1, 1)  # the rated case alone
    backlog = api.get("/statistics/backlog", "supervisor").get_json()
    assert sum(r.get("total", r.get("open", 0)) for r in backlog["rows"]) == 0, backlog
