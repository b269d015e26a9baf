"""E-licences end to end (issue 10): a joint construction permit is granted and issued; its PDF downloads,
the QR code decoded from the PNG embedded in the PDF (extracted with pypdf, read with zxing-cpp) leads to
the verification page, which says valid; an altered record says tampered; a revoked licence says revoked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import update

from app.models import Licence

from ..conftest import build_app, wipe
from .flows import DEPARTMENTS, GRANT, ISSUE, approval, complete, joint_to_approval
from .licence_flows import verdict_of_pdf

pytestmark = pytest.mark.usefixtures("demo")
zxingcpp = pytest.importorskip("zxingcpp")


@pytest.fixture
def app(db_url: str, clock, tmp_path: Path) -> Iterator[Flask]:
    """The app with its signing keys in a folder of this test's own."""
    app = build_app(db_url, clock, KEYS_DIR=tmp_path / "keys")
    try:
        yield app
    finally:
        wipe(app)


def _granted(api) -> str:
    case_no = joint_to_approval(api)
    for dept in DEPARTMENTS:
        complete(api, case_no, "dept_approval", f"{dept}_approver", approval(), department=dept)
    complete(api, case_no, "decision", "housing_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    return case_no


def _qr_target(pdf: bytes) -> str:
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    found = [r.text for img in images for r in zxingcpp.read_barcodes(img.image)
             if r.format == zxingcpp.BarcodeFormat.QRCode]  # a seal image can decode as a 1D barcode
    assert len(found) == 1, found
    return found[0]


def _status(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'data-status="(\w+)"', page)
    assert match, page
    return match.group(1)


def test_granted_case_has_a_verifiable_e_licence(app, api, ctx):
    case_no = _granted(api)
    number = ISSUE["licence_no"]

    record = api.get(f"/licences/{number}", "builder")
    assert record.status_code == 200, record.get_json()
    body = record.get_json()
    assert body["case_no"] == case_no and body["state"] == "valid"
    assert body["facts"]["holder_name"] == "武汉光谷建设投资有限公司"
    assert body["facts"]["holder_id"] == "91420100MA4K7ABC1D"
    assert body["facts"]["valid_from"] == ISSUE["issue_date"]

    keys = api.get("/licence-keys").get_json()["keys"]
    assert [k["key_id"] for k in keys] == [body["facts"]["key_id"]]

    pdf = api.get(f"/licences/{number}/pdf", "builder")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    target = _qr_target(pdf.data)
    parts = urlsplit(target)
    assert parts.path == f"/verify/{number}" and parts.query == f"sig={body['short_signature']}"
    web = app.test_client()
    assert _status(web, f"{parts.path}?{parts.query}") == "valid"

    # the uploaded PDF checks against the record
    assert verdict_of_pdf(web, pdf.data) == "valid"
    # a wrong signature in the URL is tampering
    assert _status(web, f"/verify/{number}?sig=AAAAAAAAAAAAAAAA") == "tampered"

    with ctx.db.engine.begin() as conn:
        conn.execute(update(Licence).where(Licence.number == number).values(holder_name="冒名公司"))
    assert _status(web, f"{parts.path}?{parts.query}") == "tampered"
    assert verdict_of_pdf(web, pdf.data) == "tampered"


def test_revoked_licence_says_revoked(app, api):
    _granted(api)
    number = ISSUE["licence_no"]
    refused = api.post(f"/licences/{number}/revoke", "builder", json={"reason": "x"})
    assert refused.status_code in (403, 404)
    empty = api.post(f"/licences/{number}/revoke", "admin", json={"reason": ""})
    assert empty.status_code == 400 and api.get(f"/licences/{number}", "admin").get_json()["state"] == "valid"
    done = api.post(f"/licences/{number}/revoke", "admin", json={"reason": "以欺骗手段取得许可"})
    assert done.status_code == 200, done.get_json()
    page = app.test_client().get(f"/verify/{number}").get_data(as_text=True)
    assert 'data-status="revoked"' in page and "以欺骗手段取得许可" in page


def test_unknown_number_is_404_not_500(app):
    web = app.test_client()
    assert web.get("/verify/NOPE123").status_code == 404
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/verify").get_data(as_text=True))
    assert token
    assert web.post("/verify", data={"csrf_token": token.group(1), "number": ""}).status_code == 400
    garbage = web.post("/verify", data={"csrf_token": token.group(1), "file": (io.BytesIO(b"%PDF-1.4 junk"), "x.pdf")},
                       content_type="multipart/form-data")
    assert garbage.status_code == 400


def test_rotated_key_keeps_the_licence_valid_and_is_published(app, api, tmp_path):
    _granted(api)
    runner = app.test_cli_runner()
    again = runner.invoke(args=["licences", "keys", "generate", "housing"])
    assert again.exit_code != 0 and "rotate" in again.output  # the first licence made a key already
    rotated = runner.invoke(args=["licences", "keys", "rotate", "housing"])
    assert rotated.exit_code == 0, rotated.output
    keys = api.get("/licence-keys").get_json()["keys"]
    assert len(keys) == 2 and keys[0]["retired_at"] and keys[1]["retired_at"] is None
    assert (tmp_path / "keys" / f"{keys[1]['key_id']}.pem").stat().st_mode & 0o077 == 0
    assert _status(app.test_client(), f"/verify/{ISSUE['licence_no']}") == "valid"


def test_seal_upload_is_drawn_on_the_licence(app, api):
    from PIL import Image

    _granted(api)
    out = io.BytesIO()
    Image.new("RGBA", (120, 120), (200, 0, 0, 128)).save(out, format="PNG")
    headers = {"Content-Type": "image/png"}
    assert api.put("/departments/housing/seal", "builder", data=out.getvalue(), headers=headers).status_code == 403
    bad = api.put("/departments/housing/seal", "admin", data=b"GIF89a...", headers=dict(headers))
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "file"
    assert api.put("/departments/nope/seal", "admin", data=out.getvalue(), headers=dict(headers)).status_code == 404
    ok = api.put("/departments/housing/seal", "admin", data=out.getvalue(), headers=dict(headers))
    assert ok.status_code == 200, ok.get_json()
    pdf = api.get(f"/licences/{ISSUE['licence_no']}/pdf", "builder").data
    sizes = sorted(img.image.size for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images)
    assert (120, 120) in sizes and len(sizes) == 2  # the seal and the QR code



def test_holder_downloads_the_pdf_and_others_do_not(app, api):
    from ..web.signin import sign_in

    _granted(api)
    number = ISSUE["licence_no"]
    holder = sign_in(app.test_client(), "builder")
    resp = holder.get(f"/licences/{number}.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert resp.headers["Content-Type"] == "application/pdf"
    assert sign_in(app.test_client(), "company").get(f"/licences/{number}.pdf").status_code == 404
    assert app.test_client().get(f"/licences/{number}.pdf").status_code in (302, 401)
    assert api.get(f"/licences/{number}", "company").status_code == 404


def test_unknown_numbers_are_rate_limited_like_tracking(app, api):
    _granted(api)
    web = app.test_client()
    codes = [web.get(f"/verify/GUESS{i:04d}").status_code for i in range(11)]
    assert codes == [404] * 10 + [429]
    limited = web.get(f"/verify/{ISSUE['licence_no']}")
    assert limited.status_code == 429 and limited.headers["Retry-After"]


def test_past_its_validity_the_licence_is_expired(app, api, clock):
    from datetime import timedelta

    _granted(api)
    body = api.get(f"/licences/{ISSUE['licence_no']}", "admin").get_json()
    assert body["facts"]["valid_to"] == "2031-11-29"  # five years from 2026-11-30, the last day included
    clock.advance(timedelta(days=6 * 365))
    assert _status(app.test_client(), f"/verify/{ISSUE['licence_no']}") == "expired"


def test_a_department_key_is_generated_listed_and_published(app, api, tmp_path):
    """`flask licences keys generate` for a department without a key: a private key only its owner can
    read, listed by `keys list` and published at /licence-keys; an unknown department is one line, exit 1."""
    runner = app.test_cli_runner()
    made = runner.invoke(args=["licences", "keys", "generate", "market"])
    assert made.exit_code == 0, made.output
    [key] = api.get("/licence-keys").get_json()["keys"]
    assert key["key_id"] in made.output and key["retired_at"] is None
    assert (tmp_path / "keys" / f"{key['key_id']}.pem").stat().st_mode & 0o077 == 0
    listed = runner.invoke(args=["licences", "keys", "list"])
    assert listed.exit_code == 0 and key["key_id"] in listed.output and "market" in listed.output
    unknown = runner.invoke(args=["licences", "keys", "generate", "nowhere"])
    assert unknown.exit_code != 0 and len(unknown.output.strip().splitlines()) == 1
