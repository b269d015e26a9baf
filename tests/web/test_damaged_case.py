"""A case whose stored workflow state cannot be read still opens for staff (API, case page, task page),
showing what the database knows, instead of answering 500."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.models import Case
from tests.e2e.flows import FOOD, FOOD_APPLY, apply, task_id

from .staff_helpers import Browser, text

pytestmark = pytest.mark.usefixtures("demo")


def test_a_damaged_case_still_opens_for_staff(app, api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    tid = task_id(api, case_no, "preview")
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(Case).where(Case.case_no == case_no).values(engine_state="{damaged"))
        uow.commit()
    view = api.get(f"/cases/{case_no}", "market_clerk")
    assert view.status_code == 200 and view.get_json()["data"] == {}
    assert [t["task_key"] for t in view.get_json()["tasks"]] == ["preview"]
    clerk = Browser(app, "market_clerk")
    page = clerk.get(f"/staff/cases/{case_no}")
    assert page.status_code == 200 and case_no in text(page)
    assert clerk.get(f"/staff/tasks/{tid}").status_code == 200
