"""Reusing a held licence instead of re-submitting a material (减材料, DB4201 Annex A 证照调取), through the
API: the company's food licence is issued on its granted case; the reissue item's new material names that
licence type, so `POST /cases` with `reuse` and no file for it is accepted and staff see where it came
from. Someone else's licence, a licence of another type, a revoked or an expired one is refused under the
material's part, and nothing is recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import Case, CaseFile, ReusedLicence
from tests.e2e.flows import (
    CORRECT,
    FOOD,
    FOOD_APPLY,
    INSTANT,
    INSTANT_APPLY,
    RESUBMIT,
    complete,
    pdf,
    post_files,
)
from tests.e2e.licence_flows import (
    FOOD_LICENCE,
    LICENCE,
    ORIGINAL,
    issue_food_licence,
    name_licence_types,
    reissue_needs_the_original,
)
from tests.web.signin import sign_in

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def licensed(api: Any) -> str:
    """The company holds a food licence; the reissue item asks for the original licence (index 4)."""
    issue_food_licence(api)
    reissue_needs_the_original(api)
    return LICENCE


def reissue(api: Any, user: str, reuse: dict[str, str], files: tuple[int, ...] = (0, 1, 2, 3)) -> Any:
    parts = {f"material-{i}": (f"m{i}.pdf", pdf(f"m{i}")) for i in files}
    return post_files(api, "/cases", user, {"item_code": INSTANT, "data": INSTANT_APPLY, "reuse": reuse}, parts)


def recorded(app: Flask) -> tuple[int, int, int]:
    """Cases, case files and reused licences on record."""
    with app.extensions["banjian"].uow() as uow:
        s = uow.session
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (Case, CaseFile, ReusedLicence))


def errors_of(resp: Any) -> dict[str, str]:
    assert resp.status_code == 422, resp.get_json()
    return {e.get("field", ""): e["message"] for e in resp.get_json()["errors"]}


def test_the_guide_says_which_material_a_licence_may_provide(app, api, licensed):
    guide = api.get(f"/items/{INSTANT}").get_json()
    assert guide["materials"][4]["licence_type"] == FOOD_LICENCE
    page = app.test_client().get(f"/items/{INSTANT}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "可调取电子证照" in page and FOOD_LICENCE in page


def test_a_held_licence_stands_for_a_required_material(app, api, licensed):
    resp = reissue(api, "company", {"4": licensed})
    assert resp.status_code == 201, resp.get_json()
    case_no = resp.get_json()["case_no"]

    staff = api.get(f"/cases/{case_no}", "market_clerk").get_json()
    by_name = {m["name"]: m for m in staff["materials"]}
    assert by_name[ORIGINAL]["source"] == "licence"
    assert by_name[ORIGINAL]["licence"]["number"] == licensed and by_name[ORIGINAL]["licence"]["version"] == 1
    assert by_name[ORIGINAL]["files"] == 0
    assert {m["source"] for n, m in by_name.items() if n != ORIGINAL} == {"upload"}

    page = sign_in(app.test_client(), "market_clerk").get(f"/staff/cases/{case_no}",
                                                         headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "来自证照库" in page and f'href="/verify/{licensed}"' in page

    mine = sign_in(app.test_client(), "company").get(f"/my/cases/{case_no}").get_data(as_text=True)
    assert ORIGINAL in mine and f'href="/verify/{licensed}"' in mine


def test_without_the_file_or_the_licence_the_material_is_missing(app, api, licensed):
    before = recorded(app)
    errors = errors_of(reissue(api, "company", {}))
    assert set(errors) == {"material-4"} and ORIGINAL in errors["material-4"]
    assert recorded(app) == before


def test_someone_elses_licence_is_refused_and_nothing_is_recorded(app, api, licensed):
    before = recorded(app)
    errors = errors_of(reissue(api, "citizen", {"4": licensed}))
    assert set(errors) == {"material-4"}
    assert ORIGINAL in errors["material-4"] and licensed in errors["material-4"]
    errors = errors_of(reissue(api, "company", {"4": "JY-NO-SUCH"}))
    assert "JY-NO-SUCH" in errors["material-4"]
    assert recorded(app) == before


def test_a_licence_of_another_type_or_for_a_material_without_one_is_refused(app, api, licensed):
    name_licence_types(api, INSTANT, {1: "营业执照"})
    before = recorded(app)
    errors = errors_of(reissue(api, "company", {"1": licensed, "4": licensed}, files=(0, 2, 3)))
    assert set(errors) == {"material-1"} and "营业执照" in errors["material-1"] and FOOD_LICENCE in errors["material-1"]
    errors = errors_of(reissue(api, "company", {"0": licensed, "4": licensed}))
    assert set(errors) == {"material-0"}
    errors = errors_of(reissue(api, "company", {"9": licensed, "4": licensed}))
    assert set(errors) == {"material-9"}
    bad = reissue(api, "company", {"first": licensed})
    assert bad.status_code == 400 and recorded(app) == before  # not a material index: the body is malformed


def test_a_revoked_licence_is_refused(app, api, licensed):
    revoked = api.post(f"/licences/{licensed}/revoke", "market_head", json={"reason": "违法经营"})
    assert revoked.status_code == 200, revoked.get_json()
    before = recorded(app)
    errors = errors_of(reissue(api, "company", {"4": licensed}))
    assert "撤销" in errors["material-4"] and "revoked" in errors["material-4"]
    assert recorded(app) == before


def test_an_expired_licence_is_refused(app, api, licensed, clock):
    valid_to = api.get(f"/licences/{licensed}", "company").get_json()["facts"]["valid_to"]
    clock.advance(timedelta(days=6 * 366))  # past the five years of validity
    errors = errors_of(reissue(api, "company", {"4": licensed}))
    assert "expired" in errors["material-4"] and valid_to in errors["material-4"]


def test_a_correction_may_be_answered_with_a_held_licence(app, api):
    issue_food_licence(api)
    name_licence_types(api, FOOD, {1: FOOD_LICENCE})  # stands in for the business licence here
    parts = {f"material-{i}": (f"m{i}.pdf", pdf(f"m{i}")) for i in range(6)}
    created = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, parts)
    case_no = created.get_json()["case_no"]
    notice = {**CORRECT, "deficiencies": [{"material": "营业执照或者其他主体资格证明文件", "requirement": "已过期"}]}
    complete(api, case_no, "preview", "market_clerk", notice)

    refused = post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT, "reuse": {"1": "JY-X"}}, {})
    assert set(errors_of(refused)) == {"material-1"}
    done = post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT, "reuse": {"1": LICENCE}}, {})
    assert done.status_code == 200, done.get_json()
    business = next(m for m in api.get(f"/cases/{case_no}", "market_clerk").get_json()["materials"]
                    if m["name"] == "营业执照或者其他主体资格证明文件")
    assert business["source"] == "licence" and business["licence"]["round"] == 1 and business["files"] == 0
