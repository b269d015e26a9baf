"""Delivery of the licence (送达, issue 10) through the API: the applicant is told once that the licence is
ready and where, or that it was mailed with the tracking number; the window records who collected it, once,
and the pickup receipt prints it; bad input is refused with field messages and changes nothing."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.models import AuditEntry, Case, LicenceDelivery, Notice, Notification, OutboxMessage, User
from app.services.messaging.outbox import dispatch_outbox, make_sender

from ..conftest import Api, build_app, wipe
from ..web.signin import sign_in
from .flows import APPROVE, FOOD, GRANT, case, complete, food_to_review

pytestmark = pytest.mark.usefixtures("demo")

PLACE = "市民之家一楼统一出件窗口（12号）"
HOURS = "周一至周五 9:00—17:00"
COLLECTOR = {"collector_name": "李四", "collector_id_number": "420102198503121238", "relation": "本人"}


@pytest.fixture
def app(db_url: str, clock, tmp_path: Path) -> Iterator[Flask]:
    app = build_app(db_url, clock, KEYS_DIR=tmp_path / "keys", PICKUP_PLACE=PLACE, PICKUP_HOURS=HOURS)
    try:
        yield app
    finally:
        wipe(app)


@pytest.fixture
def numbered(demo, ctx):
    """The applicant has an e-mail address too. (The demo food item's licence settings number its licences
    when the clerk leaves the number blank: {item}{year}{seq}.)"""
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(User).where(User.username == "company").values(email="lisi@example.cn"))
        uow.commit()


def issue(api, **issuance) -> str:
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", {"licence_no": "", "issue_date": "2026-11-30", **issuance})
    return case_no


def messages(ctx, case_no, event):
    """(in-app bodies, [(channel, body)]) of one milestone event of the case."""
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        key = f"milestone|{case_id}|{event}|%"
        app_rows = s.scalars(select(Notification.body).where(Notification.dedupe_key.like(key))).all()
        out = s.execute(select(OutboxMessage.channel, OutboxMessage.body).where(OutboxMessage.dedupe_key.like(key))
                        .order_by(OutboxMessage.channel, OutboxMessage.id)).all()
        return list(app_rows), [tuple(r) for r in out]


def delivery_row(ctx, case_no) -> dict:
    with ctx.uow() as uow:
        row = uow.session.scalar(select(LicenceDelivery).join(Case, Case.id == LicenceDelivery.case_id)
                                 .where(Case.case_no == case_no))
        return {c.name: getattr(row, c.name) for c in LicenceDelivery.__table__.columns}


@pytest.mark.usefixtures("numbered")
def test_pickup_tells_the_applicant_once_and_records_the_collection(app, api, ctx, clock):
    case_no = issue(api, delivery_method="pickup")
    body = case(api, case_no, "company")
    number = body["licence"]["number"]
    assert re.fullmatch(r"[A-Z]{0,8}2026\d{6}", number) and body["licence"]["state"] == "valid"  # the item's rule
    assert body["licence"]["pdf_url"] == f"/licences/{number}.pdf"
    assert body["licence"]["verify_url"].startswith(f"/verify/{number}?sig=")
    assert body["delivery"]["method"] == "pickup" and body["delivery"]["status"] == "awaiting_pickup"
    assert body["delivery"]["pickup_place"] == PLACE and body["delivery"]["pickup_hours"] == HOURS

    in_app, outbox = messages(ctx, case_no, "licence_ready")
    assert len(in_app) == 1 and PLACE in in_app[0] and number in in_app[0] and HOURS in in_app[0]
    assert [c for c, _ in outbox] == ["email", "sms"]
    sender = make_sender("logging", {})
    dispatch_outbox(ctx, clock.now(), sender=sender)
    dispatch_outbox(ctx, clock.now(), sender=sender)
    assert messages(ctx, case_no, "licence_ready") == (in_app, outbox)  # the outbox ran twice: still one each
    with ctx.uow() as uow:
        states = uow.session.scalars(select(OutboxMessage.state).where(
            OutboxMessage.dedupe_key.like("milestone|%|licence_ready|%"))).all()
    assert sorted(states) == ["sent", "skipped"] or all(s in ("sent", "skipped") for s in states)

    # the applicant cannot record a collection; the window can, once
    assert api.post(f"/cases/{case_no}/delivery/collection", "company", json=COLLECTOR).status_code in (403, 404)
    done = api.post(f"/cases/{case_no}/delivery/collection", "center_clerk", json=COLLECTOR)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "collected" and done.get_json()["collector_relation"] == "self"
    again = api.post(f"/cases/{case_no}/delivery/collection", "market_clerk",
                     json={**COLLECTOR, "collector_name": "王五", "relation": "proxy"})
    assert again.status_code == 409
    shown = case(api, case_no, "company")["delivery"]
    assert shown["collector_name"] == "李四" and shown["collected_at"] and shown["collector_id_masked"] == "420102********1238"

    with ctx.uow() as uow:
        s = uow.session
        notice_id = s.scalar(select(Notice.id).join(Case, Case.id == Notice.case_id)
                             .where(Case.case_no == case_no, Notice.kind == "pickup"))
        audited = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == number)).all()
    assert audited == ["licence.collect"]
    receipt = sign_in(app.test_client(), "center_clerk").get(
        f"/documents/{notice_id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "李四" in receipt and "王五" not in receipt and number in receipt and "420102********1238" in receipt


@pytest.mark.usefixtures("numbered")
def test_an_items_own_pickup_place_comes_before_the_centres(app, api, ctx):
    """The administrator names where this item's licences are collected; the guide shows it, the item form
    keeps it, and the licence issued for pickup (and its message) names it instead of the centre's default."""
    from .licence_flows import ITEM_FIELDS

    item = api.get(f"/items/{FOOD}", "admin").get_json()
    place, hours = "市民之家二楼食品许可专窗（21号）", "工作日 9:00—12:00"
    body = {**{k: item[k] for k in ITEM_FIELDS}, "pickup_place": place, "pickup_hours": hours}
    assert api.put(f"/items/{FOOD}", "admin", json=body).status_code == 200
    guide = app.test_client().get(f"/items/{FOOD}").get_data(as_text=True)
    assert f"{place}（{hours}）" in guide and "证照领取地点" in guide
    form = sign_in(app.test_client(), "admin").get(f"/admin/items/{FOOD}").get_data(as_text=True)
    assert f'value="{place}"' in form and f'value="{hours}"' in form

    case_no = issue(api, delivery_method="pickup")
    shown = case(api, case_no, "company")["delivery"]
    assert (shown["pickup_place"], shown["pickup_hours"]) == (place, hours)
    in_app, _ = messages(ctx, case_no, "licence_ready")
    assert len(in_app) == 1 and place in in_app[0] and PLACE not in in_app[0]


def test_mail_with_tracking_number_sends_it_by_sms(api, ctx):
    case_no = issue(api, delivery_method="mail", mail_address="武汉市江岸区沿江大道100号", mail_tracking_no="EMS1234567890")
    shown = case(api, case_no, "company")["delivery"]
    assert shown["status"] == "mailed" and shown["tracking_no"] == "EMS1234567890"
    assert shown["mail_address"] == "武汉市江岸区沿江大道100号" and shown["pickup_place"] == ""
    in_app, outbox = messages(ctx, case_no, "licence_mailed")
    assert len(in_app) == 1 and "EMS1234567890" in in_app[0]
    sms = [b for c, b in outbox if c == "sms"]
    assert len(sms) == 1 and "EMS1234567890" in sms[0]
    assert messages(ctx, case_no, "licence_ready") == ([], [])
    # recording the same number again tells nobody anything
    same = api.put(f"/cases/{case_no}/delivery", "center_clerk", json={"tracking_no": "EMS1234567890"})
    assert same.status_code == 200 and messages(ctx, case_no, "licence_mailed") == (in_app, outbox)
    # a mailed licence is not collected at the window
    refused = api.post(f"/cases/{case_no}/delivery/collection", "center_clerk", json=COLLECTOR)
    assert refused.status_code == 409 and delivery_row(ctx, case_no)["collected_at"] is None


def mailings(api: Api, case_no: str) -> list[str]:
    """The case log's mailing entries, as staff read them."""
    history = api.get(f"/cases/{case_no}", "admin").get_json()["history"]
    return [e["message"] for e in history if e["action"] == "delivered"]


@pytest.mark.usefixtures("numbered")
def test_mail_without_number_then_tracking_recorded_sends_one_message(api, ctx):
    case_no = issue(api, delivery_method="mail", mail_address="武汉市江岸区沿江大道100号")
    assert case(api, case_no, "company")["delivery"]["status"] == "awaiting_mail"
    assert messages(ctx, case_no, "licence_mailed") == ([], [])
    assert mailings(api, case_no) == []  # not "mailed, tracking number: (blank)"

    bad = api.put(f"/cases/{case_no}/delivery", "center_clerk", json={"carrier": "EMS", "tracking_no": "no!"})
    assert bad.status_code == 400 and [e["field"] for e in bad.get_json()["errors"]] == ["tracking_no"]
    assert delivery_row(ctx, case_no)["tracking_no"] is None
    assert api.put(f"/cases/{case_no}/delivery", "company", json={"tracking_no": "EMS1234567890"}).status_code in (403, 404)

    for _ in range(2):
        done = api.put(f"/cases/{case_no}/delivery", "center_clerk", json={"carrier": "中国邮政EMS",
                                                                             "tracking_no": "ems1234567890"})
        assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "mailed" and done.get_json()["tracking_no"] == "EMS1234567890"
    in_app, outbox = messages(ctx, case_no, "licence_mailed")
    assert len(in_app) == 1 and "EMS1234567890" in in_app[0] and "中国邮政EMS" in in_app[0]
    assert sorted(c for c, _ in outbox) == ["email", "sms"]
    assert mailings(api, case_no) == ["邮寄送达，邮件单号：EMS1234567890"]  # in the case log once

    # a corrected number is told once more, with the new number
    api.put(f"/cases/{case_no}/delivery", "center_clerk", json={"carrier": "中国邮政EMS", "tracking_no": "EMS9999999999"})
    in_app, _ = messages(ctx, case_no, "licence_mailed")
    assert len(in_app) == 2 and "EMS9999999999" in in_app[1]
    assert mailings(api, case_no)[-1] == "邮寄送达，邮件单号：EMS9999999999"
    assert case(api, case_no, "company")["delivery"]["tracking_no"] == "EMS9999999999"


@pytest.mark.usefixtures("numbered")
def test_bad_collection_input_is_refused_with_field_messages(api, ctx):
    case_no = issue(api, delivery_method="pickup")
    before = delivery_row(ctx, case_no)
    cases = [
        ({k: v for k, v in COLLECTOR.items() if k != "collector_name"}, "collector_name"),
        ({**COLLECTOR, "collector_name": "   "}, "collector_name"),
        ({**COLLECTOR, "collector_id_number": "420102198503121239"}, "collector_id_number"),  # wrong check digit
        ({**COLLECTOR, "relation": "friend"}, "relation"),
    ]
    for body, field in cases:
        resp = api.post(f"/cases/{case_no}/delivery/collection", "center_clerk", json=body)
        assert resp.status_code == 400, resp.get_json()
        assert field in [e["field"] for e in resp.get_json()["errors"]]
    assert delivery_row(ctx, case_no) == before
    assert case(api, case_no, "company")["delivery"]["status"] == "awaiting_pickup"
    # an approver of another department may see nothing of it
    assert api.post(f"/cases/{case_no}/delivery/collection", "housing_clerk", json=COLLECTOR).status_code == 404


def test_case_before_issuance_has_no_licence_nor_delivery(api):
    case_no = food_to_review(api)
    body = case(api, case_no, "company")
    assert body["licence"] is None and body["delivery"] is None
    resp = api.post(f"/cases/{case_no}/delivery/collection", "market_clerk", json=COLLECTOR)
    assert resp.status_code == 409


@pytest.mark.usefixtures("numbered")
def test_two_windows_recording_the_collection_at_once_record_it_once(app, api, ctx):
    """On PostgreSQL the delivery row is locked: the second request waits, then finds it collected."""
    if not ctx.db.is_postgres:
        pytest.skip("row locks: PostgreSQL only (SQLite serializes writers anyway)")
    case_no = issue(api, delivery_method="pickup")
    clients = [Api(app.test_client()), Api(app.test_client())]
    for client, user in zip(clients, ("center_clerk", "market_clerk"), strict=True):
        client.token(user)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def record(client: Api, user: str, name: str) -> None:
        barrier.wait()
        codes.append(client.post(f"/cases/{case_no}/delivery/collection", user,
                                 json={**COLLECTOR, "collector_name": name}).status_code)

    threads = [threading.Thread(target=record, args=(c, u, n)) for c, u, n in
               zip(clients, ("center_clerk", "market_clerk"), ("李四", "王五"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
    with ctx.uow() as uow:
        audited = uow.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "licence.collect")).all()
    assert len(audited) == 1 and delivery_row(ctx, case_no)["collector_name"] in audited[0]
