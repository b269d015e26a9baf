"""The notifications API (each user's own only), the OpenAPI entries, and the scheduler's outbox tick
run from the command line."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import OutboxMessage, User
from app.services.messaging.notifications import notify
from tests.e2e.flows import FOOD, FOOD_APPLY, apply

pytestmark = pytest.mark.usefixtures("demo")


def send(ctx, clock, username, title, **options):
    with ctx.uow() as uow:
        who = uow.session.scalar(select(User.id).where(User.username == username))
    with ctx.uow(write=True) as uow:
        notify(uow.session, clock.now(), [who], options.pop("kind", "alarm"), title, "", **options)
        uow.commit()
    clock.advance(timedelta(minutes=1))


def test_list_filter_page_and_mark_read(api, ctx, clock):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    with ctx.uow() as uow:
        from app.models import Case

        cid = uow.session.scalar(select(Case.id).where(Case.case_no == case_no))
    for i in range(3):
        send(ctx, clock, "market_clerk", f"n{i}", case_id=cid if i == 0 else None)
    body = api.get("/notifications", "market_clerk").get_json()
    assert [n["title"] for n in body["items"]] == ["n2", "n1", "n0"]
    assert (body["total"], body["unread"], body["page"], body["per_page"]) == (3, 3, 1, 20)
    assert body["items"][2]["case_no"] == case_no and body["items"][2]["unread"] is True

    oldest = body["items"][2]["id"]
    read = api.post(f"/notifications/{oldest}/read", "market_clerk")
    assert read.status_code == 200 and read.get_json()["read_at"] and read.get_json()["unread"] is False
    again = api.post(f"/notifications/{oldest}/read", "market_clerk").get_json()
    assert again["read_at"] == read.get_json()["read_at"]  # reading twice changes nothing

    unread = api.get("/notifications?unread=1&per_page=1&page=2", "market_clerk").get_json()
    assert [n["title"] for n in unread["items"]] == ["n1"] and (unread["total"], unread["unread"]) == (2, 2)

    assert api.post("/notifications/read-all", "market_clerk").get_json() == {"marked": 2}
    assert api.get("/notifications?unread=1", "market_clerk").get_json()["total"] == 0
    assert api.get("/notifications", "market_clerk").get_json()["total"] == 3


def test_another_user_cannot_see_or_mark_them(api, ctx, clock):
    send(ctx, clock, "market_clerk", "for the clerk")
    [mine] = api.get("/notifications", "market_clerk").get_json()["items"]
    assert api.get("/notifications", "company").get_json()["items"] == []
    resp = api.post(f"/notifications/{mine['id']}/read", "company")
    assert resp.status_code == 404 and resp.get_json()["errors"][0]["message"]
    assert api.post("/notifications/read-all", "company").get_json() == {"marked": 0}
    assert api.get("/notifications?unread=1", "market_clerk").get_json()["total"] == 1


def test_bad_input_and_no_token(api):
    assert api.get("/notifications").status_code == 401
    assert api.post("/notifications/read-all").status_code == 401
    resp = api.get("/notifications?page=0&per_page=500", "market_clerk")
    assert resp.status_code == 400
    assert {e["field"] for e in resp.get_json()["errors"]} == {"page", "per_page"}
    assert api.get("/notifications?unread=maybe", "market_clerk").status_code == 400
    assert api.post("/notifications/abc/read", "market_clerk").status_code == 404
    assert api.post("/notifications/999999/read", "market_clerk").status_code == 404


def test_openapi_lists_the_notification_paths(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert {"/notifications", "/notifications/{id}/read", "/notifications/read-all"} <= set(paths)
    assert {p["name"] for p in paths["/notifications"]["get"]["parameters"]} == {"unread", "page", "per_page"}


def test_scheduler_tick_sends_the_outbox(app, ctx, clock, caplog):
    send(ctx, clock, "company", "您的申请已受理", kind="notice", channels=("app", "sms"), dedupe_key="accept:1")
    cli = app.test_cli_runner()
    with caplog.at_level(logging.INFO, logger="app.services.messaging.outbox"):
        first = cli.invoke(args=["scheduler", "tick"])
    assert first.exit_code == 0, first.output
    assert "outbox: 1 message(s) sent" in first.output
    assert any("13812345678" in r.getMessage() and "您的申请已受理" in r.getMessage() for r in caplog.records)
    assert "outbox: 0 message(s) sent" in cli.invoke(args=["scheduler", "tick"]).output
    with ctx.uow() as uow:
        [msg] = uow.session.scalars(select(OutboxMessage)).all()
        assert (msg.state, msg.attempts, msg.recipient) == ("sent", 1, "13812345678")


def test_an_unknown_sender_stops_the_app_at_start_up(clock):
    from app import SettingsError, create_app
    from tests.conftest import make_config

    with pytest.raises(SettingsError, match="OUTBOX_SENDER must be one of logging"):
        create_app(make_config("sqlite://", OUTBOX_SENDER="carrier-pigeon"), clock=clock)
    with pytest.raises(SettingsError, match="OUTBOX_MAX_ATTEMPTS"):
        create_app(make_config("sqlite://", OUTBOX_MAX_ATTEMPTS=0), clock=clock)
