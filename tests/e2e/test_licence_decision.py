"""The grant decision (准予行政许可决定书): issued as a decision notice when a case reaches `decided` by the
grant path, and printed like the refusal decision."""

from __future__ import annotations

import pytest

from app.services.documents import notices
from app.services.identity.auth import authenticate

from ..web.signin import sign_in
from .flows import DEPARTMENTS, GRANT, approval, complete, joint_to_approval

pytestmark = pytest.mark.usefixtures("demo")

def test_grant_produces_the_grant_decision_document(app, api, ctx):
    case_no = joint_to_approval(api)
    for dept in DEPARTMENTS:
        complete(api, case_no, "dept_approval", f"{dept}_approver", approval(), department=dept)
    complete(api, case_no, "decision", "housing_head", GRANT)
    found = [n for n in notices.for_case(ctx, authenticate(ctx, "builder", "demo1234"), case_no)
             if n.kind == "decision"]
    assert len(found) == 1 and found[0].content["result"] == "grant"
    assert found[0].title == "准予行政许可决定书" and found[0].number.startswith("JD")
    client = sign_in(app.test_client(), "builder")
    page = client.get(f"/documents/{found[0].id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "准予行政许可决定书" in page and "第三十八条第一款" in page and "不予" not in page
