"""The licence library pages (证照库): staff of the issuing department find a holder's licences by name,
ID, number, type and state, open one with all its versions, the cases behind them, a PDF and a
verification link per version; the department's head revokes with a reason; others see only what
they may."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from ..conftest import Api
from ..e2e.flows import APPROVE, GRANT, ISSUE, apply, complete, food_to_review
from .signin import csrf_token, sign_in

NUMBER = ISSUE["licence_no"]
ZH = {"Accept-Language": "zh-CN"}


pytestmark = pytest.mark.usefixtures("demo")  # the app fixture keeps its signing keys in a folder of its own


def changed_licence(app: Flask) -> tuple[str, str]:
    """`company`'s food licence, then changed once: (first case, change case)."""
    api = Api(app.test_client())
    first = food_to_review(api)
    complete(api, first, "review", "market_approver", APPROVE)
    complete(api, first, "decision", "market_head", GRANT)
    complete(api, first, "issue_licence", "center_clerk", ISSUE)
    change = apply(api, "420100-SCJG-003", {"existing_licence_no": NUMBER, "business_address": "武汉市江岸区中山大道200号",
                                            "change_reason": "经营场所搬迁", "contact_name": "李四",
                                            "contact_phone": "13800138000"})["case_no"]
    complete(api, change, "review_change", "market_clerk", {"handling_result": "grant"})
    return first, change


def rows(html: str, table: str) -> list[str]:
    body = re.search(rf'<table class="table" id="{table}">.*?</table>', html, re.S)
    return re.findall(r'<tr id="[^"]+".*?</tr>', body.group(0), re.S) if body else []


def test_a_clerk_finds_the_holders_licence_and_sees_its_versions(app):
    first, change = changed_licence(app)
    client = sign_in(app.test_client(), "market_clerk")
    found = client.get("/licences", query_string={"holder": "老街坊"}, headers=ZH).get_data(as_text=True)
    listed = rows(found, "licences")
    assert len(listed) == 1 and NUMBER in listed[0] and 'data-state="valid"' in listed[0] and "有效" in listed[0]
    by_id = client.get("/licences", query_string={"holder": "92420102MA4K12345X", "state": "valid"}).get_data(as_text=True)
    assert len(rows(by_id, "licences")) == 1
    assert rows(client.get("/licences", query_string={"state": "revoked"}).get_data(as_text=True), "licences") == []
    assert "no-licences" in client.get("/licences", query_string={"number": "NOPE"}).get_data(as_text=True)

    page = client.get(f"/licences/{NUMBER}", headers=ZH).get_data(as_text=True)
    assert "武汉市江岸区中山大道200号" in page and "现行版本" in page
    v2, v1 = rows(page, "versions")
    assert 'data-state="valid"' in v2 and change in v2 and f"/licences/{NUMBER}.pdf?version=2" in v2
    assert 'data-state="replaced"' in v1 and first in v1 and "被第 2 版替代" in v1
    assert f"/licences/{NUMBER}.pdf?version=1" in v1 and f"/verify/{NUMBER}?sig=" in v1
    assert "revoke-reason" not in page  # a clerk does not revoke


def test_the_head_revokes_with_a_reason_and_an_empty_reason_changes_nothing(app):
    changed_licence(app)
    head = sign_in(app.test_client(), "market_head")
    token = csrf_token(head, f"/licences/{NUMBER}")
    empty = head.post(f"/licences/{NUMBER}/revoke", data={"csrf_token": token, "reason": "  "}, headers=ZH)
    assert empty.status_code == 400 and "请填写撤销证照的理由" in empty.get_data(as_text=True)
    assert 'id="licence-state" data-state="valid"' in head.get(f"/licences/{NUMBER}").get_data(as_text=True)
    done = head.post(f"/licences/{NUMBER}/revoke", data={"csrf_token": token, "reason": "以欺骗手段取得许可"},
                     follow_redirects=True, headers=ZH)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and 'data-state="revoked"' in page and "以欺骗手段取得许可" in page
    verify = app.test_client().get(f"/verify/{NUMBER}").get_data(as_text=True)
    assert 'data-status="revoked"' in verify
    clerk = sign_in(app.test_client(), "market_clerk")
    assert clerk.post(f"/licences/{NUMBER}/revoke", data={"csrf_token": csrf_token(clerk, "/licences"),
                                                          "reason": "x"}).status_code == 403


def test_others_see_only_what_they_may(app):
    changed_licence(app)
    housing = sign_in(app.test_client(), "housing_clerk")
    assert rows(housing.get("/licences").get_data(as_text=True), "licences") == []
    assert housing.get(f"/licences/{NUMBER}").status_code == 404
    holder = sign_in(app.test_client(), "company")
    assert len(rows(holder.get("/licences").get_data(as_text=True), "licences")) == 1
    assert holder.get(f"/licences/{NUMBER}.pdf?version=abc").status_code == 404
    other = sign_in(app.test_client(), "citizen")
    assert rows(other.get("/licences").get_data(as_text=True), "licences") == []
    assert other.get(f"/licences/{NUMBER}").status_code == 404
    assert sign_in(app.test_client(), "designer").get("/licences").status_code == 403
