"""A company applicant's contact person (registration and window intake), shown to staff and in the
API; window intake fills an existing account's blanks and never overwrites what the applicant gave."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, User
from app.services.context import ServiceContext

from .portal_helpers import EN, KNOWN_CREDIT, KNOWN_ID, new_applicant, post, sign_in, text
from .test_intake_window import MULTI, PAGE, _intake_matches_first, count, walk_in  # noqa: F401

pytestmark = pytest.mark.usefixtures("_intake_matches_first")


def user(ctx: ServiceContext, number: str) -> tuple[str, str | None, str | None]:
    with ctx.uow() as uow:
        found = uow.session.scalar(select(User).where(User.id_number == number))
        assert found is not None
        return found.full_name, found.phone, found.contact_name


def only_case(ctx: ServiceContext) -> str:
    with ctx.uow() as uow:
        return str(uow.session.scalar(select(Case.case_no)))


def test_registration_stores_the_contact_person(app: Flask, demo: ServiceContext) -> None:
    new_applicant(app.test_client(), "firm", kind="company", number=KNOWN_CREDIT, name="江城公司")
    new_applicant(app.test_client(), "zhang", number=KNOWN_ID)
    assert user(demo, KNOWN_CREDIT) == ("江城公司", "13912345678", "王五")
    assert user(demo, KNOWN_ID)[2] is None  # a person is their own contact


def test_walk_in_company_contact_shown_to_staff_and_in_the_api(app: Flask, demo: ServiceContext, api: Any) -> None:
    clerk = sign_in(app.test_client(), "market_clerk")
    resp = post(clerk, PAGE, walk_in(kind="company", id_number=KNOWN_CREDIT, name="江城公司", contact_name="赵六"),
                form_page=PAGE, **MULTI)
    assert resp.status_code == 200, text(resp)
    assert user(demo, KNOWN_CREDIT)[2] == "赵六"
    case_no = only_case(demo)
    assert "江城公司 (联系人：赵六)" in text(clerk.get(f"/staff/cases/{case_no}"))
    assert "contact person: 赵六" in text(clerk.get(f"/staff/cases/{case_no}", headers=EN))
    assert api.get(f"/cases/{case_no}", "market_clerk").get_json()["applicant_contact_name"] == "赵六"


def test_intake_fills_only_blank_fields_of_an_existing_account(app: Flask, demo: ServiceContext) -> None:
    new_applicant(app.test_client(), "firm", kind="company", number=KNOWN_CREDIT, name="江城公司")
    clerk = sign_in(app.test_client(), "market_clerk")
    resp = post(clerk, PAGE, walk_in(kind="company", id_number=KNOWN_CREDIT, name="江城公司", phone="13700000000",
                                     contact_name="赵六"), form_page=PAGE, **MULTI)
    assert resp.status_code == 200, text(resp)
    assert user(demo, KNOWN_CREDIT) == ("江城公司", "13912345678", "王五")  # what the applicant gave stays


def test_intake_fills_a_walk_in_accounts_missing_phone(app: Flask, demo: ServiceContext) -> None:
    clerk = sign_in(app.test_client(), "market_clerk")
    assert post(clerk, PAGE, walk_in(phone=""), form_page=PAGE, **MULTI).status_code == 200
    assert user(demo, KNOWN_ID) == ("王五", None, None)
    assert post(clerk, PAGE, walk_in(name="", phone="13700000000"), form_page=PAGE, **MULTI).status_code == 200
    assert user(demo, KNOWN_ID) == ("王五", "13700000000", None)


@pytest.mark.parametrize(("headers", "message"), [({}, "该证件号码已登记在另一名称下"),
                                                  (EN, "this ID number is registered under another name")])
def test_another_name_for_a_registered_number_is_refused(app: Flask, demo: ServiceContext,
                                                         headers: dict[str, str], message: str) -> None:
    new_applicant(app.test_client(), "firm", kind="company", number=KNOWN_CREDIT, name="江城公司")
    users = count(demo, User)
    clerk = sign_in(app.test_client(), "market_clerk")
    form = {k: v for k, v in walk_in(kind="company", id_number=KNOWN_CREDIT, name="别家公司",
                                     phone="13700000000").items() if k != "business_name"}
    resp = post(clerk, PAGE, form, form_page=PAGE, headers=headers, **MULTI)
    assert resp.status_code == 422
    body = text(resp)
    field = body[body.index('id="name"'):]
    assert message in field[:field.index("</div>")]  # in the same answer as the form's errors, not after them
    assert 'aria-invalid="true"' in body[body.index('id="f-business_name"') - 400:body.index('id="f-business_name"') + 400]
    assert user(demo, KNOWN_CREDIT) == ("江城公司", "13912345678", "王五")
    assert count(demo, Case) == 0 and count(demo, User) == users
