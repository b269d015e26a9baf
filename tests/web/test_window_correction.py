"""A walk-in applicant's correction step at the window: the clerk uploads the rescanned materials the
correction notice lists on the staff task page and completes the step; the files join the case as an
online resubmission's would."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, CaseFile, User
from app.services.context import ServiceContext
from tests.e2e.flows import CORRECT, complete, task_id

from .portal_helpers import FOOD, KNOWN_ID, pdf_bytes, post, sign_in, text, upload
from .test_intake_window import MULTI, PAGE, walk_in

pytestmark = pytest.mark.usefixtures("_intake_matches_first")
NOTE = {"correction_note": "已补充签字", "correction_confirmed": "true"}


@pytest.fixture
def walk_in_case(app: Flask, demo: ServiceContext, api: Any) -> str:
    clerk = sign_in(app.test_client(), "market_clerk")
    assert post(clerk, PAGE, walk_in(), form_page=PAGE, **MULTI).status_code == 200
    with demo.uow() as uow:
        case_no = str(uow.session.scalar(select(Case.case_no)))
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    return case_no


def files(ctx: ServiceContext, case_no: str) -> list[tuple[str, str, int, bool, str]]:
    with ctx.uow() as uow:
        s = uow.session
        rows = s.execute(select(CaseFile, User.username).join(Case, Case.id == CaseFile.case_id)
                         .join(User, User.id == CaseFile.uploaded_by_id).where(Case.case_no == case_no)
                         .order_by(CaseFile.id)).all()
        return [(f.material, f.filename, f.round, f.superseded_at is not None, who) for f, who in rows]


def status(ctx: ServiceContext, case_no: str) -> str:
    with ctx.uow() as uow:
        return str(uow.session.scalar(select(Case.status).where(Case.case_no == case_no)))


from .test_intake_window import _intake_matches_first  # noqa: E402,F401  (the fixture, by name)


def test_the_clerk_uploads_the_rescanned_materials_and_completes_the_step(
        app: Flask, demo: ServiceContext, api: Any, walk_in_case: str) -> None:
    case_no = walk_in_case
    tid = task_id(api, case_no, "correction")
    clerk = sign_in(app.test_client(), "market_clerk")
    page = text(clerk.get(f"/staff/tasks/{tid}"))
    assert 'enctype="multipart/form-data"' in page and "请补充法定代表人签字" in page
    assert 'name="material-0"' in page and 'name="material-1"' not in page  # only the listed material
    assert "逐项扫描上传" in page

    empty = post(clerk, f"/staff/tasks/{tid}", dict(NOTE), form_page=f"/staff/tasks/{tid}", **MULTI)
    assert empty.status_code == 422 and "请上传此材料" in text(empty)
    fake = post(clerk, f"/staff/tasks/{tid}", {**NOTE, "material-0": [upload(b"<html>", "scan.pdf")]},
                form_page=f"/staff/tasks/{tid}", **MULTI)
    assert fake.status_code == 422 and "只接受 PDF、PNG、JPEG 文件" in text(fake)
    assert status(demo, case_no) == "correction" and len(files(demo, case_no)) == 6

    done = post(clerk, f"/staff/tasks/{tid}", {**NOTE, "material-0": [upload(pdf_bytes("signed"), "申请书-签字.pdf")]},
                form_page=f"/staff/tasks/{tid}", **MULTI)
    assert done.status_code == 302, text(done)
    assert status(demo, case_no) == "submitted"  # back to preview, as after an online resubmission
    rows = files(demo, case_no)
    assert ("食品经营许可申请书", "申请书-签字.pdf", 1, False, "market_clerk") in rows
    assert [r[3] for r in rows if r[0] == "食品经营许可申请书" and r[2] == 0] == [True]  # the old scan: replaced
    staff_case = text(clerk.get(f"/staff/cases/{case_no}"))
    assert "申请书-签字.pdf" in staff_case and "已提交补正材料" in staff_case


def test_a_clerk_of_another_window_cannot_do_it(app: Flask, demo: ServiceContext, api: Any,
                                                walk_in_case: str) -> None:
    tid = task_id(api, walk_in_case, "correction")
    other = sign_in(app.test_client(), "housing_clerk")
    page = other.get(f"/staff/tasks/{tid}")
    assert page.status_code == 404
    resp = post(other, f"/staff/tasks/{tid}", {**NOTE, "material-0": [upload(pdf_bytes(), "x.pdf")]},
                form_page="/staff/inbox", **MULTI)
    assert resp.status_code == 404
    assert status(demo, walk_in_case) == "correction" and len(files(demo, walk_in_case)) == 6


def test_other_steps_have_no_upload(app: Flask, demo: ServiceContext, api: Any) -> None:
    clerk = sign_in(app.test_client(), "market_clerk")
    assert post(clerk, PAGE, walk_in(id_number=KNOWN_ID), form_page=PAGE, **MULTI).status_code == 200
    with demo.uow() as uow:
        case_no = str(uow.session.scalar(select(Case.case_no)))
    page = text(clerk.get(f"/staff/tasks/{task_id(api, case_no, 'preview')}"))
    assert 'name="material-0"' not in page and 'enctype="multipart/form-data"' not in page
    assert case_no in page and FOOD in page
