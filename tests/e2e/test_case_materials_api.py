"""Materials through the API: `POST /cases` and `POST /cases/<no>/resubmit` take the files as
multipart parts (`json` + `material-<index>`), with the portal's checks and its rule that every
required material needs a file; staff find the files on the case page and download the same bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import Case, CaseFile
from tests.conftest import Api, build_app, wipe
from tests.e2e.flows import CORRECT, FOOD, FOOD_APPLY, RESUBMIT, complete, open_keys, pdf, post_files
from tests.web.signin import sign_in

pytestmark = pytest.mark.usefixtures("demo")
FILE_LINK = re.compile(r'href="/files/(\d+)">([^<]+)</a>')
NAMES = ("食品经营许可申请书", "营业执照或者其他主体资格证明文件", "法定代表人（负责人）身份证明",
         "主要设备设施、经营布局、操作流程等文件", "保证食品安全的规章制度目录清单", "食品安全管理人员证明")


def food_files(*indexes: int) -> dict[str, tuple[str, bytes] | list[tuple[str, bytes]]]:
    return {f"material-{i}": (f"材料{i}.pdf", pdf(f"food {i}")) for i in indexes}


def counts(app: Flask) -> tuple[int, int]:
    """Cases and case files recorded."""
    with app.extensions["banjian"].uow() as uow:
        s = uow.session
        return (int(s.scalar(select(func.count()).select_from(Case)) or 0),
                int(s.scalar(select(func.count()).select_from(CaseFile)) or 0))


def staff_files(app: Flask, case_no: str, user: str = "market_clerk") -> dict[str, bytes]:
    """What a staff member sees on the case page: each listed file name with the bytes it downloads."""
    client = sign_in(app.test_client(), user)
    page = client.get(f"/staff/cases/{case_no}")
    assert page.status_code == 200
    found = {}
    for file_id, name in FILE_LINK.findall(page.get_data(as_text=True)):
        download = client.get(f"/files/{file_id}")
        assert download.status_code == 200
        found[name] = download.data
        download.close()  # send_file's open file
    return found


def fields_of(resp) -> dict[str, str]:
    return {e.get("field", ""): e["message"] for e in resp.get_json()["errors"]}


def test_apply_with_files_puts_them_on_the_case(app, api):
    files = food_files(0, 1, 2, 3, 4, 5)
    files["material-6"] = [("委托书.pdf", pdf("proxy")), ("代理人身份证.pdf", pdf("agent id"))]  # optional, two files
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, files)
    assert resp.status_code == 201, resp.get_json()
    case_no = resp.get_json()["case_no"]
    assert open_keys(api, case_no) == ["preview"]
    seen = staff_files(app, case_no)
    assert seen == {**{f"材料{i}.pdf": pdf(f"food {i}") for i in range(6)},
                    "委托书.pdf": pdf("proxy"), "代理人身份证.pdf": pdf("agent id")}


def test_a_window_clerk_applies_with_the_files_for_the_applicant(app, api):
    resp = post_files(api, "/cases", "market_clerk", {"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"},
                      food_files(0, 1, 2, 3, 4, 5))
    assert resp.status_code == 201, resp.get_json()
    assert len(staff_files(app, resp.get_json()["case_no"])) == 6


def test_missing_required_materials_are_named_and_nothing_is_recorded(app, api):
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, food_files(0, 2, 5))
    assert resp.status_code == 422
    errors = fields_of(resp)
    assert set(errors) == {"material-1", "material-3", "material-4"}
    for i in (1, 3, 4):
        assert NAMES[i] in errors[f"material-{i}"]
    assert counts(app) == (0, 0)


def test_a_json_body_alone_is_refused_for_an_item_that_requires_materials(app, api):
    resp = api.post("/cases", "company", json={"item_code": FOOD, "data": FOOD_APPLY})
    assert resp.status_code == 422
    assert fields_of(resp) == {f"material-{i}": f"请上传此材料：{NAMES[i]} / upload this material: {NAMES[i]}"
                               for i in range(6)}
    assert counts(app) == (0, 0)


def test_form_errors_and_material_errors_come_together(app, api):
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": {**FOOD_APPLY, "contact_phone": "12"}},
                      food_files(0, 1, 2, 3, 4))
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"contact_phone", "material-5"}
    assert counts(app) == (0, 0)


def test_a_page_named_pdf_is_refused_by_its_part(app, api):
    files = food_files(0, 1, 3, 4, 5)
    files["material-2"] = ("身份证.pdf", b"<!doctype html><html><script>alert(1)</script></html>")
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, files)
    assert resp.status_code == 422
    errors = fields_of(resp)
    assert set(errors) == {"material-2"}
    assert "only PDF, PNG and JPEG" in errors["material-2"] and "身份证.pdf" in errors["material-2"]
    assert counts(app) == (0, 0)


def test_parts_that_name_nothing_are_refused(app, api):
    files = food_files(0, 1, 2, 3, 4, 5)
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY},
                      {**files, "material-9": ("x.pdf", pdf())})
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"material-9"}
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY},
                      {**files, "attachment": ("x.pdf", pdf())})
    assert resp.status_code == 400
    assert set(fields_of(resp)) == {"attachment"}
    resp = api.post("/cases", "company", data={"json": "[1]"}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert set(fields_of(resp)) == {"json"}
    resp = api.post("/cases", "company", data={"json": '{"item_code": '}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert set(fields_of(resp)) == {"json"}
    assert counts(app) == (0, 0)


@pytest.fixture
def limited(db_url, clock) -> Iterator[Flask]:
    """An app whose files may be 3000 bytes each and an applicant's together about 10 KB."""
    from app.services.demo import load_demo

    app = build_app(db_url, clock, UPLOAD_MAX_BYTES=3000, UPLOAD_QUOTA_MB=0.01)
    load_demo(app.extensions["banjian"])
    try:
        yield app
    finally:
        wipe(app)


def padded(text: str, size: int) -> bytes:
    head = pdf(text)
    return head + b"%" * (size - len(head))


def test_size_and_quota_limits_hold(limited):
    api = Api(limited.test_client())
    files = food_files(0, 1, 2, 3, 4, 5)
    files["material-1"] = ("big.pdf", padded("big", 3001))
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, files)
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"material-1"} and "file too large" in fields_of(resp)["material-1"]
    # Six files of 2000 bytes pass one by one but not together: 10 485 bytes is the applicant's quota.
    files = {f"material-{i}": (f"m{i}.pdf", padded(f"m{i}", 2000)) for i in range(6)}
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, files)
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"material-5"} and "quota" in fields_of(resp)["material-5"]
    assert counts(limited) == (0, 0)


def corrected_case(api) -> str:
    resp = post_files(api, "/cases", "company", {"item_code": FOOD, "data": FOOD_APPLY}, food_files(0, 1, 2, 3, 4, 5))
    case_no = str(resp.get_json()["case_no"])
    complete(api, case_no, "preview", "market_clerk", CORRECT)  # the notice lists material 0
    return case_no


def test_resubmitting_a_correction_with_the_file(app, api):
    case_no = corrected_case(api)
    resp = post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT},
                      {"material-0": ("已签字申请书.pdf", pdf("signed"))})
    assert resp.status_code == 200, resp.get_json()
    assert open_keys(api, case_no) == ["preview"]
    seen = staff_files(app, case_no)
    assert seen["已签字申请书.pdf"] == pdf("signed")
    assert seen["材料0.pdf"] == pdf("food 0")  # the superseded file stays on record
    assert counts(app) == (1, 7)


def test_a_resubmission_without_the_listed_material_is_refused(app, api):
    case_no = corrected_case(api)
    resp = api.post(f"/cases/{case_no}/resubmit", "company", json={"data": RESUBMIT})
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"material-0"}
    resp = post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT},
                      {"material-0": ("a.pdf", b"GIF89a not a pdf")})
    assert resp.status_code == 422
    assert "only PDF, PNG and JPEG" in fields_of(resp)["material-0"]
    assert open_keys(api, case_no) == ["correction"]
    assert counts(app) == (1, 6)


def test_only_the_applicant_resubmits_and_only_while_correction_awaits(app, api):
    case_no = corrected_case(api)
    files = {"material-0": ("a.pdf", pdf("signed"))}
    assert post_files(api, f"/cases/{case_no}/resubmit", "builder", {"data": RESUBMIT}, files).status_code == 404
    assert post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT}, files).status_code == 200
    assert post_files(api, f"/cases/{case_no}/resubmit", "company", {"data": RESUBMIT}, files).status_code == 409
