"""Claiming, giving back, bulk claiming and a head's reassignment, through the inbox's forms."""

from __future__ import annotations

import pytest

from tests.e2e.flows import FOOD, FOOD_APPLY, JOINT, JOINT_APPLY, apply, case, task_id

from .staff_helpers import Browser, flashes, main_text

pytestmark = pytest.mark.usefixtures("demo")


def food(api):
    return apply(api, FOOD, FOOD_APPLY)["case_no"]


def holder(api, case_no, key="preview"):
    return next(t["assignee"] for t in case(api, case_no)["tasks"] if t["task_key"] == key)


def events(api, case_no, action):
    return [e for e in case(api, case_no)["history"] if e["action"] == action]


def test_claim_and_give_back(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    resp = clerk.post(f"/staff/tasks/{tid}/claim", {"next": "/staff/inbox?view=group"})
    assert resp.status_code == 302 and resp.location.endswith("/staff/inbox?view=group")
    assert holder(api, case_no) == "market_clerk"
    assert any(case_no in m and "已认领" in m for m in flashes(clerk.get("/staff/inbox")))
    # another clerk of the group cannot take it now, and is told why
    other = Browser(app, "market_clerk2")
    other.post(f"/staff/tasks/{tid}/claim")
    assert "已被他人认领" in " ".join(flashes(other.get("/staff/inbox")))
    assert holder(api, case_no) == "market_clerk"
    # nor give it back for them
    other.post(f"/staff/tasks/{tid}/unclaim")
    assert holder(api, case_no) == "market_clerk"
    clerk.post(f"/staff/tasks/{tid}/unclaim")
    assert holder(api, case_no) is None
    assert [e["action"] for e in case(api, case_no)["history"] if e["action"] in ("claimed", "unclaimed")] == [
        "claimed", "unclaimed"]


def test_a_stranger_cannot_claim(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    fire = Browser(app, "fire_approver")
    fire.post(f"/staff/tasks/{tid}/claim")
    assert holder(api, case_no) is None
    assert "不属于您的办理范围" in " ".join(flashes(fire.get("/staff/inbox")))


def test_bulk_claim_reports_each_conflict(app, api):
    cases = [food(api) for _ in range(3)]
    ids = [task_id(api, c, "preview") for c in cases]
    Browser(app, "market_clerk2").post(f"/staff/tasks/{ids[0]}/claim")
    clerk = Browser(app, "market_clerk")
    page = clerk.get("/staff/inbox?view=group")
    assert page.get_data(as_text=True).count('name="task_ids"') == 2  # the claimed one is no longer offered
    resp = clerk.post("/staff/inbox/claim", [("task_ids", ids[0]), ("task_ids", ids[1]), ("task_ids", ids[2]),
                                             ("task_ids", "no-such-task"), ("next", "/staff/inbox?view=group")])
    assert resp.status_code == 302
    messages = flashes(clerk.get("/staff/inbox"))
    assert any("已认领 2 件" in m and cases[1] in m and cases[2] in m for m in messages), messages
    assert any(cases[0] in m and "已被他人认领" in m for m in messages), messages
    assert any("no-such-task" in m and "任务已不存在" in m for m in messages), messages
    assert [holder(api, c) for c in cases] == ["market_clerk2", "market_clerk", "market_clerk"]


def test_bulk_claim_needs_a_choice(app, api):
    food(api)
    clerk = Browser(app, "market_clerk", lang="en")
    clerk.post("/staff/inbox/claim", {})
    assert "Choose the tasks to claim first." in flashes(clerk.get("/staff/inbox"))


def test_a_head_reassigns_within_the_department(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    Browser(app, "market_clerk").post(f"/staff/tasks/{tid}/claim")
    head = Browser(app, "market_head")
    page = head.get("/staff/inbox?view=department")
    assert f'name="assignee-{tid}"' in page.get_data(as_text=True)
    assert "赵磊 (SJ0102)" in main_text(page)  # market_clerk2: same department, in the task's group
    assert "李强" not in main_text(page)  # market_approver: same department, but not a candidate
    resp = head.post(f"/staff/tasks/{tid}/reassign", {f"assignee-{tid}": "market_clerk2"})
    assert resp.status_code == 302
    assert holder(api, case_no) == "market_clerk2"
    moved = events(api, case_no, "reassigned")
    assert len(moved) == 1 and moved[0]["actor"] == "market_head"
    assert moved[0]["data_before"] == {"assignee": "market_clerk"} and moved[0]["data_after"] == {
        "assignee": "market_clerk2"}
    assert any("赵磊" in m for m in flashes(head.get("/staff/inbox")))


@pytest.mark.parametrize("target", ["market_approver", "housing_clerk", "company", "nobody"])
def test_a_head_reassigns_only_to_eligible_colleagues(app, api, target):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    head = Browser(app, "market_head")
    head.post(f"/staff/tasks/{tid}/reassign", {f"assignee-{tid}": target})
    assert holder(api, case_no) is None
    assert any("只能改派给本部门中有权办理此任务的人员" in m for m in flashes(head.get("/staff/inbox")))
    assert events(api, case_no, "reassigned") == []


def test_a_head_cannot_reassign_another_departments_task(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    head = Browser(app, "housing_head")
    head.post(f"/staff/tasks/{tid}/reassign", {f"assignee-{tid}": "market_clerk2"})
    assert holder(api, case_no) is None
    assert any("只能改派本部门的任务" in m for m in flashes(head.get("/staff/inbox")))
    # nor the fire department's approval in a joint case handled by housing
    joint = apply(api, JOINT, JOINT_APPLY, user="builder")["case_no"]
    from tests.e2e.flows import ACCEPT, PASS, complete

    complete(api, joint, "preview", "housing_clerk", PASS)
    complete(api, joint, "acceptance", "housing_clerk", ACCEPT)
    fire_task = task_id(api, joint, "dept_approval", "fire")
    head.post(f"/staff/tasks/{fire_task}/reassign", {f"assignee-{fire_task}": "housing_approver"})
    assert holder(api, joint, "dept_approval") is None


def test_only_heads_may_reassign(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    assert clerk.post(f"/staff/tasks/{tid}/reassign", {f"assignee-{tid}": "market_clerk2"}).status_code == 403
    assert holder(api, case_no) is None
    assert "改派" not in main_text(clerk.get("/staff/inbox?view=group"))
    applicant = Browser(app, "company")
    assert applicant.post(f"/staff/tasks/{tid}/reassign", {"assignee": "market_clerk2"}).status_code == 403
    assert applicant.post(f"/staff/tasks/{tid}/claim").status_code == 403
    assert applicant.post("/staff/inbox/claim", {"task_ids": tid}).status_code == 403
    assert holder(api, case_no) is None


def test_forms_without_the_csrf_token_are_refused(app, api):
    case_no = food(api)
    tid = task_id(api, case_no, "preview")
    clerk = Browser(app, "market_clerk")
    resp = clerk.client.post(f"/staff/tasks/{tid}/claim", data={})
    assert resp.status_code == 400
    assert holder(api, case_no) is None
