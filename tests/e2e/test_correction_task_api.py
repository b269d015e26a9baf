"""The correction step (补正) completed through the generic `POST /tasks/<id>/complete` keeps the rule that
`POST /cases/<no>/resubmit` enforces: each material the notice lists needs a new file, else 422 naming
it and nothing changes; with the files (multipart, as for /resubmit) it completes as a resubmission.
The same holds for a window clerk acting for a walk-in applicant."""

from __future__ import annotations

import pytest

from tests.e2e.flows import (
    CORRECT,
    FOOD,
    FOOD_APPLY,
    RESUBMIT,
    apply,
    case,
    complete,
    open_keys,
    pdf,
    post_files,
    task_id,
)
from tests.e2e.test_case_materials_api import corrected_case, counts, fields_of, food_files, staff_files

pytestmark = pytest.mark.usefixtures("demo")
FORM_SHEET = "食品经营许可申请书"  # material 0, the one CORRECT lists


def _complete(api, case_no: str, user: str, files=None):
    tid = task_id(api, case_no, "correction")
    return post_files(api, f"/tasks/{tid}/complete", user, {"data": RESUBMIT}, files or {})


def test_the_applicant_cannot_complete_a_correction_without_the_listed_file(app, api):
    case_no = corrected_case(api)
    before = counts(app)
    resp = _complete(api, case_no, "company")
    assert resp.status_code == 422
    assert set(fields_of(resp)) == {"material-0"} and FORM_SHEET in fields_of(resp)["material-0"]
    assert case(api, case_no)["status"] == "correction" and open_keys(api, case_no) == ["correction"]
    assert counts(app) == before
    history = [e["action"] for e in case(api, case_no)["history"]]
    assert "resubmitted" not in history


def test_with_the_file_the_generic_completion_is_a_resubmission(app, api):
    case_no = corrected_case(api)
    resp = _complete(api, case_no, "company", {"material-0": ("签字申请书.pdf", pdf("signed"))})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "submitted" and open_keys(api, case_no) == ["preview"]
    seen = staff_files(app, case_no)
    assert seen["签字申请书.pdf"] == pdf("signed") and seen["材料0.pdf"] == pdf("food 0")  # old one kept on record
    assert "resubmitted" in [e["action"] for e in case(api, case_no)["history"]]


def test_a_wrong_file_is_refused_as_resubmit_refuses_it(app, api):
    case_no = corrected_case(api)
    resp = _complete(api, case_no, "company", {"material-0": ("a.pdf", b"GIF89a not a pdf")})
    assert resp.status_code == 422 and "only PDF, PNG and JPEG" in fields_of(resp)["material-0"]
    assert open_keys(api, case_no) == ["correction"]


def test_a_window_clerk_needs_the_rescanned_file_too(app, api):
    resp = post_files(api, "/cases", "market_clerk", {"item_code": FOOD, "data": FOOD_APPLY, "applicant": "citizen"},
                      food_files(0, 1, 2, 3, 4, 5))
    assert resp.status_code == 201, resp.get_json()
    case_no = resp.get_json()["case_no"]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    resp = _complete(api, case_no, "market_clerk2")
    assert resp.status_code == 422 and FORM_SHEET in fields_of(resp)["material-0"]
    assert open_keys(api, case_no) == ["correction"]
    resp = _complete(api, case_no, "market_clerk2", {"material-0": ("扫描件.pdf", pdf("scan"))})
    assert resp.status_code == 200, resp.get_json()
    assert open_keys(api, case_no) == ["preview"] and staff_files(app, case_no)["扫描件.pdf"] == pdf("scan")


def test_others_learn_nothing_and_other_steps_take_no_files(app, api):
    case_no = corrected_case(api)
    assert _complete(api, case_no, "builder").status_code == 404  # not their task: no rule is told
    other = str(apply(api, FOOD, FOOD_APPLY)["case_no"])
    tid = task_id(api, other, "preview")
    resp = post_files(api, f"/tasks/{tid}/complete", "market_clerk", {"data": CORRECT},
                      {"material-0": ("x.pdf", pdf("x"))})
    assert resp.status_code == 422 and "material-0" in fields_of(resp)
    assert open_keys(api, other) == ["preview"]
