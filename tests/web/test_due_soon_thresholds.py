"""The due-soon view (即将到期) follows the alarm thresholds of the clock behind each task, like the lights:
an item that warns at 50 % puts a task with 60 % of its time gone in the view, the default (80 %) does not,
and the view's count always equals its rows."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.e2e.flows import FOOD, food_to_review

from .staff_helpers import Browser, count, rows

pytestmark = pytest.mark.usefixtures("demo")
THURSDAY = datetime(2026, 11, 26, 2, tzinfo=UTC)  # 10:00 Beijing: review (5 working days from Monday) 60 % gone


def _warn_at_half(api) -> None:
    item = api.get(f"/items/{FOOD}", "admin").get_json()
    body = {k: item[k] for k in ("code", "name", "type_code", "department", "case_kind", "statutory_limit",
                                 "promised_limit", "limit_unit", "joint", "departments", "materials", "fees",
                                 "process_key", "form_key", "case_prefix")}
    assert api.put(f"/items/{FOOD}", "admin", json={**body, "yellow_ratio": 0.5}).status_code == 200


def _light(resp, case_no: str) -> str:
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{case_no}.*?</tr>", resp.get_data(as_text=True), re.S)
    assert row, f"{case_no} not listed"
    found = re.search(r'class="light light-(\w+)"', row.group(0))
    assert found
    return found.group(1)


def test_an_item_warning_at_half_puts_the_task_in_due_soon(app, api, clock):
    _warn_at_half(api)
    case_no = food_to_review(api)
    clock.set(THURSDAY)
    soon = Browser(app, "market_approver").get("/staff/inbox?view=due_soon")
    assert rows(soon) == [case_no] and count(soon, "due_soon") == 1
    assert _light(soon, case_no) == "yellow"


def test_with_the_default_thresholds_the_task_is_not_due_soon_yet(app, api, clock):
    case_no = food_to_review(api)
    clock.set(THURSDAY)
    approver = Browser(app, "market_approver")
    soon = approver.get("/staff/inbox?view=due_soon")
    assert rows(soon) == [] and count(soon, "due_soon") == 0
    assert _light(approver.get("/staff/inbox?view=group"), case_no) == "green"
