"""Applying online: the form with one upload per material, drafts (暂存) and resuming them, files
checked by content and size, submitting into a case, and who may touch whose draft."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import Case, CaseFile, Draft
from app.services.context import ServiceContext

from .portal_helpers import (
    EN,
    FOOD,
    FOOD_FORM,
    food_files,
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

APPLY = f"/items/{FOOD}/apply"
MULTI = {"content_type": "multipart/form-data"}


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def files_of_draft(ctx: ServiceContext, draft_id: int) -> list[tuple[int, str, str, str]]:
    """(id, file name, content type, material) of a draft's files."""
    with ctx.uow() as uow:
        return [(f.id, f.filename, f.content_type, f.material) for f in uow.session.scalars(
            select(CaseFile).where(CaseFile.draft_id == draft_id).order_by(CaseFile.id))]


def material_block(body: str, index: int) -> str:
    start = body.index(f'id="material-{index}-field"')
    return body[start:body.index("</div>", start)]


@pytest.fixture
def applicant(app: Flask, demo: ServiceContext) -> object:
    return new_applicant(app.test_client(), "zhang")


def test_apply_page_shows_the_form_and_one_upload_per_material(app: Flask, applicant: object) -> None:
    client = applicant
    body = text(client.get(APPLY))  # type: ignore[attr-defined]
    assert 'enctype="multipart/form-data"' in body
    assert 'for="f-business_name"' in body and "经营者名称" in body  # the form, from the shared renderer
    inputs = re.findall(r'<input type="file" id="material-(\d+)" name="material-\1" multiple accept="([^"]+)"', body)
    assert [i for i, _ in inputs] == [str(i) for i in range(7)]
    assert all(".pdf" in accept and ".png" in accept and ".jpg" in accept for _, accept in inputs)
    assert 'for="material-0"' in body and "食品经营许可申请书" in body
    assert ">暂存</button>" in body and ">提交申请</button>" in body
    en = text(client.get(APPLY, headers=EN))  # type: ignore[attr-defined]
    assert ">Save draft</button>" in en and ">Submit application</button>" in en and "Materials" in en


def test_save_draft_with_two_files_and_resume_it(app: Flask, ctx: ServiceContext, applicant: object) -> None:
    client = applicant
    data = {"business_name": "老街坊餐饮店", "premises_area": "85", "_action": "save",
            "material-0": [upload(pdf_bytes(), "申请书.pdf"), upload(png_bytes(), "签字页.png")]}
    resp = post(client, APPLY, data, **MULTI)  # type: ignore[arg-type]
    assert resp.status_code == 302
    draft_path = resp.headers["Location"]
    draft_id = int(draft_path.rsplit("/", 1)[1])
    page = client.get(draft_path)  # type: ignore[attr-defined]
    body = text(page)
    assert "申请已暂存为草稿" in body
    assert 'value="老街坊餐饮店"' in body and 'value="85"' in body
    block = material_block(body, 0)
    assert "申请书.pdf" in block and "签字页.png" in block
    stored = files_of_draft(ctx, draft_id)
    assert [f[1:] for f in stored] == [
        ("申请书.pdf", "application/pdf", "食品经营许可申请书"), ("签字页.png", "image/png", "食品经营许可申请书")]
    drafts = text(client.get("/my/drafts"))  # type: ignore[attr-defined]
    assert f'href="/my/drafts/{draft_id}"' in drafts and "食品经营许可" in drafts
    assert "删除日期" in drafts and "2026-12-23" in drafts  # unchanged for DRAFT_DAYS (30): deleted
    # come back later and finish it: the two files are still there, the other materials come now
    rest = {**FOOD_FORM, "_action": "submit", **{k: v for k, v in food_files().items() if k != "material-0"}}
    done = post(client, draft_path, rest, **MULTI)  # type: ignore[arg-type]
    assert done.status_code == 302 and "/my/cases/SPJY" in done.headers["Location"]
    case_no = done.headers["Location"].rsplit("/", 1)[1]
    with ctx.uow() as uow:
        s = uow.session
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        assert case is not None and case.application["business_name"] == FOOD_FORM["business_name"]
        files = list(s.scalars(select(CaseFile).where(CaseFile.case_id == case.id)))
        assert len(files) == 7 and all(f.draft_id is None for f in files)
        assert s.get(Draft, draft_id) is None
    assert client.get(draft_path).status_code == 404  # type: ignore[attr-defined]


def test_files_are_stored_outside_the_web_root_under_their_sha256(app: Flask, ctx: ServiceContext,
                                                                  applicant: object) -> None:
    content = pdf_bytes("hash me")
    post(applicant, APPLY, {"_action": "save", "material-1": [upload(content, "licence.pdf")]}, **MULTI)  # type: ignore[arg-type]
    digest = hashlib.sha256(content).hexdigest()
    with ctx.uow() as uow:
        row = uow.session.scalar(select(CaseFile).where(CaseFile.sha256 == digest))
        assert row is not None and row.size == len(content)
    path = ctx.upload_dir / digest[:2] / digest
    assert path.read_bytes() == content
    static = Path(app.static_folder or "").resolve()
    assert static not in path.resolve().parents
    assert not list(static.rglob(digest))


def test_submit_with_errors_keeps_the_uploads_on_the_draft(app: Flask, ctx: ServiceContext,
                                                          applicant: object) -> None:
    data = {**FOOD_FORM, "business_name": "", "_action": "submit",
            "material-0": [upload(pdf_bytes(), "申请书.pdf")]}
    resp = post(applicant, APPLY, data, **MULTI)  # type: ignore[arg-type]
    assert resp.status_code == 422
    body = text(resp)
    field = body[body.index('id="f-business_name"'):]
    assert "必填" in field[:field.index("</div>")] or "required" in field[:field.index("</div>")]
    assert "请上传此材料" in material_block(body, 1)
    assert "请上传此材料" not in material_block(body, 0) and "申请书.pdf" in material_block(body, 0)
    assert "请上传此材料" not in material_block(body, 6)  # optional material
    assert "申请未提交" in body
    action = re.search(r'<form method="post" enctype="multipart/form-data" novalidate class="stack apply-form"\s+'
                       r'action="(/my/drafts/\d+)"', body)
    assert action, "a failed submit continues on the saved draft"
    assert count(ctx, Case) == 0 and count(ctx, Draft) == 1
    assert len(files_of_draft(ctx, int(action.group(1).rsplit("/", 1)[1]))) == 1


@pytest.mark.parametrize(("headers", "message"), [({}, "只接受 PDF、PNG、JPEG 文件"), (EN, "only PDF, PNG and JPEG")])
def test_a_pdf_name_with_text_inside_is_refused_by_content(app: Flask, ctx: ServiceContext, applicant: object,
                                                          headers: dict[str, str], message: str) -> None:
    data = {"_action": "save", "material-0": [upload(b"just text, not a PDF", "fake.pdf")]}
    resp = post(applicant, APPLY, data, headers=headers, **MULTI)  # type: ignore[arg-type]
    assert resp.status_code == 422
    block = material_block(text(resp), 0)
    assert message in block and "fake.pdf" in block
    assert count(ctx, CaseFile) == 0


def test_a_file_over_the_size_limit_is_refused(app: Flask, ctx: ServiceContext, applicant: object) -> None:
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024  # the store's limit, 1 MB
    big = pdf_bytes() + b"%" + b"0" * (1024 * 1024)
    data = {"_action": "submit", **FOOD_FORM, **food_files(), "material-2": [upload(big, "scan.pdf")]}
    resp = post(applicant, APPLY, data, **MULTI)  # type: ignore[arg-type]
    assert resp.status_code == 422
    body = text(resp)
    assert "文件不能超过 1 MB" in material_block(body, 2) and "每个不超过 1 MB" in body
    assert count(ctx, Case) == 0
    with ctx.uow() as uow:  # the good files were kept on the draft, the big one was not
        assert set(uow.session.scalars(select(CaseFile.filename))) == {f"m{i}.pdf" for i in (0, 1, 3, 4, 5)}
    assert not [p for p in ctx.upload_dir.rglob("*") if p.is_file() and p.stat().st_size > 1024 * 1024]


def test_submit_creates_a_case_in_my_cases_and_in_the_api(app: Flask, ctx: ServiceContext, applicant: object,
                                                         api: object) -> None:
    case_no = submit_food(applicant)  # type: ignore[arg-type]
    page = text(applicant.get(f"/my/cases/{case_no}"))  # type: ignore[attr-defined]
    assert "申请已提交，受理编号：" + case_no in page and "预审" in page and "已提交" in page
    listing = text(applicant.get("/my/cases"))  # type: ignore[attr-defined]
    assert f'href="/my/cases/{case_no}"' in listing and "2026-11-24" in listing  # preview is due in 1 working day
    api.token("zhang", "secret-pass-1")  # type: ignore[attr-defined]
    body = api.get(f"/cases/{case_no}", "zhang").get_json()  # type: ignore[attr-defined]
    assert body["case_no"] == case_no and body["status"] == "submitted" and body["applicant"] == "zhang"
    assert [t["task_key"] for t in body["tasks"]] == ["preview"]


def test_remove_a_file_from_a_draft(app: Flask, ctx: ServiceContext, applicant: object) -> None:
    resp = post(applicant, APPLY, {"_action": "save", "material-0": [upload(pdf_bytes(), "wrong.pdf")]}, **MULTI)  # type: ignore[arg-type]
    draft_path = resp.headers["Location"]
    [(file_id, *_rest)] = files_of_draft(ctx, int(draft_path.rsplit("/", 1)[1]))
    again = post(applicant, draft_path, {"_remove_file": str(file_id)}, **MULTI)  # type: ignore[arg-type]
    assert again.status_code == 200 and "wrong.pdf" not in text(again)
    assert count(ctx, CaseFile) == 0


def test_delete_a_draft(app: Flask, ctx: ServiceContext, applicant: object) -> None:
    draft_path = post(applicant, APPLY, {"_action": "save", "business_name": "x"}, **MULTI).headers["Location"]  # type: ignore[arg-type]
    resp = post(applicant, f"{draft_path}/delete", {}, form_page=draft_path)  # type: ignore[arg-type]
    assert resp.status_code == 302 and count(ctx, Draft) == 0


def test_another_applicant_cannot_see_or_change_my_draft(app: Flask, ctx: ServiceContext, applicant: object) -> None:
    draft_path = post(applicant, APPLY, {"_action": "save", "business_name": "mine",  # type: ignore[arg-type]
                                         "material-0": [upload(pdf_bytes(), "mine.pdf")]}, **MULTI).headers["Location"]
    other = new_applicant(app.test_client(), "lisi", number=resident_id(seq="456"))
    assert other.get(draft_path).status_code == 404
    assert "mine" not in text(other.get("/my/drafts"))
    token_page = APPLY  # the other user's own form gives a valid token
    resp = post(other, draft_path, {"business_name": "changed", "_action": "save"}, form_page=token_page, **MULTI)
    assert resp.status_code == 404
    assert post(other, f"{draft_path}/delete", {}, form_page=token_page).status_code == 404
    submit = post(other, draft_path, {**FOOD_FORM, "_action": "submit"}, form_page=token_page, **MULTI)
    assert submit.status_code == 404
    with ctx.uow() as uow:
        draft = uow.session.scalar(select(Draft))
        assert draft is not None and draft.data["business_name"] == "mine"
    assert count(ctx, Case) == 0 and count(ctx, CaseFile) == 1


def test_staff_and_anonymous_cannot_apply(app: Flask, demo: ServiceContext) -> None:
    anonymous = app.test_client().get(APPLY)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    clerk = sign_in(app.test_client(), "market_clerk")
    assert clerk.get(APPLY).status_code == 403
    assert clerk.get("/my/cases").status_code == 403
