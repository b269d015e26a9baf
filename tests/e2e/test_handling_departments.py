"""The departments that handle an item (its lead department, then its co-approving ones) are one rule: the
same departments see the case, act on its clock and can be sent a supervision order."""

from __future__ import annotations

import pytest

from app.models import Department, Item

from .flows import JOINT, joint_to_approval

pytestmark = pytest.mark.usefixtures("demo")


def _suspend(api, case_no: str, user: str):
    return api.post(f"/cases/{case_no}/suspensions", user,
                    json={"procedure": "expert_review", "expected_days": 3, "reason": "专家评审"})


def _order(api, case_no: str, department: str):
    return api.post("/supervision-orders", "supervisor", json={"case_no": case_no, "department": department,
                                                               "reason": "请说明进度", "reply_by": "2026-12-31"})


def test_item_lists_its_lead_then_co_approving_departments_once():
    item = Item(department=Department(code="housing", name="住建局"),
                departments=["fire", "housing", "health", "fire"])
    assert item.handling_departments == ["housing", "fire", "health"]


@pytest.mark.parametrize("department", ["housing", "fire"])  # the lead and a co-approving one
def test_a_handling_department_sees_acts_and_is_supervised(api, department):
    case_no = joint_to_approval(api)
    clocks = api.get(f"/cases/{case_no}/clocks", f"{department}_approver")
    assert clocks.status_code == 200 and clocks.get_json()["may_act"] is True
    assert _order(api, case_no, department).status_code == 201
    assert _suspend(api, case_no, f"{department}_approver").status_code == 201


def test_another_department_neither_sees_nor_is_supervised(api):
    case_no = joint_to_approval(api)
    assert api.get(f"/items/{JOINT}", "admin").get_json()["departments"] == ["fire", "health", "planning"]
    assert api.get(f"/cases/{case_no}/clocks", "market_approver").status_code == 404
    refused = _order(api, case_no, "market")
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["message"] == \
        "one of the case's departments: housing, fire, health, planning"
