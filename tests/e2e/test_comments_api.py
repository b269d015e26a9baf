"""GET/POST /api/v1/cases/<no>/comments: staff who may see a case read and write its comments; the applicant
reads the public ones (role and department, no staff names); everyone else gets a 404."""

from __future__ import annotations

import pytest

from tests.e2e.flows import food_to_review
from tests.web.staff_helpers import Browser, text

pytestmark = pytest.mark.usefixtures("demo")


def post(api, case_no: str, user: str, **body):
    return api.post(f"/cases/{case_no}/comments", user, json=body)


def comments(api, case_no: str, user: str) -> list[dict]:
    resp = api.get(f"/cases/{case_no}/comments", user)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_staff_write_and_read_every_comment_the_applicant_the_public_ones(api):
    case_no = food_to_review(api)
    made = post(api, case_no, "market_approver", body="请于周五前到窗口核验营业执照原件", public=True)
    assert made.status_code == 201 and made.get_json()["public"] is True
    assert post(api, case_no, "market_clerk", body="内部：申请人曾有违规记录").status_code == 201

    staff = comments(api, case_no, "market_head")
    assert [(c["body"], c["public"], c["author_name"], c["author_staff_no"]) for c in staff] == [
        ("请于周五前到窗口核验营业执照原件", True, "李强", "SJ0201"), ("内部：申请人曾有违规记录", False, "王芳", "SJ0101")]
    assert staff[0]["at"].startswith("2026-11-23T")

    mine = comments(api, case_no, "company")
    assert [c["body"] for c in mine] == ["请于周五前到窗口核验营业执照原件"]
    assert mine[0]["author_role"] == "approver" and mine[0]["author_department"] == "市场监督管理局"
    assert not {"author", "author_name", "author_staff_no"} & set(mine[0])


def test_the_staff_page_shows_a_comment_made_through_the_api(app, api):
    case_no = food_to_review(api)
    post(api, case_no, "market_clerk", body="已电话联系申请人")
    assert "已电话联系申请人" in text(Browser(app, "market_head").get(f"/staff/cases/{case_no}"))


@pytest.mark.parametrize(("user", "post_status"), [
    ("citizen", 403),  # another applicant: only staff write, whatever the case
    ("fire_approver", 404),  # staff of a department the case does not touch
])
def test_others_get_a_404_and_change_nothing(api, user, post_status):
    case_no = food_to_review(api)
    post(api, case_no, "market_clerk", body="内部备注")
    assert api.get(f"/cases/{case_no}/comments", user).status_code == 404
    refused = post(api, case_no, user, body="我来看看", public=True)
    assert refused.status_code == post_status
    assert [c["body"] for c in comments(api, case_no, "market_clerk")] == ["内部备注"]
    assert api.get("/cases/NOSUCHCASE/comments", "market_clerk").status_code == 404


def test_the_applicant_cannot_post_and_anonymous_cannot_read(api):
    case_no = food_to_review(api)
    refused = post(api, case_no, "company", body="请尽快办理", public=True)
    assert refused.status_code == 403
    assert comments(api, case_no, "company") == [] and comments(api, case_no, "market_clerk") == []
    assert api.get(f"/cases/{case_no}/comments").status_code == 401
    assert api.post(f"/cases/{case_no}/comments", json={"body": "x"}).status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({}, "body"), ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": "长" * 2001}, "body"),
    ({"body": 5}, "body"), ({"body": "好", "public": "maybe"}, "public"), ({"body": "好", "author": "admin"}, "author"),
])
def test_bad_bodies_are_a_400_with_the_field_and_add_nothing(api, body, field):
    case_no = food_to_review(api)
    resp = api.post(f"/cases/{case_no}/comments", "market_clerk", json=body)
    assert resp.status_code == 400
    assert field in {e.get("field") for e in resp.get_json()["errors"]}
    assert comments(api, case_no, "market_clerk") == []


def test_a_comment_of_2000_characters_is_kept_whole(api):
    case_no = food_to_review(api)
    assert post(api, case_no, "market_clerk", body="长" * 2000).status_code == 201
    assert comments(api, case_no, "market_clerk")[0]["body"] == "长" * 2000


def test_the_routes_are_in_the_openapi_document(api):
    doc = api.get("/openapi.json").get_json()
    ops = doc["paths"]["/cases/{case_no}/comments"]
    assert set(ops) == {"get", "post"}
    assert ops["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CommentBody")
    assert doc["components"]["schemas"]["CommentBody"]["properties"]["body"]["maxLength"] == 2000
