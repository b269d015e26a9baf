"""The pages use the forms of the case's own process version, not the server's forms/ folder: the
applicant's correction step renders and checks the version's form (a formKey's or inline fields), the
staff case page labels each completed step's values with the form of the version it was done on, and a
case moved to another version says so in its history."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Case, CaseEvent
from app.services.context import ServiceContext
from tests.e2e.flows import CORRECT, FOOD, FOOD_APPLY, apply, complete, correct

from .portal_helpers import new_applicant, pdf_bytes, post, resident_id, submit_food, text, upload
from .staff_helpers import Browser, main_text

MODEL = (Path(__file__).parents[2] / "bpmn" / "food_licence.bpmn").read_text(encoding="utf-8")
MULTI = {"content_type": "multipart/form-data"}

# The version's correction form: other fields than forms/correction.form (which asks for a ticked box).
CORRECTION_V2 = json.dumps({"type": "default", "id": "Form_correction_v2", "components": [
    {"type": "textarea", "id": "Field_note", "key": "correction_note", "label": "补正情况（第二版）",
     "validate": {"required": True}},
    {"type": "textfield", "id": "Field_signer", "key": "signer", "label": "补正签字人", "validate": {"required": True}},
]}, ensure_ascii=False).encode()

INLINE_FIELDS = """
        <camunda:formData>
          <camunda:formField id="corrected_by" label="补正经办人" type="string">
            <camunda:validation><camunda:constraint name="required" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="pages_added" label="补充页数" type="long" />
        </camunda:formData>"""


def inline_model() -> bytes:
    """The food licence process with its correction step's form as inline fields instead of a formKey."""
    start = MODEL.index('<bpmn:userTask id="correction"')
    task = MODEL[start:MODEL.index("</bpmn:userTask>", start)]
    changed = task.replace(' camunda:formKey="correction.form"', "").replace(
        "<bpmn:extensionElements>", "<bpmn:extensionElements>" + INLINE_FIELDS, 1)
    assert changed != task
    return MODEL.replace(task, changed).encode("utf-8")


def deploy(api: Any, *files: tuple[str, bytes]) -> None:
    resp = api.post("/process-definitions", "designer", content_type="multipart/form-data",
                    data={"file": [(io.BytesIO(content), name) for name, content in files]})
    assert resp.status_code == 201 and resp.get_json()["version"] == 2, resp.get_json()


@pytest.fixture
def owner(app: Flask, demo: ServiceContext) -> Any:
    return new_applicant(app.test_client(), "zhang", number=resident_id(), phone="13912345678")


def correction_section(resp: Any) -> str:
    page = text(resp)
    return page[page.index('id="correction"'):page.index("</section>", page.index('id="correction"'))]


def status(ctx: ServiceContext, case_no: str) -> str:
    with ctx.uow() as uow:
        return str(uow.session.scalar(select(Case.status).where(Case.case_no == case_no)))


def entered(ctx: ServiceContext, case_no: str, task_key: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        data = s.scalars(select(CaseEvent.data_after).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "completed", CaseEvent.task_key == task_key)
            .order_by(CaseEvent.id.desc())).first()
        return dict(data or {})


def step_answers(shown: str, step: str) -> str:
    """The text of the history entry of the completed step `step` (its entered values included)."""
    match = re.search(rf"办理完成 · {step} — .*?(?= \d{{4}}-\d\d-\d\d \d\d:\d\d |$)", shown)
    assert match, shown
    return match.group(0)


def test_the_correction_page_shows_and_checks_the_versions_form(app: Flask, demo: ServiceContext,
                                                                 owner: Any, api: Any) -> None:
    deploy(api, ("food_licence.bpmn", MODEL.encode("utf-8")), ("correction.form", CORRECTION_V2))
    case_no = submit_food(owner)
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    page = owner.get(f"/my/cases/{case_no}")
    section = correction_section(page)
    assert 'for="f-signer"' in section and "补正签字人" in section and "补正情况（第二版）" in section
    assert "已按补正告知补齐全部材料" not in section  # the folder's copy of correction.form is not used

    path = f"/my/cases/{case_no}/resubmit"
    material = {"material-0": [upload(pdf_bytes("signed"), "申请书-签字.pdf")]}
    refused = post(owner, path, {"correction_note": "已补充签字", **material}, form_page=f"/my/cases/{case_no}",
                   **MULTI)
    assert refused.status_code == 422
    body = text(refused)
    assert 'id="f-signer-error"' in body and 'id="f-correction_confirmed-error"' not in body
    assert status(demo, case_no) == "correction"

    done = post(owner, path, {"correction_note": "已补充签字", "signer": "李四",
                              "material-0": [upload(pdf_bytes("signed"), "申请书-签字.pdf")]},
                form_page=f"/my/cases/{case_no}", **MULTI)
    assert done.status_code == 302, text(done)
    assert status(demo, case_no) == "submitted"
    assert entered(demo, case_no, "correction") == {"correction_note": "已补充签字", "signer": "李四"}


def test_an_inline_correction_step_is_shown_checked_and_labelled_for_staff(app: Flask, demo: ServiceContext,
                                                                          owner: Any, api: Any) -> None:
    deploy(api, ("food_licence.bpmn", inline_model()))
    case_no = submit_food(owner)
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    section = correction_section(owner.get(f"/my/cases/{case_no}"))
    assert 'for="f-corrected_by"' in section and "补正经办人" in section and "补充页数" in section

    path = f"/my/cases/{case_no}/resubmit"
    refused = post(owner, path, {"material-0": [upload(pdf_bytes("signed"), "a.pdf")]},
                   form_page=f"/my/cases/{case_no}", **MULTI)
    assert refused.status_code == 422 and 'id="f-corrected_by-error"' in text(refused)
    assert status(demo, case_no) == "correction"
    done = post(owner, path, {"corrected_by": "王五", "pages_added": "3",
                              "material-0": [upload(pdf_bytes("signed"), "a.pdf")]},
                form_page=f"/my/cases/{case_no}", **MULTI)
    assert done.status_code == 302, text(done)
    assert entered(demo, case_no, "correction") == {"corrected_by": "王五", "pages_added": 3}

    shown = main_text(Browser(app, "market_clerk").get(f"/staff/cases/{case_no}"))
    answers = step_answers(shown, "补正材料")
    assert "补正经办人 王五" in answers and "补充页数 3" in answers
    assert "corrected_by" not in shown and "pages_added" not in shown


def test_a_migrated_case_says_so_and_keeps_the_labels_of_its_earlier_version(
        app: Flask, demo: ServiceContext, api: Any) -> None:
    case_no = str(apply(api, FOOD, FOOD_APPLY)["case_no"])
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    correct(api, case_no)  # on version 1, with forms/correction.form
    deploy(api, ("food_licence.bpmn", inline_model()))
    moved = api.post("/process-definitions/food_licence/migrations", "designer",
                     json={"from_version": 1, "to_version": 2, "cases": [case_no]})
    assert moved.status_code == 200 and moved.get_json()["migrated"] == 1, moved.get_json()

    clerk = Browser(app, "market_clerk")
    shown = main_text(clerk.get(f"/staff/cases/{case_no}"))
    assert "迁移到流程的另一版本" in shown and "migrated" not in shown
    # the correction was done on version 1: its values keep that version's labels, not version 2's fields
    answers = step_answers(shown, "补正材料")
    assert "补正说明 已补充签字" in answers and "已按补正告知补齐全部材料" in answers
    english = main_text(Browser(app, "market_clerk", lang="en").get(f"/staff/cases/{case_no}"))
    assert "Moved to another process version" in english and "migrated" not in english
