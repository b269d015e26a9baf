"""File downloads: the access check runs on every request (a file URL is not a capability), inline
only for PDF and images, with nosniff and a restrictive Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, CaseFile
from app.services.context import ServiceContext

from .portal_helpers import (
    FOOD,
    FOOD_FORM,
    food_files,
    new_applicant,
    pdf_bytes,
    png_bytes,
    post,
    resident_id,
    sign_in,
    text,
    upload,
)

PNG = png_bytes()


def fetch(client: object, url: str) -> Any:
    """GET a file and close the response (it streams the stored file)."""
    resp = client.get(url)  # type: ignore[attr-defined]
    resp.get_data()
    resp.close()
    return resp


def case_files(ctx: ServiceContext, case_no: str) -> dict[str, int]:
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        return {f.filename: f.id for f in s.scalars(select(CaseFile).where(CaseFile.case_id == case_id))}


@pytest.fixture
def setup(app: Flask, demo: ServiceContext) -> tuple[object, dict[str, int]]:
    owner = new_applicant(app.test_client(), "zhang")
    data = {**FOOD_FORM, **food_files(), "_action": "submit", "material-6": [upload(PNG, "委托书.png")]}
    resp = post(owner, f"/items/{FOOD}/apply", data, content_type="multipart/form-data")
    assert resp.status_code == 302, text(resp)
    return owner, case_files(demo, resp.headers["Location"].rsplit("/", 1)[1])


def test_the_owner_downloads_as_an_attachment(setup: tuple[object, dict[str, int]]) -> None:
    owner, files = setup
    resp = fetch(owner, f"/files/{files['m0.pdf']}")
    assert resp.status_code == 200 and resp.data == pdf_bytes("m0")
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]


def test_inline_pdf_and_image(setup: tuple[object, dict[str, int]]) -> None:
    owner, files = setup
    pdf = fetch(owner, f"/files/{files['m0.pdf']}?inline=1")
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in pdf.headers["Content-Security-Policy"]
    png = fetch(owner, f"/files/{files['委托书.png']}?inline=1")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data == PNG
    assert png.headers["Content-Disposition"].startswith("inline")
    assert png.headers["Content-Security-Policy"].startswith("sandbox")
    assert "filename*=UTF-8''%E5%A7%94%E6%89%98%E4%B9%A6.png" in png.headers["Content-Disposition"]


def test_another_applicant_gets_404(app: Flask, setup: tuple[object, dict[str, int]]) -> None:
    _owner, files = setup
    other = new_applicant(app.test_client(), "lisi", number=resident_id(seq="456"))
    for file_id in files.values():
        assert fetch(other, f"/files/{file_id}").status_code == 404
        assert fetch(other, f"/files/{file_id}?inline=1").status_code == 404
    assert fetch(sign_in(app.test_client(), "citizen"), f"/files/{files['m0.pdf']}").status_code == 404


@pytest.mark.parametrize(("user", "status"), [
    ("market_clerk", 200), ("market_approver", 200), ("supervisor", 200), ("admin", 200),
    ("housing_clerk", 404), ("fire_approver", 404), ("center_clerk", 404),
])
def test_staff_by_department(app: Flask, setup: tuple[object, dict[str, int]], user: str, status: int) -> None:
    _owner, files = setup
    assert fetch(sign_in(app.test_client(), user), f"/files/{files['m1.pdf']}").status_code == status


def test_anonymous_is_sent_to_sign_in_and_unknown_is_404(app: Flask, setup: tuple[object, dict[str, int]]) -> None:
    owner, files = setup
    resp = fetch(app.test_client(), f"/files/{files['m0.pdf']}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert owner.get("/files/999999").status_code == 404  # type: ignore[attr-defined]


def test_draft_files_are_the_drafters_alone(app: Flask, demo: ServiceContext) -> None:
    owner = new_applicant(app.test_client(), "zhang")
    post(owner, f"/items/{FOOD}/apply", {"_action": "save", "material-0": [upload(pdf_bytes("draft"), "d.pdf")]},
         content_type="multipart/form-data")
    with demo.uow() as uow:
        file_id = uow.session.scalar(select(CaseFile.id))
    assert fetch(owner, f"/files/{file_id}").status_code == 200
    assert fetch(new_applicant(app.test_client(), "lisi", number=resident_id(seq="456")),
                 f"/files/{file_id}").status_code == 404
    assert fetch(sign_in(app.test_client(), "market_clerk"), f"/files/{file_id}").status_code == 404
