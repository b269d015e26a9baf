"""Upload limits on the applicant's pages: a quota on what one applicant keeps stored (drafts and open
cases together, UPLOAD_QUOTA_MB) and a cap on the files one draft carries (UPLOAD_FILES_PER_DRAFT).
A refused upload gets a message beside its material and changes nothing: no record, no stored bytes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.clock import ManualClock
from app.errors import InvalidForm
from app.models import CaseFile, User
from app.services import portal
from app.services.context import ServiceContext
from app.services.demo import load_demo
from app.services.documents.files import FileStore
from app.services.identity.principal import Principal
from app.services.portal import Upload
from tests.conftest import build_app, wipe
from tests.e2e.flows import CORRECT, complete

from .portal_helpers import EN, FOOD, FOOD_FORM, new_applicant, pdf_bytes, post, submit_food, text, upload

APPLY = f"/items/{FOOD}/apply"
MULTI = {"content_type": "multipart/form-data"}
KB = 1024


@pytest.fixture
def limited(db_url: str, clock: ManualClock) -> Iterator[Flask]:
    """The demo with a 0.5 MB quota and at most three files per draft."""
    app = build_app(db_url, clock, UPLOAD_QUOTA_MB=0.5, UPLOAD_FILES_PER_DRAFT=3)
    load_demo(app.extensions["banjian"])
    try:
        yield app
    finally:
        wipe(app)


def scan(label: str, size: int) -> bytes:
    """A PDF of `size` bytes (padding after %%EOF, as scanners leave)."""
    pdf = pdf_bytes(label)
    return pdf + b"\n" * (size - len(pdf))


def stored_files(app: Flask) -> set[str]:
    """Every file in the upload store, temporary ones included."""
    root = Path(app.config["UPLOAD_DIR"])
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def records(ctx: ServiceContext) -> list[tuple[str, int]]:
    with ctx.uow() as uow:
        return [(f.filename, f.size) for f in uow.session.scalars(select(CaseFile).order_by(CaseFile.id))]


def save(client: FlaskClient, path: str, files: dict[str, list[object]]) -> tuple[int, str]:
    resp = post(client, path, {**FOOD_FORM, **files}, headers=EN, **MULTI)
    return resp.status_code, text(resp)


def draft_path(client: FlaskClient) -> str:
    resp = post(client, APPLY, {**FOOD_FORM, "material-0": [upload(scan("first", 200 * KB), "first.pdf")]},
                headers=EN, **MULTI)
    assert resp.status_code == 302, text(resp)
    return resp.headers["Location"]


def test_an_upload_beyond_the_quota_is_refused_and_stores_nothing(limited: Flask) -> None:
    ctx: ServiceContext = limited.extensions["banjian"]
    me = new_applicant(limited.test_client(), "zhang")
    draft = draft_path(me)  # 200 KB of the 512 KB quota
    before_files, before_records = stored_files(limited), records(ctx)
    status, page = save(me, draft, {"material-1": [upload(scan("too much", 400 * KB), "big.pdf")]})
    assert status == 422
    assert "upload quota of 0.5 MB reached" in page and "big.pdf" in page
    assert stored_files(limited) == before_files and records(ctx) == before_records


def test_repeated_requests_never_take_an_applicant_past_the_quota(limited: Flask) -> None:
    """The issue's case: request after request of several large files."""
    ctx: ServiceContext = limited.extensions["banjian"]
    me = new_applicant(limited.test_client(), "zhang")
    draft = draft_path(me)
    for attempt in range(3):
        save(me, draft, {f"material-{i}": [upload(scan(f"{attempt}-{i}", 150 * KB), f"{attempt}-{i}.pdf")]
                         for i in range(1, 4)})
    assert sum(size for _name, size in records(ctx)) <= 512 * KB
    assert sum((Path(limited.config["UPLOAD_DIR"]) / name).stat().st_size for name in stored_files(limited)) \
        <= 512 * KB


def test_a_draft_carries_at_most_the_configured_number_of_files(limited: Flask) -> None:
    ctx: ServiceContext = limited.extensions["banjian"]
    me = new_applicant(limited.test_client(), "zhang")
    draft = draft_path(me)
    status, page = save(me, draft, {f"material-{i}": [upload(scan(f"m{i}", 10 * KB), f"m{i}.pdf")]
                                    for i in range(1, 4)})
    assert status == 422 and "at most 3 files per application" in page and "m3.pdf" in page
    assert [name for name, _size in records(ctx)] == ["first.pdf", "m1.pdf", "m2.pdf"]
    files = stored_files(limited)
    status, page = save(me, draft, {"material-4": [upload(scan("m4", 10 * KB), "m4.pdf")]})
    assert status == 422 and "at most 3 files per application" in page
    assert stored_files(limited) == files and len(records(ctx)) == 3


def test_a_deleted_draft_frees_its_share_of_the_quota(limited: Flask) -> None:
    me = new_applicant(limited.test_client(), "zhang")
    draft = draft_path(me)
    post(me, f"{draft}/delete", {}, form_page=draft)
    status, page = save(me, APPLY, {"material-0": [upload(scan("again", 400 * KB), "again.pdf")]})
    assert status == 302, page


def test_corrected_materials_count_against_the_quota_too(app: Flask, demo: ServiceContext, api: object) -> None:
    """Resubmission (补正) through the service with a store whose quota the case's files already fill."""
    me = new_applicant(app.test_client(), "zhang")
    case_no = submit_food(me)
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    with demo.uow() as uow:
        applicant = Principal.of(uow.session.scalar(select(User).where(User.username == "zhang")))
    used = sum(size for _name, size in records(demo))
    store = FileStore(demo.upload_dir, quota_bytes=used + 100 * KB)
    before_files, before_records = stored_files(app), records(demo)
    big = Upload("食品经营许可申请书", "signed.pdf", io.BytesIO(scan("signed", 200 * KB)))
    with pytest.raises(InvalidForm) as refused:
        portal.resubmit(demo, applicant, case_no, {"correction_note": "已签字", "correction_confirmed": True}, [big],
                        store)
    assert any("upload quota" in m for ms in refused.value.field_errors.values() for m in ms)
    assert stored_files(app) == before_files and records(demo) == before_records
