"""Forms deploy with their process: uploaded with the BPMN (several files or one zip), stored with the
version, and used by that version's cases whatever is deployed later."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import AuditEntry, User
from app.services.identity.principal import Principal
from tests.bpmn_builder import linear, user

from .flows import case, task_id

pytestmark = pytest.mark.usefixtures("demo")

MODEL = linear("site_visit", user("visit", "market.clerk", name="现场核查", formKey="visit.form"))
ITEM = {"code": "VISIT-1", "name": "现场核查", "type_code": "20", "department": "market",
        "case_kind": "promised", "promised_limit": 5, "process_key": "site_visit", "case_prefix": "SV"}


def form(*components: dict) -> bytes:
    return json.dumps({"type": "default", "id": "Form_visit", "components": list(components)},
                      ensure_ascii=False).encode()


NOTE = {"type": "textfield", "id": "Field_note", "key": "note", "label": "核查记录", "validate": {"required": True}}
SCORE = {"type": "number", "id": "Field_score", "key": "score", "label": "评分", "validate": {"required": True}}
V1, V2 = form(NOTE), form(NOTE, SCORE)


def deploy(api, *files: tuple[str, bytes], user: str = "designer"):
    return api.post("/process-definitions", user, content_type="multipart/form-data",
                    data={"file": [(io.BytesIO(content), name) for name, content in files]})


def zipped(*files: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


def new_case(api) -> str:
    resp = api.post("/cases", "company", json={"item_code": ITEM["code"], "data": {}})
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["case_no"])


def principal_of(ctx, username: str) -> Principal:
    with ctx.uow() as uow:
        return Principal.of(uow.session.scalars(select(User).where(User.username == username)).one())


def form_keys_of(api, case_no: str) -> list[str]:
    body = api.get(f"/tasks/{task_id(api, case_no, 'visit')}", "market_clerk").get_json()
    return [c["key"] for c in body["form"]["components"]]


def test_a_case_keeps_the_form_of_its_version_after_the_form_changes(api, ctx):
    first = deploy(api, ("site_visit.bpmn", MODEL), ("visit.form", V1))
    assert first.status_code == 201 and first.get_json()["version"] == 1, first.get_json()
    assert api.post("/items", "admin", json=ITEM).status_code == 201
    assert not (ctx.forms.forms_dir / "visit.form").exists()  # nothing came from the server's folder
    old = new_case(api)

    assert deploy(api, ("site_visit.bpmn", MODEL), ("visit.form", V1)).status_code == 200  # all the same
    second = deploy(api, ("site_visit.bpmn", MODEL), ("visit.form", V2))  # same BPMN, changed form
    assert second.status_code == 201 and second.get_json()["version"] == 2
    new = new_case(api)

    assert form_keys_of(api, old) == ["note"] and form_keys_of(api, new) == ["note", "score"]
    refused = api.post(f"/tasks/{task_id(api, new, 'visit')}/complete", "market_clerk", json={"data": {"note": "好"}})
    assert refused.status_code == 422 and [e["field"] for e in refused.get_json()["errors"]] == ["score"]
    done = api.post(f"/tasks/{task_id(api, old, 'visit')}/complete", "market_clerk", json={"data": {"note": "好"}})
    assert done.status_code == 200, done.get_json()
    assert case(api, old)["closed_at"] and case(api, new)["tasks"]

    stored = api.get("/process-definitions/site_visit/versions/1/forms/visit.form", "designer")
    assert stored.status_code == 200 and [c["key"] for c in stored.get_json()["components"]] == ["note"]
    assert api.get("/process-definitions/site_visit/versions/1/forms/visit.form", "market_clerk").status_code == 403
    assert api.get("/process-definitions/site_visit/versions/3/forms/visit.form", "designer").status_code == 404
    with ctx.uow() as uow:
        entries = uow.session.execute(select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_name)
                                      .order_by(AuditEntry.id)).all()
    assert [tuple(e) for e in entries if e[0] == "process.deploy" and e[1] == "site_visit"] == [
        ("process.deploy", "site_visit", "designer"), ("process.deploy", "site_visit", "designer")]


def test_a_zip_with_the_bpmn_and_its_forms_deploys(api):
    archive = zipped(("model/site_visit.bpmn", MODEL), ("model/forms/visit.form", V2), ("__MACOSX/._x", b"junk"))
    resp = deploy(api, ("site_visit.zip", archive))
    assert resp.status_code == 201, resp.get_json()
    assert api.post("/items", "admin", json=ITEM).status_code == 201
    assert form_keys_of(api, new_case(api)) == ["note", "score"]


def test_a_missing_form_is_a_400_naming_the_task_and_changes_nothing(api):
    resp = deploy(api, ("site_visit.bpmn", MODEL))
    assert resp.status_code == 400
    errors = resp.get_json()["errors"]
    assert [e["element_id"] for e in errors] == ["visit"] and "visit.form" in errors[0]["message"]
    assert api.get("/process-definitions/site_visit", "designer").status_code == 404


@pytest.mark.parametrize(("files", "named"), [
    ((("site_visit.bpmn", MODEL), ("visit.form", b'{"type": "default", "components": [')), "visit.form"),
    ((("site_visit.bpmn", MODEL), ("visit.form", form({"type": "nosuch", "key": "x", "id": "X"}))), "visit.form"),
    ((("site_visit.bpmn", MODEL), ("notes.txt", b"hello")), "notes.txt"),
    ((("a.bpmn", MODEL), ("b.bpmn", MODEL)), "a.bpmn"),
    ((("site_visit.zip", b"PK\x03\x04 not really"),), "zip"),
    ((("site_visit.zip", zipped(("../site_visit.bpmn", MODEL), ("visit.form", V1))),), "../site_visit.bpmn"),
    ((("site_visit.zip", zipped(("site_visit.bpmn", MODEL), ("big.form", b" " * (6 * 1024 * 1024)))),), "big.form"),
])
def test_bad_uploads_are_400s_naming_the_file(api, files, named):
    resp = deploy(api, *files)
    assert resp.status_code == 400, resp.get_json()
    assert named in json.dumps(resp.get_json(), ensure_ascii=False)
    assert api.get("/process-definitions/site_visit", "designer").status_code == 404


def test_a_zip_bomb_is_refused_before_it_is_inflated(api):
    bomb = zipped(("site_visit.bpmn", MODEL), ("visit.form", b"{" + b" " * (4 * 1024 * 1024) + b"}"))
    resp = deploy(api, ("bomb.zip", bomb))
    assert resp.status_code == 400 and "visit.form" in json.dumps(resp.get_json())


def test_only_admins_and_designers_deploy(api):
    assert deploy(api, ("site_visit.bpmn", MODEL), ("visit.form", V1), user="market_clerk").status_code == 403


def test_the_design_pages_read_a_version_and_check_a_form_as_deploy_does(api, ctx):
    from app.errors import Forbidden
    from app.services.casework import processes

    inline = (Path(__file__).parent / "data" / "inline_only.bpmn").read_bytes()
    definition_id = deploy(api, ("inline_only.bpmn", inline)).get_json()["id"]
    designer = principal_of(ctx, "designer")
    xml, forms = processes.version_files(ctx, designer, definition_id)
    assert 'id="inline_only"' in xml and sorted(forms) == ["inline:sign_off", "inline:site_check"]
    assert [c["key"] for c in json.loads(forms["inline:sign_off"])["components"]] == ["verdict", "sign_off_note"]
    with pytest.raises(Forbidden):
        processes.version_files(ctx, principal_of(ctx, "market_clerk"), definition_id)
    # What the modeler opens, sent back unchanged, is the same version.
    again = processes.deploy(ctx, designer, xml.encode(), "inline_only.bpmn", {k: v.encode() for k, v in forms.items()})
    assert [(d.version, d.created) for d in again] == [(1, False)]

    assert processes.check_form(ctx, V2, "visit.form") == []
    assert processes.check_form(ctx, b"{ nope", "visit.form")[0]["field"] == "file"
    unknown = processes.check_form(ctx, form({"type": "nosuch", "key": "x", "id": "X"}), "visit.form")
    assert unknown[0]["component"] and "nosuch" in unknown[0]["message"]
    reserved = processes.check_form(ctx, form({"type": "textfield", "key": "date", "id": "D"}), "visit.form")
    assert [p["field"] for p in reserved] == ["date"]
