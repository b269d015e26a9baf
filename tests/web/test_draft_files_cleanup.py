"""Deleting a draft or removing a file from it removes the stored bytes from disk, unless another draft
or a case still refers to the same content (the store keeps one file per SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from app.services.context import ServiceContext

from .portal_helpers import (
    FOOD,
    FOOD_FORM,
    food_files,
    new_applicant,
    pdf_bytes,
    post,
    submit_food,
    text,
    upload,
)

MULTI = {"content_type": "multipart/form-data"}


def stored(ctx: ServiceContext, content: bytes) -> Path:
    sha = hashlib.sha256(content).hexdigest()
    return Path(ctx.upload_dir) / sha[:2] / sha


def save_draft(client: FlaskClient, content: bytes, name: str = "a.pdf") -> int:
    resp = post(client, f"/items/{FOOD}/apply", {**FOOD_FORM, "material-0": [upload(content, name)]}, **MULTI)
    assert resp.status_code == 302, text(resp)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def delete(client: FlaskClient, draft_id: int) -> None:
    resp = post(client, f"/my/drafts/{draft_id}/delete", {}, form_page=f"/my/drafts/{draft_id}")
    assert resp.status_code == 302


def test_deleting_a_draft_removes_bytes_nobody_else_refers_to(app: Flask, demo: ServiceContext) -> None:
    me = new_applicant(app.test_client(), "zhang")
    mine, shared = pdf_bytes("only in my draft"), pdf_bytes("in two drafts")
    first = save_draft(me, mine)
    post(me, f"/my/drafts/{first}", {**FOOD_FORM, "material-1": [upload(shared, "b.pdf")]}, **MULTI)
    second = save_draft(me, shared, "copy.pdf")
    assert stored(demo, mine).is_file() and stored(demo, shared).is_file()
    delete(me, first)
    assert not stored(demo, mine).exists()
    assert stored(demo, shared).is_file()  # the second draft still has it
    delete(me, second)
    assert not stored(demo, shared).exists()


def test_removing_a_file_from_a_draft_and_bytes_a_case_still_uses(app: Flask, demo: ServiceContext) -> None:
    me = new_applicant(app.test_client(), "zhang")
    submit_food(me)  # its six files, m0.pdf .. m5.pdf, now belong to a case
    on_case = pdf_bytes("m0")
    draft = save_draft(me, on_case, "again.pdf")
    page = text(me.get(f"/my/drafts/{draft}"))
    file_id = page.split('name="_remove_file" value="', 1)[1].split('"', 1)[0]
    post(me, f"/my/drafts/{draft}", {**FOOD_FORM, "_remove_file": file_id}, **MULTI)
    assert "again.pdf" not in text(me.get(f"/my/drafts/{draft}"))
    assert stored(demo, on_case).is_file()  # the case still refers to the same bytes
    replaced = pdf_bytes("first scan")
    post(me, f"/my/drafts/{draft}", {**FOOD_FORM, "material-2": [upload(replaced, "scan.pdf")]}, **MULTI)
    page = text(me.get(f"/my/drafts/{draft}"))
    file_id = page.split('name="_remove_file" value="', 1)[1].split('"', 1)[0]
    post(me, f"/my/drafts/{draft}", {**FOOD_FORM, "_remove_file": file_id, **food_files(pdf_bytes("new"))}, **MULTI)
    assert not stored(demo, replaced).exists()
