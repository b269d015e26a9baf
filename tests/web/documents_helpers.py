"""Helpers for the notice tests: signing in through the login form, and reading a case's notices."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from app.services.context import ServiceContext
from app.services.documents import notices
from app.services.identity.auth import authenticate
from app.services.identity.principal import Principal

from .signin import sign_in

NUMBER = re.compile(r"^(SJ|BZ|SL|BSL|LZ|JD)(\d{8})(\d{6})$")


def who(ctx: ServiceContext, username: str) -> Principal:
    return authenticate(ctx, username, "demo1234")


def notices_of(ctx: ServiceContext, case_no: str, kind: str | None = None) -> list[notices.NoticeView]:
    found = notices.for_case(ctx, who(ctx, "admin"), case_no)
    return [n for n in found if kind is None or n.kind == kind]


def one(ctx: ServiceContext, case_no: str, kind: str) -> notices.NoticeView:
    found = notices_of(ctx, case_no, kind)
    assert len(found) == 1, [(n.kind, n.number) for n in notices_of(ctx, case_no)]
    return found[0]


def page(client: FlaskClient, notice_id: int, lang: str = "zh") -> Any:
    headers = {"Accept-Language": "en"} if lang == "en" else {"Accept-Language": "zh-CN"}
    return client.get(f"/documents/{notice_id}", headers=headers)


__all__ = ["NUMBER", "notices_of", "one", "page", "sign_in", "who"]
