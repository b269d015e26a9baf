"""Changing, renewing and cancelling a food licence through cases of their own (issue 10): the holder
applies through POST /cases naming the licence, the market window grants, and the licence gets a new
signed version under the same number (or is cancelled); the old version's QR still verifies, as
replaced, and leads to the current one."""

from __future__ import annotations

import re
import threading
from datetime import date
from typing import Any

import pytest

from app.services.demo import load_demo

from ..conftest import Api, build_app, wipe
from .flows import (
    APPROVE,
    DEPARTMENTS,
    GRANT,
    ISSUE,
    apply,
    approval,
    complete,
    food_to_review,
    joint_to_approval,
    post_case,
)
from .licence_flows import verdict_of_pdf

CHANGE, RENEWAL, CANCELLATION = "420100-SCJG-003", "420100-SCJG-004", "420100-SCJG-005"
NUMBER = ISSUE["licence_no"]
CONTACT = {"contact_name": "李四", "contact_phone": "13800138000"}
CHANGE_APPLY = {"existing_licence_no": NUMBER, "business_address": "武汉市江岸区中山大道200号",
                "change_reason": "经营场所搬迁", **CONTACT}
GRANTED = {"handling_result": "grant"}


pytestmark = pytest.mark.usefixtures("demo")  # the app fixture keeps its signing keys in a folder of its own


def _food_licence(api: Api) -> str:
    """A food licence granted to `company` (number ISSUE["licence_no"]); its case number."""
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    return case_no


def _status(client: Any, url: str) -> tuple[str, str]:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'data-status="(\w+)"', page)
    assert match, page
    return match.group(1), page


def test_a_change_issues_version_two_and_the_old_qr_says_replaced(app, api):
    first_case = _food_licence(api)
    v1 = api.get(f"/licences/{NUMBER}", "company").get_json()
    assert v1["version"] == 1 and v1["state"] == "valid" and v1["case_no"] == first_case

    case_no = apply(api, CHANGE, CHANGE_APPLY)["case_no"]
    complete(api, case_no, "review_change", "market_clerk", GRANTED)

    body = api.get(f"/licences/{NUMBER}", "company").get_json()
    assert (body["version"], body["state"], body["case_no"]) == (2, "valid", case_no)
    assert body["facts"]["content"]["经营场所"] == "武汉市江岸区中山大道200号"
    assert body["facts"]["content"]["法定代表人"] == v1["facts"]["content"]["法定代表人"]  # unchanged stays
    assert body["facts"]["valid_to"] == v1["facts"]["valid_to"]
    assert body["short_signature"] != v1["short_signature"]
    assert [(v["version"], v["state"], v["case_no"], v["replaced_by_version"]) for v in body["versions"]] == [
        (1, "replaced", first_case, 2), (2, "valid", case_no, None)]

    web = app.test_client()
    status, page = _status(web, f"/verify/{NUMBER}?sig={v1['short_signature']}")
    assert status == "replaced" and "2026-11-23" in page
    assert f"/verify/{NUMBER}?sig={body['short_signature']}" in page.replace("&amp;", "&")
    assert _status(web, f"/verify/{NUMBER}?sig={body['short_signature']}")[0] == "valid"
    assert _status(web, f"/verify/{NUMBER}")[0] == "valid"  # without a signature: the latest version
    # the old version's record and PDF are still there on request (the latest by default); an uploaded
    # old PDF is checked against its own version, and says replaced
    old = api.get(f"/licences/{NUMBER}?version=1", "company").get_json()
    assert (old["version"], old["state"], old["replaced_by_version"]) == (1, "replaced", 2)
    pdf = api.get(f"/licences/{NUMBER}/pdf?version=1", "company")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert verdict_of_pdf(web, pdf.data) == "replaced"
    assert verdict_of_pdf(web, api.get(f"/licences/{NUMBER}/pdf", "company").data) == "valid"

    trail = api.get("/audit", "admin", query_string={"object_type": "licence", "object_id": NUMBER}).get_json()
    assert [e["action"] for e in trail["items"]] == ["licence.change"]


def test_a_renewal_extends_the_validity(app, api):
    _food_licence(api)
    before = api.get(f"/licences/{NUMBER}", "company").get_json()["facts"]
    case_no = apply(api, RENEWAL, {"existing_licence_no": NUMBER, "renewal_statement": "许可条件未发生变化",
                                   **CONTACT})["case_no"]
    complete(api, case_no, "review_renewal", "market_clerk", GRANTED)
    after = api.get(f"/licences/{NUMBER}", "company").get_json()
    old_end = date.fromisoformat(before["valid_to"])
    assert after["version"] == 2
    assert date.fromisoformat(after["facts"]["valid_from"]) > old_end
    assert date.fromisoformat(after["facts"]["valid_to"]) == old_end.replace(year=old_end.year + 5)


def test_a_cancellation_revokes_the_licence(app, api):
    _food_licence(api)
    case_no = apply(api, CANCELLATION, {"existing_licence_no": NUMBER, "cancel_reason": "ceased", **CONTACT})["case_no"]
    complete(api, case_no, "review_cancellation", "market_clerk", GRANTED)
    body = api.get(f"/licences/{NUMBER}", "company").get_json()
    assert (body["version"], body["state"]) == (1, "revoked")
    status, page = _status(app.test_client(), f"/verify/{NUMBER}")
    assert status == "revoked" and case_no in page and "注销" in page
    # a cancelled licence can be neither changed nor cancelled again
    again = post_case(api, CHANGE, CHANGE_APPLY)
    assert again.status_code == 422 and "注销" in _messages(again)["existing_licence_no"]


def test_applying_about_someone_elses_licence_is_refused_naming_the_field(app, api):
    _food_licence(api)
    cases_before = len(api.get("/cases", "admin").get_json().get("items", []))
    refused = post_case(api, CHANGE, CHANGE_APPLY, user="citizen")
    assert refused.status_code == 422, refused.get_json()
    assert "不属于申请人" in _messages(refused)["existing_licence_no"]
    unknown = post_case(api, CHANGE, {**CHANGE_APPLY, "existing_licence_no": "JY00000000000000"})
    assert unknown.status_code == 422 and "不存在" in _messages(unknown)["existing_licence_no"]
    assert len(api.get("/cases", "admin").get_json().get("items", [])) == cases_before
    assert api.get(f"/licences/{NUMBER}", "company").get_json()["version"] == 1


def test_a_licence_of_another_type_cannot_be_changed_as_a_food_licence(app, api):
    case_no = joint_to_approval(api)
    for dept in DEPARTMENTS:
        complete(api, case_no, "dept_approval", f"{dept}_approver", approval(), department=dept)
    complete(api, case_no, "decision", "housing_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)  # a construction permit, held by builder
    refused = post_case(api, CHANGE, CHANGE_APPLY, user="builder")
    assert refused.status_code == 422 and "不是食品经营许可证" in _messages(refused)["existing_licence_no"]


def _messages(resp: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in resp.get_json()["errors"]:
        out[error.get("field", "")] = out.get(error.get("field", ""), "") + error["message"]
    return out


def test_a_change_granted_after_another_on_the_same_version_is_refused(db_url, clock, tmp_path):
    """Two changes applied for in the same instant both name version 1; granted one after the other,
    the second is refused (409) even though no time passed: the version named, not the clock, decides."""
    app = build_app(db_url, clock, KEYS_DIR=tmp_path / "keys")
    try:
        load_demo(app.extensions["banjian"])
        api = Api(app.test_client())
        _food_licence(api)
        first = apply(api, CHANGE, CHANGE_APPLY)["case_no"]
        second = apply(api, CHANGE, {**CHANGE_APPLY, "business_address": "武汉市江汉区解放大道1号"})["case_no"]
        tasks = {no: _task(api, no) for no in (first, second)}
        assert api.post(f"/tasks/{tasks[first]}/complete", "market_clerk", json={"data": GRANTED}).status_code == 200
        late = api.post(f"/tasks/{tasks[second]}/complete", "market_clerk", json={"data": GRANTED})
        assert late.status_code == 409, late.get_json()
        body = api.get(f"/licences/{NUMBER}", "admin").get_json()
        assert [(v["version"], v["state"]) for v in body["versions"]] == [(1, "replaced"), (2, "valid")]
        assert [t["task_key"] for t in api.get(f"/cases/{second}", "admin").get_json()["tasks"]] == ["review_change"]
    finally:
        wipe(app)


@pytest.mark.postgres
def test_two_changes_racing_on_one_version_replace_it_once(pg_url, clock, tmp_path):
    """Both cases name version 1; the window grants both at the same moment. Exactly one step wins and
    issues version 2; the other is refused (409) and stays open for the clerk to refuse: no version 3,
    nothing half done."""
    app = build_app(pg_url, clock, KEYS_DIR=tmp_path / "keys")
    try:
        load_demo(app.extensions["banjian"])
        api = Api(app.test_client())
        _food_licence(api)
        first = apply(api, CHANGE, CHANGE_APPLY)["case_no"]
        second = apply(api, CHANGE, {**CHANGE_APPLY, "business_address": "武汉市江汉区解放大道1号"})["case_no"]
        tasks = {no: _task(api, no) for no in (first, second)}
        for user in ("market_clerk", "market_clerk2"):
            api.token(user)
        results: dict[str, int] = {}
        barrier = threading.Barrier(2)

        def grant(case_no: str, user: str) -> None:
            client = Api(app.test_client())
            client._tokens = dict(api._tokens)
            barrier.wait()
            results[case_no] = client.post(f"/tasks/{tasks[case_no]}/complete", user, json={"data": GRANTED}).status_code

        threads = [threading.Thread(target=grant, args=(no, user))
                   for no, user in ((first, "market_clerk"), (second, "market_clerk2"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [200, 409], results
        body = api.get(f"/licences/{NUMBER}", "admin").get_json()
        assert [(v["version"], v["state"]) for v in body["versions"]] == [(1, "replaced"), (2, "valid")]
        winner = next(no for no, code in results.items() if code == 200)
        loser = next(no for no, code in results.items() if code == 409)
        assert body["case_no"] == winner
        assert [t["task_key"] for t in api.get(f"/cases/{loser}", "admin").get_json()["tasks"]] == ["review_change"]
    finally:
        wipe(app)


def _task(api: Api, case_no: str) -> str:
    tasks = api.get(f"/cases/{case_no}", "admin").get_json()["tasks"]
    assert len(tasks) == 1
    return str(tasks[0]["id"])


def test_a_reissue_gives_the_same_facts_a_new_version_and_voids_the_lost_copy(app, api):
    """补办: the holder reports the paper lost; the window reissues on the spot. The new version carries the
    same facts; the lost copy's QR now says replaced, so it cannot pass for the licence any more."""
    from .flows import INSTANT, INSTANT_APPLY

    _food_licence(api)
    first = api.get(f"/licences/{NUMBER}", "company").get_json()
    reissue = {**INSTANT_APPLY, "licence_no": NUMBER}
    refused = post_case(api, INSTANT, reissue, user="citizen")
    assert refused.status_code == 422 and "不属于申请人" in _messages(refused)["licence_no"]
    case_no = apply(api, INSTANT, reissue)["case_no"]
    complete(api, case_no, "handle_on_spot", "market_clerk", {"instant_result": "grant", "licence_no": NUMBER})
    after = api.get(f"/licences/{NUMBER}", "company").get_json()
    assert (after["version"], after["state"], after["case_no"]) == (2, "valid", case_no)
    same = ("holder_name", "holder_id", "content", "valid_from", "valid_to", "licence_type")
    assert {k: after["facts"][k] for k in same} == {k: first["facts"][k] for k in same}
    status, _ = _status(app.test_client(), f"/verify/{NUMBER}?sig={first['short_signature']}")
    assert status == "replaced"


def test_a_reissue_of_a_licence_from_before_the_library_enters_it(app, api):
    """A paper licence issued before banjian: the window checks the original and the licence enters the
    library as its first e-licence."""
    from .flows import INSTANT, INSTANT_APPLY

    legacy = "JY14201020012345"
    assert api.get(f"/licences/{legacy}", "company").status_code == 404
    case_no = apply(api, INSTANT, {**INSTANT_APPLY, "licence_no": legacy})["case_no"]
    complete(api, case_no, "handle_on_spot", "market_clerk", {"instant_result": "grant", "licence_no": legacy})
    entered = api.get(f"/licences/{legacy}", "company").get_json()
    assert (entered["version"], entered["state"], entered["facts"]["holder_id"]) == (1, "valid", INSTANT_APPLY["credit_code"])
