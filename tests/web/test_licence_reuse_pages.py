"""Reusing a held licence on the pages (减材料): the item editor names a material's licence type, the guide
says the material is available from the licence library, the application form offers the applicant's
own licence of that type instead of an upload and the case then shows where the material came from; a
licence revoked after the draft was saved is refused when the draft is submitted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.models import Case, ReusedLicence
from app.services.context import ServiceContext
from tests.conftest import Api
from tests.e2e.flows import CORRECT, FOOD, INSTANT, INSTANT_APPLY, complete
from tests.e2e.licence_flows import (
    FOOD_LICENCE,
    LICENCE,
    ORIGINAL,
    issue_food_licence,
    name_licence_types,
    reissue_needs_the_original,
)

from .portal_helpers import EN, ZH, pdf_bytes, post, sign_in, submit_food, text, upload

pytestmark = pytest.mark.usefixtures("demo")
APPLY = f"/items/{INSTANT}/apply"
MULTI = {"content_type": "multipart/form-data"}
RESUBMIT_FORM = {"correction_note": "已改用电子证照", "correction_confirmed": "true"}


@pytest.fixture
def licensed(app) -> str:
    api = Api(app.test_client())
    issue_food_licence(api)
    reissue_needs_the_original(api)
    return LICENCE


def form(**extra: Any) -> dict[str, Any]:
    files = {f"material-{i}": [upload(pdf_bytes(f"m{i}"), f"m{i}.pdf")] for i in range(4)}
    return {**INSTANT_APPLY, **files, **extra}


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_form_offers_the_applicants_own_licence_and_the_case_shows_it(app, ctx, licensed):
    valid_to = Api(app.test_client()).get(f"/licences/{licensed}", "company").get_json()["facts"]["valid_to"]
    client = sign_in(app.test_client(), "company")
    page = text(client.get(APPLY, headers=ZH))
    offer = f"使用证照库中的电子证照 {FOOD_LICENCE} {licensed}（有效期至 {valid_to}）"
    assert offer in page
    radio = re.search(rf'<input type="radio" id="(reuse-4-\d)" name="reuse-4" value="{licensed}">\s*'
                      rf'<label for="(reuse-4-\d)">{offer}</label>', page)
    assert radio and radio.group(1) == radio.group(2)  # the offer labels its own radio button
    assert "如何提供“原食品经营许可证”？" in page  # the choice's legend names the material

    resp = post(client, APPLY, form(**{"reuse-4": licensed, "_action": "submit"}), headers=ZH, **MULTI)
    assert resp.status_code == 302, text(resp)
    case_no = resp.headers["Location"].rsplit("/", 1)[1]
    mine = text(client.get(f"/my/cases/{case_no}", headers=ZH))
    assert "来自证照库" in mine and f'href="/verify/{licensed}"' in mine and ORIGINAL in mine

    staff = text(sign_in(app.test_client(), "market_clerk").get(f"/staff/cases/{case_no}", headers=EN))
    assert "From the licence library" in staff and f"{licensed} v1" in staff


def test_someone_else_sees_no_offer_and_cannot_post_one(app, ctx, licensed):
    client = sign_in(app.test_client(), "citizen")
    assert licensed not in text(client.get(APPLY, headers=ZH))
    cases = count(ctx, Case)
    resp = post(client, APPLY, form(**{"reuse-4": licensed, "_action": "submit"}), headers=EN, **MULTI)
    page = text(resp)
    assert resp.status_code == 422
    assert f"you hold no licence numbered {licensed}" in page
    assert count(ctx, Case) == cases and count(ctx, ReusedLicence) == 0


def test_a_licence_revoked_after_the_draft_was_saved_is_refused_on_submission(app, ctx, licensed):
    client = sign_in(app.test_client(), "company")
    saved = post(client, APPLY, form(**{"reuse-4": licensed, "_action": "save"}), headers=ZH, **MULTI)
    assert saved.status_code == 302, text(saved)
    draft = saved.headers["Location"]
    page = text(client.get(draft, headers=ZH))
    assert re.search(rf'name="reuse-4" value="{licensed}" checked', page)  # the choice was kept

    api = Api(app.test_client())
    assert api.post(f"/licences/{licensed}/revoke", "market_head", json={"reason": "违法经营"}).status_code == 200
    cases = count(ctx, Case)
    # The browser posts the radio button as it was left: checked on the licence.
    resp = post(client, draft, {**INSTANT_APPLY, "reuse-4": licensed, "_action": "submit"}, form_page=draft,
                headers=EN, **MULTI)
    assert resp.status_code == 422
    assert f"licence {licensed} was revoked" in text(resp)
    assert count(ctx, Case) == cases


def test_the_item_editor_names_the_licence_type_and_checks_its_length(app):
    client = sign_in(app.test_client(), "admin")
    page = text(client.get(f"/admin/items/{INSTANT}", headers=EN))
    assert 'name="m-0-licence_type"' in page and "Licence that may stand for it" in page
    rows = {"m-0-name": "食品经营许可证补办申请书", "m-0-required": "1", "m-0-licence_type": "证" * 201}
    item = Api(app.test_client()).get(f"/items/{INSTANT}", "admin").get_json()
    fields = {k: str(item[k] if item[k] is not None else "") for k in (
        "name", "type_code", "department", "case_kind", "statutory_limit", "promised_limit", "limit_unit", "fees",
        "process_key", "form_key", "case_prefix")}
    resp = post(client, f"/admin/items/{INSTANT}", {**fields, **rows}, form_page=f"/admin/items/{INSTANT}",
                headers=EN, **MULTI)
    assert resp.status_code == 400 and 'id="e-materials-0-licence_type"' in text(resp)
    resp = post(client, f"/admin/items/{INSTANT}", {**fields, **rows, "m-0-licence_type": FOOD_LICENCE},
                form_page=f"/admin/items/{INSTANT}", headers=EN, **MULTI)
    assert resp.status_code in (200, 302), text(resp)
    draft = text(client.get(f"/admin/items/{INSTANT}", headers=EN))
    assert f'value="{FOOD_LICENCE}"' in draft


def test_a_window_clerk_uses_the_walk_in_applicants_licence(app, ctx, licensed):
    clerk = sign_in(app.test_client(), "market_clerk")
    page = f"/staff/intake?item={INSTANT}"
    assert 'name="reuse-4"' in text(clerk.get(page, headers=EN))  # the licence number may be typed
    company = {"kind": "company", "id_number": "92420102MA4K12345D", "name": "江城味道餐饮管理有限公司",
               "contact_name": "李四", "phone": "13800138000"}
    citizen = {"kind": "person", "id_number": "420106198503121233", "name": "张市民", "phone": "13700000000"}
    cases = count(ctx, Case)
    refused = post(clerk, page, form(**citizen, **{"reuse-4": licensed}), headers=EN, **MULTI)
    assert refused.status_code == 422 and f"you hold no licence numbered {licensed}" in text(refused)
    assert count(ctx, Case) == cases
    done = post(clerk, page, form(**company, **{"reuse-4": licensed}), headers=EN, **MULTI)
    assert done.status_code == 200, text(done)
    assert count(ctx, Case) == cases + 1 and count(ctx, ReusedLicence) == 1


def test_a_correction_is_answered_with_a_held_licence_on_the_case_page(app, ctx, licensed):
    api = Api(app.test_client())
    name_licence_types(api, FOOD, {1: FOOD_LICENCE})  # stands in for the business licence here
    client = sign_in(app.test_client(), "company")
    case_no = submit_food(client)
    business = "营业执照或者其他主体资格证明文件"
    complete(api, case_no, "preview", "market_clerk",
             {**CORRECT, "deficiencies": [{"material": business, "requirement": "已过期，请提供有效证照"}]})
    page = text(client.get(f"/my/cases/{case_no}", headers=ZH))
    assert re.search(rf'name="reuse-1" value="{licensed}"', page)
    resubmit = f"/my/cases/{case_no}/resubmit"
    done = post(client, resubmit, {**RESUBMIT_FORM, "reuse-1": licensed}, form_page=f"/my/cases/{case_no}",
                headers=ZH, **MULTI)
    assert done.status_code == 302, text(done)
    after = text(client.get(f"/my/cases/{case_no}", headers=ZH))
    assert "来自证照库" in after and f'href="/verify/{licensed}"' in after
