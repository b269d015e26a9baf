"""A download's file name carries the extension of the type its bytes showed: a PDF uploaded as
`x.html` is offered as `x.html.pdf`, never as a page a browser would open as HTML."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.models import CaseFile
from app.services.context import ServiceContext

from .portal_helpers import FOOD, FOOD_FORM, new_applicant, pdf_bytes, png_bytes, post, text, upload


def download_names(app: Flask, demo: ServiceContext, files: dict[str, bytes]) -> dict[str, str]:
    """Upload `files` (name: bytes) on a draft, then download each: uploaded name -> offered name."""
    me = new_applicant(app.test_client(), "zhang")
    data = {**FOOD_FORM, **{f"material-{i}": [upload(content, name)] for i, (name, content) in enumerate(files.items())}}
    resp = post(me, f"/items/{FOOD}/apply", data, content_type="multipart/form-data")
    assert resp.status_code == 302, text(resp)
    with demo.uow() as uow:
        ids = {f.filename: f.id for f in uow.session.scalars(select(CaseFile))}
    offered = {}
    for name, file_id in ids.items():
        resp = me.get(f"/files/{file_id}")
        resp.close()
        offered[name] = resp.headers["Content-Disposition"]
    return offered


def test_the_offered_name_ends_with_the_detected_type(app: Flask, demo: ServiceContext) -> None:
    offered = download_names(app, demo, {"x.html": pdf_bytes(), "photo": png_bytes(),
                                         "scan.PDF": pdf_bytes("scan"), "page.png.html": png_bytes(3, 3)})
    assert offered["x.html"] == "attachment; filename=x.html.pdf"
    assert offered["photo"] == "attachment; filename=photo.png"
    assert offered["scan.PDF"] == "attachment; filename=scan.PDF"
    assert offered["page.png.html"] == "attachment; filename=page.png.html.png"
