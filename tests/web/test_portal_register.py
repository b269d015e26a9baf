"""Real-name registration: the checksums of GB 11643-1999 and GB 32100-2015, and the register page."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.errors import DuplicateName, Forbidden, InvalidInput
from app.models import User
from app.services.context import ServiceContext
from app.services.identity.auth import authenticate
from app.services.identity.identity import (
    Registration,
    find_or_create_walk_in,
    register_applicant,
    valid_credit_code,
    valid_mobile,
    valid_resident_id,
)

from .portal_helpers import EN, KNOWN_CREDIT, KNOWN_ID, credit_code, register, resident_id, text, token


def users(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(User)) or 0)


def test_known_valid_numbers() -> None:
    assert valid_resident_id(KNOWN_ID)
    assert valid_resident_id(KNOWN_ID.lower())  # a lower-case x is the same number
    assert valid_credit_code(KNOWN_CREDIT)


@pytest.mark.parametrize("number", [
    resident_id(), resident_id("110105", "20000229", "001"), resident_id("650102", "19451001", "999"),
])
def test_computed_resident_ids_are_valid_and_any_other_check_is_not(number: str) -> None:
    assert valid_resident_id(number, today=date(2026, 11, 23))
    for other in "0123456789X":
        if other != number[-1]:
            assert not valid_resident_id(number[:-1] + other)


@pytest.mark.parametrize("number", [
    "11010519491231002",  # 17 characters
    "1101051949123100211",  # 19
    "01010519491231002X",  # region cannot start with 0
    "110105194902300028",  # 30 February
    "11010518991231002X",  # before 1900
    "11010519491231002A",  # check character not 0-9 or X
])
def test_malformed_resident_ids(number: str) -> None:
    assert not valid_resident_id(number)


def test_a_birth_date_in_the_future_is_refused() -> None:
    future = resident_id("420102", "20270101", "001")
    assert valid_resident_id(future, today=date(2027, 1, 1))
    assert not valid_resident_id(future, today=date(2026, 12, 31))


@pytest.mark.parametrize("first17", ["91420100MA4K7ABC1", "12100000400000624", "93420106MA4KXYW01"])
def test_computed_credit_codes_are_valid_and_any_other_check_is_not(first17: str) -> None:
    code = credit_code(first17)
    assert valid_credit_code(code)
    for other in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if other != code[-1]:
            assert not valid_credit_code(code[:-1] + other)


@pytest.mark.parametrize("code", [
    "91350100M000100Y4",  # 17 characters
    "91350100M000100I43",  # I is not in the alphabet
    "9135010OM000100Y43",  # region must be digits
    "91350100M000100Y44",  # wrong check
])
def test_malformed_credit_codes(code: str) -> None:
    assert not valid_credit_code(code)


def test_mobile_numbers() -> None:
    assert valid_mobile("13800138000") and valid_mobile("+86 139-1234-5678")
    assert not valid_mobile("12800138000") and not valid_mobile("1380013800") and not valid_mobile("")


def test_register_a_person_signs_in_and_lands_on_my_cases(app: Flask, ctx: ServiceContext) -> None:
    client = app.test_client()
    resp = register(client, "zhangsan", number=KNOWN_ID.lower(), phone="139 1234 5678")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/my/cases")
    page = client.get("/my/cases")
    assert page.status_code == 200 and "张三" in text(page) and "我的办件" in text(page)
    who = authenticate(ctx, "zhangsan", "secret-pass-1")
    assert who.role == "applicant"
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == "zhangsan"))
        assert user is not None
        assert (user.id_kind, user.id_number, user.phone, user.full_name) == ("person", KNOWN_ID, "13912345678", "张三")


def test_register_a_company(app: Flask, ctx: ServiceContext) -> None:
    client = app.test_client()
    resp = register(client, "jiangcheng", kind="company", number=KNOWN_CREDIT, name="江城餐饮有限公司",
                    headers=EN)
    assert resp.status_code == 302
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == "jiangcheng"))
        assert user is not None and (user.id_kind, user.id_number, user.full_name) == (
            "company", KNOWN_CREDIT, "江城餐饮有限公司")


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "身份证号码无效"), (EN, "not a valid resident ID number"),
])
def test_a_wrong_id_check_character_is_shown_next_to_the_field(app: Flask, ctx: ServiceContext,
                                                               headers: dict[str, str], message: str) -> None:
    before = users(ctx)
    bad = KNOWN_ID[:-1] + "1"
    resp = register(app.test_client(), "zhangsan", number=bad, headers=headers)
    assert resp.status_code == 422
    body = text(resp)
    field = body[body.index('id="id_number"'):]
    assert message in field[:field.index("</div>")]  # the message sits right under the input
    assert ("not a valid" in body) == bool(headers)  # only the page's language
    assert 'aria-invalid="true"' in field[:200]
    assert f'value="{bad}"' in body  # what was typed stays
    assert users(ctx) == before


def test_a_wrong_credit_code_and_phone_are_both_reported(app: Flask, ctx: ServiceContext) -> None:
    before = users(ctx)
    resp = register(app.test_client(), "firm", kind="company", number="91350100M000100Y44", phone="12345")
    body = text(resp)
    assert resp.status_code == 422
    assert "统一社会信用代码无效" in body and "手机号码无效" in body and "not a valid" not in body
    assert 'id="credit_code-error"' in body and 'id="phone-error"' in body
    assert users(ctx) == before


def test_duplicates_are_refused_by_name_and_by_number(app: Flask, ctx: ServiceContext) -> None:
    assert register(app.test_client(), "first", number=KNOWN_ID).status_code == 302
    before = users(ctx)
    again = register(app.test_client(), "second", number=KNOWN_ID)
    assert again.status_code == 422 and "该证件号码已注册" in text(again)
    taken = register(app.test_client(), "first", number=resident_id(), headers=EN)
    assert taken.status_code == 422 and "this user name is taken" in text(taken)
    assert users(ctx) == before


def test_register_page_in_both_languages(app: Flask) -> None:
    client = app.test_client()
    zh = text(client.get("/register"))
    assert "<title>注册" in zh and "居民身份证号码" in zh and 'for="id_number"' in zh
    company = text(client.get("/register?kind=company"))
    assert "统一社会信用代码" in company and "联系人" in company and 'for="credit_code"' in company
    en = text(client.get("/register?kind=company", headers=EN))
    assert "Unified social credit code" in en and "Contact person" in en
    assert token(client, "/register")


def test_register_service_refuses_bad_input_with_field_details(ctx: ServiceContext) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_applicant(ctx, Registration(kind="person", username="x", password="short", name="",
                                             id_number="123", phone="1"))
    fields = {d["field"] for d in caught.value.details}
    assert fields == {"username", "password", "name", "id_number", "phone"}
    register_applicant(ctx, Registration(kind="person", username="lili", password="12345678", name="李",
                                         id_number=KNOWN_ID, phone="13800138000"))
    with pytest.raises(DuplicateName):
        register_applicant(ctx, Registration(kind="person", username="lili2", password="12345678", name="李",
                                             id_number=KNOWN_ID.lower(), phone="13800138000"))


def test_walk_in_accounts(demo: ServiceContext) -> None:
    clerk = authenticate(demo, "market_clerk", "demo1234")
    citizen = authenticate(demo, "citizen", "demo1234")
    with pytest.raises(Forbidden):
        find_or_create_walk_in(demo, citizen, kind="person", id_number=KNOWN_ID, name="王")
    with pytest.raises(InvalidInput):
        find_or_create_walk_in(demo, clerk, kind="person", id_number=KNOWN_ID)  # new, so a name is needed
    name = find_or_create_walk_in(demo, clerk, kind="person", id_number=KNOWN_ID.lower(), name="王五")
    again = find_or_create_walk_in(demo, clerk, kind="person", id_number=KNOWN_ID, phone="13700000000")
    assert name == again == f"w{KNOWN_ID.lower()}"
    with demo.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == name))
        assert user is not None and (user.full_name, user.phone, user.role) == ("王五", "13700000000", "applicant")
    from app.errors import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):  # nobody knows the password of a walk-in account
        authenticate(demo, name, "")
