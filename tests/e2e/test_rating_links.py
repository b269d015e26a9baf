"""The rating invitation's SMS and e-mail carry the rating page's full address (BANJIAN_PUBLIC_URL): a
phone has no site to resolve a path against. The in-app message links within the site."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, Notification, OutboxMessage

from ..conftest import build_app, wipe
from .test_ratings_api import finished_case

pytestmark = pytest.mark.usefixtures("demo")
SITE = "https://zwfw.example.gov.cn/banjian"


@pytest.fixture
def app(db_url: str, clock) -> Iterator[Flask]:
    app = build_app(db_url, clock, PUBLIC_URL=SITE + "/")
    try:
        yield app
    finally:
        wipe(app)


def test_the_invitation_text_links_to_the_public_site_and_the_app_within_it(api, ctx):
    case_no = finished_case(api)
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        key = f"milestone|{case_id}|rating_invite|%"
        sms = s.scalars(select(OutboxMessage.body).where(OutboxMessage.dedupe_key.like(key),
                                                         OutboxMessage.channel == "sms")).all()
        in_app = s.execute(select(Notification.body, Notification.link)
                           .where(Notification.dedupe_key.like(key))).all()
    assert len(sms) == 1 and f"{SITE}/my/cases/{case_no}/rate" in sms[0]
    assert len(in_app) == 1 and in_app[0].link == f"/my/cases/{case_no}/rate"
