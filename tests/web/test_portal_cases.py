"""My cases: the list and the case page with notices, resubmission during correction, withdrawal before
acceptance, each refused to another applicant; and public tracking by number and phone or ID suffix."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, CaseFile, HumanTask
from app.services.context import ServiceContext
from tests.e2e.flows import ACCEPT, CORRECT, PASS, complete

from .portal_helpers import (
    EN,
    new_applicant,
    pdf_bytes,
    png_bytes,
    post,
    resident_id,
    sign_in,
    submit_food,
    text,
    upload,
)

MULTI = {"content_type": "multipart/form-data"}
ID = resident_id()


@pytest.fixture
def owner(app: Flask, demo: ServiceContext) -> object:
    return new_applicant(app.test_client(), "zhang", number=ID, phone="13912345678")


@pytest.fixture
def other(app: Flask, demo: ServiceContext) -> object:
    return new_applicant(app.test_client(), "lisi", number=resident_id(seq="456"), phone="13700000000")


def state(ctx: ServiceContext, case_no: str) -> tuple[str, list[str]]:
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        assert case is not None
        return case.status, sorted(s.scalars(select(HumanTask.task_key).where(HumanTask.case_id == case.id)))


def files(ctx: ServiceContext, case_no: str) -> list[tuple[str, str, int, bool]]:
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        return [(f.material, f.filename, f.round, f.superseded_at is not None)
                for f in s.scalars(select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.id))]


def test_my_cases_list_and_page_in_both_languages(app: Flask, owner: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    listing = text(owner.get("/my/cases"))  # type: ignore[attr-defined]
    row = listing[listing.index(f'href="/my/cases/{case_no}"'):]
    row = row[:row.index("</tr>")]
    assert "食品经营许可" in row and "已提交" in row and "预审" in row and "2026-11-24" in row
    assert re.search(r"<td>1</td>\s*$", row)  # one notice: the receipt
    page = text(owner.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    for expected in ("受理编号", case_no, "办理状态", "当前环节", "收件时间", "尚未受理", "收到的文书", "收件回执",
                     "已提交的材料", "m0.pdf", "撤回申请", "办理进度"):
        assert expected in page, expected
    en = text(owner.get(f"/my/cases/{case_no}", headers=EN))  # type: ignore[attr-defined]
    for expected in ("Case number", "Current step", "Notices received", "Submitted materials", "Withdraw this application"):
        assert expected in en, expected


def test_another_applicant_cannot_open_or_act_on_my_case(app: Flask, demo: ServiceContext, owner: object,
                                                        other: object, api: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    before = state(demo, case_no), files(demo, case_no)
    assert other.get(f"/my/cases/{case_no}").status_code == 404  # type: ignore[attr-defined]
    assert case_no not in text(other.get("/my/cases"))  # type: ignore[attr-defined]
    assert other.get(f"/my/cases/{case_no}/withdraw").status_code == 404  # type: ignore[attr-defined]
    assert post(other, f"/my/cases/{case_no}/withdraw", {}, form_page="/my/cases").status_code == 404  # type: ignore[arg-type]
    resubmit = post(other, f"/my/cases/{case_no}/resubmit",  # type: ignore[arg-type]
                    {"correction_note": "x", "correction_confirmed": "true",
                     "material-0": [upload(pdf_bytes(), "evil.pdf")]}, form_page="/my/cases", **MULTI)
    assert resubmit.status_code == 404
    assert (state(demo, case_no), files(demo, case_no)) == before
    assert sign_in(app.test_client(), "market_clerk").get(f"/my/cases/{case_no}").status_code == 403


def test_resubmission_during_correction(app: Flask, demo: ServiceContext, owner: object, api: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    assert state(demo, case_no) == ("correction", ["correction"])
    page = text(owner.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    notice = page[page.index('id="correction"'):]
    assert "需要补正" in notice and "食品经营许可申请书" in notice and "请补充法定代表人签字" in notice
    assert 'name="material-0"' in notice and 'name="material-1"' not in notice  # only the listed material
    assert 'for="f-correction_note"' in notice and "补正说明" in notice  # the correction form, rendered
    assert "补正告知书" in page  # the notice itself is listed among the notices received
    path = f"/my/cases/{case_no}/resubmit"
    empty = post(owner, path, {}, form_page=f"/my/cases/{case_no}", **MULTI)  # type: ignore[arg-type]
    assert empty.status_code == 422
    body = text(empty)
    assert "请上传此材料" in body and "补正材料未提交" in body
    assert state(demo, case_no) == ("correction", ["correction"])
    new = pdf_bytes("signed")
    done = post(owner, path, {"correction_note": "已补充签字", "correction_confirmed": "true",  # type: ignore[arg-type]
                              "material-0": [upload(new, "申请书-签字.pdf"), upload(png_bytes(), "签字页.png")]},
                form_page=f"/my/cases/{case_no}", **MULTI)
    assert done.status_code == 302
    assert state(demo, case_no) == ("submitted", ["preview"])
    rows = files(demo, case_no)
    assert ("食品经营许可申请书", "m0.pdf", 0, True) in rows
    assert ("食品经营许可申请书", "申请书-签字.pdf", 1, False) in rows
    assert ("食品经营许可申请书", "签字页.png", 1, False) in rows
    assert ("营业执照或者其他主体资格证明文件", "m1.pdf", 0, False) in rows
    after = text(owner.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    assert "补正材料已提交" in after and "已被替换" in after and "第 1 次补正" in after
    assert 'id="correction"' not in after
    # the clerk now sees the new files on the case (through the API's task view of the same case)
    data = api.get(f"/cases/{case_no}", "market_clerk").get_json()  # type: ignore[attr-defined]
    assert data["status"] == "submitted"


def test_resubmit_refused_when_not_in_correction(app: Flask, demo: ServiceContext, owner: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    resp = post(owner, f"/my/cases/{case_no}/resubmit",  # type: ignore[arg-type]
                {"material-0": [upload(pdf_bytes(), "x.pdf")]}, form_page=f"/my/cases/{case_no}", **MULTI)
    assert resp.status_code == 302
    assert len(files(demo, case_no)) == 6


@pytest.mark.parametrize("headers", [{}, EN])
def test_withdraw_before_acceptance(app: Flask, demo: ServiceContext, owner: object,
                                   headers: dict[str, str]) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    confirm = owner.get(f"/my/cases/{case_no}/withdraw", headers=headers)  # type: ignore[attr-defined]
    assert confirm.status_code == 200
    assert ("确定撤回" if not headers else "Yes, withdraw the application") in text(confirm)
    resp = post(owner, f"/my/cases/{case_no}/withdraw", {"reason": "信息填错，重新申请"}, headers=headers)  # type: ignore[arg-type]
    assert resp.status_code == 302
    assert state(demo, case_no) == ("withdrawn", [])
    page = text(owner.get(f"/my/cases/{case_no}", headers=headers))  # type: ignore[attr-defined]
    assert ("已撤回" if not headers else "Withdrawn") in page
    assert f"/my/cases/{case_no}/withdraw" not in page


def test_withdraw_refused_after_acceptance(app: Flask, demo: ServiceContext, owner: object, api: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    page = text(owner.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    assert f"/my/cases/{case_no}/withdraw" not in page
    resp = post(owner, f"/my/cases/{case_no}/withdraw", {}, form_page=f"/my/cases/{case_no}")  # type: ignore[arg-type]
    assert resp.status_code == 302
    assert "只有尚未受理的申请可以撤回" in text(owner.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    assert state(demo, case_no)[0] == "in_review"


def tracked(client: object, case_no: str, secret: str, headers: dict[str, str] | None = None) -> object:
    return post(client, "/track", {"case_no": case_no, "secret": secret}, headers=headers)  # type: ignore[arg-type]


def result_block(resp: object) -> str:
    body = text(resp)  # type: ignore[arg-type]
    return body[body.index('class="card track-result"'):body.index("</section>", body.index("track-result"))]


def test_tracking_with_phone_or_id_suffix_shows_only_the_listed_fields(app: Flask, demo: ServiceContext,
                                                                       owner: object, api: object) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    anonymous = app.test_client()
    by_phone = tracked(anonymous, case_no, "139-1234-5678")
    assert by_phone.status_code == 200  # type: ignore[attr-defined]
    block = result_block(by_phone)
    labels = re.findall(r"<dt>(.*?)</dt>", block)
    assert labels == ["受理编号", "事项名称", "受理时间", "办理部门", "办理人员（工号）", "办理状态", "办理结果"]
    for value in (case_no, "食品经营许可", "2026-11-23", "市场监督管理局", "王芳", "SJ0101", "办理中"):
        assert value in block, value
    for secret in ("张三", "13912345678", ID, "老街坊", "m0.pdf", "zhang"):  # nothing else about the applicant
        assert secret not in block
    by_suffix = tracked(anonymous, case_no, ID[-6:].lower(), headers=EN)
    block = result_block(by_suffix)
    assert "Handling department" in block and "In progress" in block and case_no in block


@pytest.mark.parametrize("secret", ["13900000000", "000000", "123", ""])
def test_tracking_mismatch_is_a_generic_not_found(app: Flask, demo: ServiceContext, owner: object,
                                                  secret: str) -> None:
    case_no = submit_food(owner)  # type: ignore[arg-type]
    resp = tracked(app.test_client(), case_no, secret)
    assert resp.status_code == 404  # type: ignore[attr-defined]
    body = text(resp)  # type: ignore[arg-type]
    assert "没有找到匹配的办件" in body and "track-result" not in body and "食品经营许可" not in body
    unknown = tracked(app.test_client(), "SPJY20991231000001", "13912345678")
    assert text(unknown) .count("没有找到匹配的办件") == 1  # type: ignore[arg-type]


def test_tracking_page_in_both_languages(app: Flask) -> None:
    client = app.test_client()
    zh = text(client.get("/track"))
    assert "<title>办件查询" in zh and 'for="case_no"' in zh and 'for="secret"' in zh
    en = text(client.get("/track", headers=EN))
    assert "last 6 characters" in en
