"""The statutory deadline (法定时限, 《行政许可法》 Art. 42) beside the promised one (承诺时限): in the clocks API,
on the staff case page and in the supervisor's overdue list, counted like the promised one (same start,
same suspended working days)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.clock import CHINA_TZ
from app.services.timelimits.clock_sweep import sweep_clocks
from tests.e2e.flows import food_to_review

from .staff_helpers import Browser, text

pytestmark = pytest.mark.usefixtures("demo")


def _decision(api, case_no: str) -> dict:
    resp = api.get(f"/cases/{case_no}/clocks", "market_approver")
    assert resp.status_code == 200, resp.get_json()
    [decision] = [c for c in resp.get_json()["clocks"] if c["kind"] == "decision"]
    return decision


def _day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(CHINA_TZ).date().isoformat()


def test_clocks_api_gives_both_deadlines_and_a_suspension_moves_both(api, clock):
    case_no = food_to_review(api)  # accepted Monday 2026-11-23: promised 10, statutory 20 working days
    decision = _decision(api, case_no)
    assert (_day(decision["deadline"]), _day(decision["statutory_deadline"])) == ("2026-12-07", "2026-12-21")
    notice = [c for c in api.get(f"/cases/{case_no}/clocks", "market_approver").get_json()["clocks"]
              if c["kind"] == "notice"]
    assert notice[0]["statutory_deadline"] is None  # a clock without a statutory limit

    clock.set(datetime(2026, 11, 25, 2, tzinfo=UTC))
    started = api.post(f"/cases/{case_no}/suspensions", "market_approver",
                       json={"procedure": "testing", "expected_days": 5, "reason": "样品送检"})
    clock.set(datetime(2026, 12, 2, 2, tzinfo=UTC))  # five working days later
    api.post(f"/cases/{case_no}/suspensions/{started.get_json()['id']}/end", "market_approver")
    decision = _decision(api, case_no)
    assert (_day(decision["deadline"]), _day(decision["statutory_deadline"])) == ("2026-12-14", "2026-12-28")


def test_staff_case_page_shows_the_statutory_deadline_under_the_promised_one(app, api):
    case_no = food_to_review(api)
    page = text(Browser(app, "market_approver").get(f"/staff/cases/{case_no}"))
    row = re.search(r'<tr class="clock-decision clock-running">(.*?)</tr>', page, re.S)
    assert row and "2026-12-07" in row.group(1) and "法定：2026-12-21" in row.group(1)


def test_overdue_list_has_a_statutory_deadline_column(app, api, ctx, clock):
    case_no = food_to_review(api)
    clock.advance(timedelta(days=16))  # past the promised 2026-12-07, within the statutory 2026-12-21
    sweep_clocks(ctx)
    page = text(Browser(app, "supervisor").get("/supervision/"))
    overdue = page[page.index('id="overdue"'):]
    assert "<th scope=\"col\">承诺办结期限</th><th scope=\"col\">法定办结期限</th>" in overdue
    row = re.search(rf'<tr class="level-red">.*?{case_no}.*?</tr>', overdue, re.S)
    assert row and re.search(r"<td>2026-12-07 23:59</td>\s*<td>2026-12-21 23:59</td>", row.group(0))
