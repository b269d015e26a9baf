"""Each reference item end to end through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from .flows import (
    ACCEPT,
    APPROVE,
    CORRECT,
    DEPARTMENTS,
    FOOD,
    FOOD_APPLY,
    GRANT,
    INSTANT,
    INSTANT_APPLY,
    ISSUE,
    PASS,
    apply,
    approval,
    case,
    complete,
    correct,
    food_to_review,
    joint_to_approval,
    open_keys,
)

pytestmark = pytest.mark.usefixtures("demo")


def test_food_licence_happy_path(api, clock):
    started = apply(api, FOOD, FOOD_APPLY)
    case_no = started["case_no"]
    assert case_no.startswith("SPJY20261123") and len(case_no) == len("SPJY20261123") + 6
    assert started["status"] == "submitted" and started["stage"] == "preview"

    complete(api, case_no, "preview", "market_clerk", PASS)
    after_accept = complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    assert after_accept["status"] == "in_review"
    assert [t["task_key"] for t in after_accept["next_tasks"]] == ["review"]
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    assert case(api, case_no)["status"] == "decided"
    done = complete(api, case_no, "issue_licence", "center_clerk", ISSUE)

    assert done["status"] == "issued" and done["next_tasks"] == []
    final = case(api, case_no)
    assert final["tasks"] == []
    assert final["accepted_at"] and final["decided_at"] and final["closed_at"]
    assert final["process_key"] == "food_licence" and final["process_version"] == 1
    completed = [(e["task_key"], e["actor"]) for e in final["history"] if e["action"] == "completed"]
    assert completed == [("preview", "market_clerk"), ("acceptance", "market_clerk"),
                         ("review", "market_approver"), ("decision", "market_head"),
                         ("issue_licence", "center_clerk")]
    milestones = [e["data_after"]["status"] for e in final["history"] if e["action"] == "status"]
    assert "accepted" in milestones and "decided" in milestones and milestones[-1] == "issued"
    assert final["data"]["licence_no"] == ISSUE["licence_no"]
    # the applicant sees their case, its history with names and staff numbers, but not internal data
    mine = case(api, case_no, user="company")
    assert mine["status"] == "issued" and "data" not in mine
    assert {e["actor_staff_no"] for e in mine["history"] if e["action"] == "completed"} >= {"SJ0101"}


def test_correction_loop_twice_then_accepted(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    for round_no in (1, 2):
        after = complete(api, case_no, "preview", "market_clerk", CORRECT)
        assert after["status"] == "correction", round_no
        # the correction task is the applicant's own: it is offered to them, not to the clerks
        inbox = api.get("/tasks?view=group", "company").get_json()["items"]
        assert [t["task_key"] for t in inbox if t["case_no"] == case_no] == ["correction"]
        clerk = api.get("/tasks?view=all", "market_clerk").get_json()["items"]
        assert not [t for t in clerk if t["case_no"] == case_no]
        notice = case(api, case_no)["data"]["deficiencies"]
        assert notice == CORRECT["deficiencies"]
        back = correct(api, case_no)
        assert back["status"] == "submitted" and back["stage"] == "preview"
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    final = case(api, case_no)
    assert final["status"] == "in_review" and final["accepted_at"]
    assert open_keys(api, case_no) == ["review"]
    corrections = [e for e in final["history"] if e["action"] == "completed" and e["task_key"] == "correction"]
    assert len(corrections) == 2


@pytest.mark.parametrize("where", ["preview", "acceptance", "decision"])
def test_refusal(api, where):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    if where == "preview":
        done = complete(api, case_no, "preview", "market_clerk",
                        {"preview_result": "refuse", "refusal_reason": "不属于本机关职权范围"})
    else:
        complete(api, case_no, "preview", "market_clerk", PASS)
        if where == "acceptance":
            done = complete(api, case_no, "acceptance", "market_clerk",
                            {"accept_result": "refuse", "refusal_reason": "申请事项依法不需要取得行政许可"})
        else:
            complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
            complete(api, case_no, "review", "market_approver", APPROVE)
            done = complete(api, case_no, "decision", "market_head", {
                "decision": "refuse", "decision_reason": "经营场所不符合要求", "remedy_informed": True})
    assert done["status"] == "refused" and done["next_tasks"] == []
    final = case(api, case_no)
    assert final["closed_at"] and final["tasks"] == []
    assert (final["accepted_at"] is None) == (where != "decision")


@pytest.mark.parametrize("order", list(itertools.permutations(DEPARTMENTS))[:3])
def test_parallel_approval_in_any_order(api, order):
    case_no = joint_to_approval(api)
    open_tasks = case(api, case_no)["tasks"]
    assert sorted((t["task_key"], t["department"], tuple(t["candidate_groups"])) for t in open_tasks) == [
        ("dept_approval", d, (f"{d}.approver",)) for d in DEPARTMENTS]
    for i, dept in enumerate(order):
        result = complete(api, case_no, "dept_approval", f"{dept}_approver", approval(), department=dept)
        remaining = len(DEPARTMENTS) - i - 1
        assert len(result["next_tasks"]) == (remaining or 1)
    assert open_keys(api, case_no) == ["decision"]
    data = case(api, case_no)["data"]
    assert [a["department"] for a in data["approvals"]] == list(order)
    assert all(a["approved"] for a in data["approvals"])
    complete(api, case_no, "decision", "housing_head", GRANT)
    done = complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    assert done["status"] == "issued"


def test_one_department_refusing_changes_the_decision_path(api):
    case_no = joint_to_approval(api)
    complete(api, case_no, "dept_approval", "fire_approver", approval("reject"), department="fire")
    complete(api, case_no, "dept_approval", "health_approver", approval(), department="health")
    complete(api, case_no, "dept_approval", "planning_approver", approval(), department="planning")
    assert open_keys(api, case_no) == ["refusal_draft"]
    rejected = [a for a in case(api, case_no)["data"]["approvals"] if not a["approved"]]
    assert [a["department"] for a in rejected] == ["fire"]
    done = complete(api, case_no, "refusal_draft", "housing_approver",
                    {"refusal_reason": "消防审查不合格", "remedy_informed": True})
    assert done["status"] == "refused"


@pytest.mark.parametrize("outcome", ["grant", "refuse"])
def test_instant_item_on_the_spot(api, outcome):
    case_no = apply(api, INSTANT, INSTANT_APPLY)["case_no"]
    assert case_no.startswith("SPBB")
    data = ({"instant_result": "grant", "licence_no": "JY14201020260002"} if outcome == "grant"
            else {"instant_result": "refuse", "refusal_reason": "原许可证已注销"})
    done = complete(api, case_no, "handle_on_spot", "market_clerk", data)
    assert done["status"] == ("issued" if outcome == "grant" else "refused")
    assert case(api, case_no)["closed_at"]


def test_case_numbers_are_unique_and_sequential(api):
    numbers = [apply(api, FOOD, FOOD_APPLY)["case_no"] for _ in range(3)]
    assert [n[-6:] for n in numbers] == ["000001", "000002", "000003"]


def test_review_then_inbox_is_sorted_by_due_date(api):
    food_to_review(api)
    tasks = api.get("/tasks?view=group", "market_approver").get_json()
    assert tasks["total"] == 1 and tasks["items"][0]["task_key"] == "review"
    assert {"id", "case_no", "task_key", "name", "candidate_groups", "assignee", "created_at", "due_at"} <= set(
        tasks["items"][0])


def test_withdraw_before_acceptance_only(api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    assert api.post(f"/cases/{case_no}/withdraw", "citizen", json={}).status_code == 404  # not theirs
    assert api.post(f"/cases/{case_no}/withdraw", "market_clerk", json={}).status_code == 404
    resp = api.post(f"/cases/{case_no}/withdraw", "company", json={"reason": "不再经营"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    final = case(api, case_no)
    assert final["tasks"] == [] and final["closed_at"]
    assert [e["message"] for e in final["history"] if e["action"] == "withdrawn"] == ["不再经营"]
    assert api.get("/tasks?view=mine", "company").get_json()["total"] == 0
    assert api.post(f"/cases/{case_no}/withdraw", "company", json={}).status_code == 409

    accepted = food_to_review(api)
    assert api.post(f"/cases/{accepted}/withdraw", "company", json={}).status_code == 409
    assert case(api, accepted)["status"] == "in_review"


def test_a_window_application_can_be_corrected_at_the_window(api):
    """The applicant of a walk-in case may never sign in: the intake window's clerks may act for them."""
    case_no = apply(api, FOOD, FOOD_APPLY, "market_clerk", applicant="citizen")["case_no"]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    [offered] = [t for t in case(api, case_no)["tasks"] if t["task_key"] == "correction"]
    assert offered["candidate_users"] == ["citizen"] and offered["candidate_groups"] == ["market.clerk"]
    assert [t["case_no"] for t in api.get("/tasks?view=group", "market_clerk2").get_json()["items"]] == [case_no]
    back = correct(api, case_no, "market_clerk2")
    assert back["status"] == "submitted" and back["stage"] == "preview"
    assert api.get("/tasks?view=group", "fire_approver").get_json()["total"] == 0
