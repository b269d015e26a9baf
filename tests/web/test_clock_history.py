"""What the time limits do shows in the case history and the inbox, in words a clerk reads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.services.timelimits.clock_sweep import sweep_clocks
from app.workdays import end_of_day
from tests.e2e.flows import FOOD, FOOD_APPLY, apply

from .staff_helpers import Browser, main_text

pytestmark = pytest.mark.usefixtures("demo")


def test_deemed_acceptance_is_in_the_history_and_the_preview_task_is_overdue(app, api, clock):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    clerk = Browser(app, "market_clerk")
    # The preview step's own limit is 1 working day; the notice clock's 5 bound the case.
    clock.set(end_of_day(date(2026, 11, 30)) + timedelta(seconds=1))
    assert sweep_clocks(app.extensions["banjian"]).deemed == [case_no]
    shown = main_text(clerk.get(f"/staff/cases/{case_no}"))
    assert "视为受理（五个工作日内未告知补正）" in shown
    inbox = main_text(clerk.get("/staff/inbox?view=overdue"))
    assert case_no in inbox and "超期" in inbox


def test_a_deadline_in_an_unpublished_year_is_marked_provisional(app, api, clock):
    from datetime import UTC, datetime

    from tests.e2e.flows import food_to_review

    clock.set(datetime(2026, 12, 21, 1, 0, tzinfo=UTC))  # 10 working days from here end in January 2027
    case_no = food_to_review(api)
    staff = main_text(Browser(app, "market_approver").get(f"/staff/cases/{case_no}"))
    assert "2027-01-05 暂定" in staff  # 2027-01-01 counted as the statutory New Year holiday
    assert "暂定" in main_text(Browser(app, "company").get(f"/my/cases/{case_no}"))


def test_inbox_light_follows_the_items_own_thresholds(app, api, clock):
    from tests.e2e.flows import food_to_review

    item = api.get(f"/items/{FOOD}", "admin").get_json()
    body = {k: item[k] for k in ("code", "name", "type_code", "department", "case_kind", "statutory_limit",
                                 "promised_limit", "limit_unit", "joint", "departments", "materials", "fees",
                                 "process_key", "form_key", "case_prefix")}
    assert api.put(f"/items/{FOOD}", "admin", json={**body, "yellow_ratio": 0.3}).status_code == 200
    case_no = food_to_review(api)
    approver = Browser(app, "market_approver")
    api.post(f"/tasks/{_review_id(api, case_no)}/claim", "market_approver")
    # The review step's own limit is 5 working days (deadline Monday 11-30); 30 % of it is 2 days.
    clock.set(end_of_day(date(2026, 11, 25)) + timedelta(seconds=1))  # no scheduler tick needed
    page = approver.get("/staff/inbox?view=mine").get_data(as_text=True)
    row = page[page.index(case_no):]
    row = row[:row.index("</tr>")]
    assert 'light-yellow' in row  # by the default 80 % it would still be green


def _review_id(api, case_no):
    return next(t["id"] for t in api.get(f"/cases/{case_no}", "admin").get_json()["tasks"] if t["task_key"] == "review")
