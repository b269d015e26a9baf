"""The end of a case and the applicant's loop (issue 10), as the people of a service centre live it, in a
real browser with one context per person:

建筑工程施工许可证核发（并联审批） is granted by three departments and the head; the service centre issues it
by mail without typing a number (the item's pattern numbers it) and the clerk records the tracking number on
the staff case page. The builder reads the decision and the mailing in the app, sees the tracking number on
the case page and downloads the e-licence PDF. The QR code decoded from that PDF opens the verification page
without signing in: valid. The record altered in the database: tampered. A second application reuses the
licence instead of a file. The issuing head revokes the licence in the licence library: the QR's page says
revoked, with the reason. The scheduler's archive job builds the case's package once; the archivist opens
it, checks it (intact), and after one byte of the file changes on disk the check names what changed.
Every milestone message went exactly once per channel: in the app, by SMS and by e-mail (to a local SMTP
server), even with the outbox run twice.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.clock import SystemClock
from app.models import ArchivePackage, Case, Licence, Notification, OutboxMessage, User
from app.services.archive.builder import run_archive
from app.services.messaging.outbox import OutgoingMessage, dispatch_outbox, make_sender
from tests.conftest import build_app, wipe
from tests.e2e.flows import ACCEPT, GRANT, JOINT, JOINT_APPLY, PASS, approval
from tests.e2e.flows import pdf as pdf_bytes
from tests.e2e.licence_flows import ITEM_FIELDS
from tests.smtp import SmtpServer

from .conftest import assert_accessible, serving, sign_in
from .flow_helpers import TIMEOUT, api, api_complete, field, open_task, required_materials, snap

zxingcpp = pytest.importorskip("zxingcpp")

TRACKING = "EA123456789CN"
REASON = "以欺骗手段取得施工许可"
PERMIT = "建筑工程施工许可证"  # the joint item's licence type (demo settings)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The demo app on a file SQLite database with its own keys and uploads, served on 127.0.0.1; the app
    too, so the test can act as the scheduler and as someone who edits the database behind its back."""
    from app.services.demo import load_demo

    root = tmp_path_factory.mktemp("issue10")
    app = build_app(f"sqlite:///{root / 'db.sqlite3'}", SystemClock(),  # type: ignore[arg-type]
                    KEYS_DIR=root / "keys", UPLOAD_DIR=root / "uploads")
    load_demo(app.extensions["banjian"])
    try:
        with serving(app) as base:
            yield base, app
    finally:
        wipe(app)


class Gateways:
    """The outbox's senders: SMS recorded as an SMS gateway would receive it; e-mail through real SMTP."""

    def __init__(self, smtp_port: int) -> None:
        self.sms: list[OutgoingMessage] = []
        self.email = make_sender("logging", {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port,
                                             "SMTP_TLS": "off", "SMTP_FROM": "banjian@example.cn"})

    def send(self, message: OutgoingMessage) -> None:
        if message.channel == "sms":
            self.sms.append(message)
        else:
            self.email.send(message)


def _qr_target(pdf: bytes) -> str:
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    # Only QR codes: a seal image can happen to decode as a 1D barcode.
    found = [r.text for img in images for r in zxingcpp.read_barcodes(img.image)
             if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, found
    return found[0]


def _granted_and_issued_by_mail(base: str) -> str:
    """Application (with its materials as files), preview, acceptance, three approvals, grant, issuance by
    mail with the number and the tracking number left blank: set up through the API."""
    case_no = str(api(base, "POST", "/cases", "builder", {"item_code": JOINT, "data": JOINT_APPLY})["case_no"])
    api_complete(base, case_no, "preview", "housing_clerk", PASS)
    api_complete(base, case_no, "acceptance", "housing_clerk", ACCEPT)
    for dept in ("fire", "health", "planning"):
        tasks = [t for t in api(base, "GET", f"/cases/{case_no}", "admin")["tasks"]
                 if t["task_key"] == "dept_approval" and t.get("department") == dept]
        assert len(tasks) == 1, tasks
        api(base, "POST", f"/tasks/{tasks[0]['id']}/complete", f"{dept}_approver", {"data": approval()})
    api_complete(base, case_no, "decision", "housing_head", GRANT)
    api_complete(base, case_no, "issue_licence", "center_clerk", {
        "licence_no": "", "issue_date": "2026-12-01", "delivery_method": "mail",
        "mail_address": "武汉市东湖新技术开发区高新大道999号 王工 13900139000"})
    return case_no


def _joint_item_asks_for_the_permit(base: str) -> int:
    """The administrator adds a required material that the library can provide; its index."""
    item = api(base, "GET", f"/items/{JOINT}", "admin")
    materials = [{k: m.get(k) for k in ("name", "required", "description", "template", "sample", "licence_type")}
                 for m in item["materials"]]
    materials.append({"name": "前期工程建筑工程施工许可证", "required": True, "description": "分期建设的项目提供前期许可证",
                      "licence_type": PERMIT})
    api(base, "PUT", f"/items/{JOINT}", "admin", {**{k: item[k] for k in ITEM_FIELDS}, "materials": materials})
    return len(materials) - 1


def _apply_reusing(base: str, body: dict[str, Any], skip: int) -> str:
    """POST /cases as the builder: a PDF for every required material except the reused one."""
    fields = MultiDict([("json", json.dumps(body))])
    for i in required_materials(base, JOINT):
        if i != skip:
            fields.add(f"material-{i}", FileStorage(io.BytesIO(pdf_bytes(f"m{i}")), filename=f"m{i}.pdf",
                                                    content_type="application/pdf"))
    boundary, encoded = encode_multipart(fields)
    token = api(base, "POST", "/auth/token", None, {"username": "builder", "password": "demo1234"})["token"]
    request = urllib.request.Request(f"{base}/api/v1/cases", method="POST", data=encoded, headers={
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own loopback server)
        return str(json.loads(response.read())["case_no"])


def _status(page: Any) -> str:
    return str(page.locator("[data-status]").first.get_attribute("data-status"))


def test_a_granted_joint_permit_reaches_the_applicant_is_verified_revoked_and_archived(served, browser, shots):
    base, app = served
    ctx = app.extensions["banjian"]
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(User).where(User.username == "builder").values(email="wanggong@example.cn"))
        uow.commit()
    case_no = _granted_and_issued_by_mail(base)
    with ctx.uow() as uow:
        number = uow.session.scalar(select(Licence.number).join(Case, Case.id == Licence.case_id)
                                    .where(Case.case_no == case_no))
    assert number, "the issuance step issued no licence"

    # The service centre's clerk records the tracking number on the staff case page.
    clerk = sign_in(browser, base, "center_clerk")
    clerk.goto(f"{base}/staff/cases/{case_no}")
    section = clerk.locator("section.licence-delivery")
    expect(section.get_by_role("heading", name="证照与送达")).to_be_visible(timeout=TIMEOUT)
    field(section, "邮件单号").fill(TRACKING)
    section.get_by_role("button", name="保存邮件单号").click()
    expect(clerk.locator("section.licence-delivery .tracking-no")).to_have_text(TRACKING, timeout=TIMEOUT)
    snap(shots, clerk, "clerk-tracking-recorded")

    # The builder hears of the decision and the mailing in the app, and sees the number on the case page.
    builder = sign_in(browser, base, "builder")
    builder.goto(f"{base}/notifications")
    expect(builder.get_by_text(f"办件 {case_no} 准予许可")).to_have_count(1, timeout=TIMEOUT)
    expect(builder.get_by_text(TRACKING)).to_have_count(1)
    snap(shots, builder, "builder-notifications")
    builder.goto(f"{base}/my/cases/{case_no}")
    mine = builder.locator("section.licence-delivery")
    expect(mine.locator(".licence-no")).to_have_text(number, timeout=TIMEOUT)
    expect(mine.locator(".tracking-no")).to_have_text(TRACKING)
    assert_accessible(builder)
    with builder.expect_download(timeout=60_000) as info:
        mine.get_by_role("link", name="下载电子证照（PDF）").click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")

    # Anyone holding the paper scans the QR: no sign-in, the licence is valid.
    target = _qr_target(pdf)
    assert urlsplit(target).path == f"/verify/{number}"
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(target)
    assert _status(visitor) == "valid"
    expect(visitor.get_by_text("武汉光谷建设投资有限公司").first).to_be_visible()
    snap(shots, visitor, "verify-valid")

    # Someone edits the holder in the database: the same QR now says tampered.
    with ctx.db.engine.begin() as conn:
        conn.execute(update(Licence).where(Licence.number == number).values(holder_name="冒名公司"))
    visitor.reload()
    assert _status(visitor) == "tampered"
    snap(shots, visitor, "verify-tampered")
    with ctx.db.engine.begin() as conn:
        conn.execute(update(Licence).where(Licence.number == number).values(holder_name="武汉光谷建设投资有限公司"))
    visitor.reload()
    assert _status(visitor) == "valid"

    # Phase three of the project: the builder applies again and, instead of uploading the permit the item
    # now asks for, names the e-licence it holds; the window clerk sees where that material came from.
    index = _joint_item_asks_for_the_permit(base)
    second = _apply_reusing(base, {"item_code": JOINT, "data": {**JOINT_APPLY, "project_name": "光谷中心城安置房三期"},
                                   "reuse": {str(index): number}}, skip=index)
    housing = sign_in(browser, base, "housing_clerk")
    open_task(housing, base, second, "预审")
    reused = housing.locator(".from-library")
    expect(reused).to_contain_text(number, timeout=TIMEOUT)
    snap(shots, housing, "clerk-sees-reused-licence")

    # The issuing department's head revokes it in the licence library; the QR's page says so.
    head = sign_in(browser, base, "housing_head")
    head.goto(f"{base}/licences")
    head.get_by_label("持证主体").fill("91420100MA4K7ABC1D")
    head.get_by_role("button", name="搜索").click()
    head.get_by_role("link", name=number).click()
    expect(head.get_by_role("heading", level=1)).to_contain_text(number, timeout=TIMEOUT)
    head.get_by_label("撤销理由").fill(REASON)
    head.get_by_role("button", name="撤销", exact=True).click()
    expect(head.get_by_text("证照已撤销。")).to_be_visible(timeout=TIMEOUT)
    snap(shots, head, "head-revoked")
    visitor.reload()
    assert _status(visitor) == "revoked"
    expect(visitor.get_by_text(REASON)).to_be_visible()

    # The scheduler archives the closed case once (a second run finds nothing to do) ...
    first, second = run_archive(ctx), run_archive(ctx)
    assert (first.built, second.built) == (1, 0)
    with ctx.uow() as uow:
        packages = uow.session.scalars(select(ArchivePackage).join(Case, Case.id == ArchivePackage.case_id)
                                       .where(Case.case_no == case_no)).all()
        assert len(packages) == 1 and packages[0].sha256
        stored = Path(ctx.upload_dir / "archive").rglob(f"*{case_no}*.zip")
    package_file = next(iter(stored))
    with zipfile.ZipFile(package_file) as z:
        names = z.namelist()
    assert any(n.endswith(".pdf") and "licence" in n for n in names), names

    # ... and the archivist finds it, checks it, and sees which file a changed byte broke.
    archivist = sign_in(browser, base, "archivist")
    archivist.goto(f"{base}/archive/?case_no={case_no}")
    archivist.get_by_role("link", name=case_no).click()
    archivist.get_by_role("button", name="校验档案包").click()
    expect(archivist.locator("#check-ok")).to_be_visible(timeout=TIMEOUT)
    _flip_a_byte_of_the_first_material(package_file)
    archivist.get_by_role("button", name="校验档案包").click()
    expect(archivist.locator("#check-failed")).to_be_visible(timeout=TIMEOUT)
    expect(archivist.locator("li.changed").first).to_contain_text("materials/")
    snap(shots, archivist, "archive-check-failed")

    # Every message went once per channel, even with the outbox run twice.
    smtp = SmtpServer()
    gateways = Gateways(smtp.port)
    try:
        now = ctx.clock.now()
        dispatch_outbox(ctx, now, sender=gateways)
        dispatch_outbox(ctx, now, sender=gateways)
    finally:
        smtp.stop()
    with ctx.uow() as uow:
        s = uow.session
        case_id, applicant = s.execute(select(Case.id, Case.applicant_id).where(Case.case_no == case_no)).one()
        in_app = s.scalars(select(Notification.title).where(
            Notification.case_id == case_id, Notification.dedupe_key.like("milestone|%"))).all()
        rows = s.execute(select(OutboxMessage.channel, OutboxMessage.subject).where(
            OutboxMessage.user_id == applicant, OutboxMessage.dedupe_key.like(f"milestone|{case_id}|%"))).all()
    assert sorted(in_app) == sorted([f"办件 {case_no} 已收件", f"办件 {case_no} 已受理", f"办件 {case_no} 准予许可",
                                     f"办件 {case_no} 证照已寄出", f"请评价办件 {case_no}"])
    assert sorted(subject for channel, subject in rows if channel == "sms") == sorted(in_app)
    assert sorted(m.subject for m in gateways.sms if case_no in m.subject) == sorted(in_app)
    mailed = [email.message_from_string(data, policy=email.policy.default) for _, rcpt, data in smtp.messages
              if rcpt == ["wanggong@example.cn"]]
    assert sorted(str(m["Subject"]) for m in mailed if case_no in str(m["Subject"])) == sorted(in_app)
    sms_mailed = next(m for m in gateways.sms if m.subject == f"办件 {case_no} 证照已寄出")
    assert TRACKING in sms_mailed.body


def _flip_a_byte_of_the_first_material(package: Path) -> None:
    """Change one byte inside the first material's stored data (the zip stays readable)."""
    with zipfile.ZipFile(package) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("materials/"))
    data = bytearray(package.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0x01
    package.write_bytes(bytes(data))
