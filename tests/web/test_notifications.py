"""The bell in the header and the notifications page: newest first, unread marked, mark read, mark all
read; each user sees and marks only their own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.models import Case, User
from app.services.messaging.notifications import notify
from tests.e2e.flows import FOOD, FOOD_APPLY, apply

from .staff_helpers import Browser, flashes, main_text, text

pytestmark = pytest.mark.usefixtures("demo")

BELL = re.compile(r'<a class="bell"[^>]*>.*?</a>', re.S)


def user_id(ctx, username):
    with ctx.uow() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def case_id(ctx, case_no):
    with ctx.uow() as uow:
        return uow.session.scalar(select(Case.id).where(Case.case_no == case_no))


def send(ctx, clock, username, title, **options):
    who = user_id(ctx, username)
    with ctx.uow(write=True) as uow:
        notify(uow.session, clock.now(), [who], options.pop("kind", "alarm"), title, options.pop("body", ""),
               **options)
        uow.commit()
    clock.advance(timedelta(minutes=1))


def bell(resp):
    """The number on the bell, 0 when it shows none."""
    match = BELL.search(resp.get_data(as_text=True))
    assert match, "no bell in the header"
    count = re.search(r'class="count"[^>]*>(\d+)', match.group(0))
    return int(count.group(1)) if count else 0


def items(resp):
    """(title, unread?) of each notification on the page, in order."""
    page = resp.get_data(as_text=True)
    return [(title, "unread" in cls) for cls, title in
            re.findall(r'<li class="notification([^"]*)".*?<strong class="notification-title">(.*?)</strong>', page, re.S)]


def ids(resp):
    return [int(i) for i in re.findall(r'id="notification-(\d+)"', resp.get_data(as_text=True))]


def test_bell_list_mark_read_and_mark_all(app, ctx, clock, api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    send(ctx, clock, "market_clerk", "预警：即将超期", case_id=case_id(ctx, case_no), body="还剩 1 个工作日")
    send(ctx, clock, "market_clerk", "督办单", kind="supervision_order", link="/staff/inbox")
    send(ctx, clock, "market_clerk", "已超期", kind="alarm")
    clerk = Browser(app, "market_clerk")
    assert bell(clerk.get("/staff/inbox")) == 3
    page = clerk.get("/notifications")
    assert page.status_code == 200
    assert items(page) == [("已超期", True), ("督办单", True), ("预警：即将超期", True)]  # newest first
    body = text(page)
    assert f'href="/staff/cases/{case_no}"' in body and "还剩 1 个工作日" in main_text(page)
    assert 'href="/staff/inbox"' in body and "督办单" in main_text(page)
    newest, _, oldest = ids(page)

    resp = clerk.post(f"/notifications/{oldest}/read")
    assert resp.status_code == 302
    page = clerk.get("/notifications")
    assert bell(page) == 2
    assert items(page)[2] == ("预警：即将超期", False)
    assert [t for t, _ in items(clerk.get("/notifications?unread=1"))] == ["已超期", "督办单"]

    clerk.post("/notifications/read-all", {"unread": "1"})
    page = clerk.get("/notifications?unread=1")
    assert "已将 2 条通知标为已读" in " ".join(flashes(page))
    assert bell(page) == 0 and items(page) == [] and "没有未读通知" in main_text(page)
    assert [unread for _, unread in items(clerk.get("/notifications"))] == [False, False, False]


def test_in_english(app, ctx, clock):
    send(ctx, clock, "market_clerk", "Overdue", kind="deemed_accepted")
    page = Browser(app, "market_clerk", lang="en").get("/notifications")
    assert "Deemed accepted" in main_text(page) and "Mark read" in main_text(page)


def test_another_user_can_neither_see_nor_mark_them(app, ctx, clock, api):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    send(ctx, clock, "market_clerk", "给窗口的通知")
    send(ctx, clock, "company", "您的申请已视为受理", kind="deemed_accepted", case_id=case_id(ctx, case_no))
    clerk = Browser(app, "market_clerk")
    [clerks] = ids(clerk.get("/notifications"))
    company = Browser(app, "company")
    page = company.get("/notifications")
    # Newest first: this notice, then the case's own receipt message (milestone messages).
    assert [t for t, _ in items(page)] == ["您的申请已视为受理", f"办件 {case_no} 已收件"]
    assert f'href="/my/cases/{case_no}"' in text(page)  # the applicant's own case page
    assert bell(company.get("/my/cases")) == 2
    assert company.post(f"/notifications/{clerks}/read").status_code == 404
    company.post("/notifications/read-all")
    assert bell(clerk.get("/staff/inbox")) == 1  # still unread for its owner
    assert items(clerk.get("/notifications")) == [("给窗口的通知", True)]


def test_anonymous_visitors(app):
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200 and 'class="bell"' not in home.get_data(as_text=True)
    resp = client.get("/notifications")
    assert resp.status_code == 302 and "/login" in resp.location
    assert client.post("/notifications/read-all").status_code == 400  # the CSRF check comes first


def test_mark_read_needs_the_csrf_token(app, ctx, clock):
    send(ctx, clock, "market_clerk", "x")
    clerk = Browser(app, "market_clerk")
    [nid] = ids(clerk.get("/notifications"))
    assert clerk.client.post(f"/notifications/{nid}/read").status_code == 400
    assert bell(clerk.get("/staff/inbox")) == 1


def test_the_header_counts_with_one_query(app, ctx, clock):
    send(ctx, clock, "market_clerk", "x")
    clerk = Browser(app, "market_clerk")
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if "notifications" in statement:
            seen.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        assert bell(clerk.get("/staff/inbox")) == 1
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "count" in seen[0].lower()


def test_paging(app, ctx, clock):
    for i in range(23):
        send(ctx, clock, "citizen", f"通知 {i}", kind="notice")
    citizen = Browser(app, "citizen")
    first = citizen.get("/notifications")
    assert items(first)[0] == ("通知 22", True) and len(items(first)) == 20
    assert "第 1 页，共 2 页" in main_text(first)
    second = citizen.get("/notifications?page=2")
    assert [t for t, _ in items(second)] == ["通知 2", "通知 1", "通知 0"]
    [nid] = ids(second)[-1:]
    resp = citizen.post(f"/notifications/{nid}/read", {"page": "2"})
    assert resp.location.endswith("/notifications?page=2")
