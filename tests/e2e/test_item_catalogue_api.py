"""The item catalogue's change management through the API: drafts checked field by field, published by
a second administrator (or an author with the publish right), the guide and new cases on the published
revision, running cases on the one they started with, template files, 403 for everyone else, audit."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from app.models import GUIDE_FIELDS
from app.services import audit
from app.services.identity import users

from .flows import ACCEPT, FOOD, FOOD_APPLY, PASS, apply, complete

pytestmark = pytest.mark.usefixtures("demo")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
BODY_FIELDS = ("name", "type_code", "department", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
               "limit_unit", "joint", "departments", "materials", "fees", "process_key", "form_key", "case_prefix",
               "yellow_ratio", "yellow_days", *GUIDE_FIELDS)


@pytest.fixture
def admin2(demo):
    users.create_user(demo, "admin2", "demo1234", "admin", full_name="第二管理员")
    return "admin2"


def body_of(api, code: str = FOOD, **changes: Any) -> dict[str, Any]:
    item = api.get(f"/items/{code}", "admin").get_json()
    return {**{k: item[k] for k in BODY_FIELDS}, **changes}


def new_item(**changes: Any) -> dict[str, Any]:
    return {"code": "420100-TEST-001", "name": "测试事项", "type_code": "01", "department": "market",
            "case_kind": "promised", "statutory_limit": 20, "promised_limit": 10, "process_key": "food_licence",
            "form_key": "food-licence-apply.form", "case_prefix": "CSSX",
            "materials": [{"name": "申请书", "required": True, "description": "签字盖章"}], **changes}


def fields_of(resp) -> set[str]:
    return {e.get("field") for e in resp.get_json()["errors"]}


def decision_deadline(api, case_no: str) -> str:
    clocks = api.get(f"/cases/{case_no}/clocks", "admin").get_json()["clocks"]
    return next(c["deadline"] for c in clocks if c["kind"] == "decision")


def test_rules_name_their_fields_and_change_nothing(api):
    bad = api.post("/items/drafts", "admin", json=new_item(promised_limit=25))
    assert bad.status_code == 400 and fields_of(bad) == {"promised_limit"}
    assert "法定时限" in bad.get_json()["errors"][0]["message"]
    bad = api.post("/items/drafts", "admin", json=new_item(department="nowhere", departments=["mars"],
                                                           process_key="never_deployed", case_prefix="SPJY"))
    assert fields_of(bad) == {"department", "departments", "process_key", "case_prefix"}
    # construction_permit routes to ${department}.approver: the service centre has no approver group
    bad = api.post("/items/drafts", "admin", json=new_item(
        process_key="construction_permit", form_key=None, joint=True, departments=["fire", "service_center"]))
    assert bad.status_code == 400 and fields_of(bad) == {"departments"}
    assert "service_center.approver" in bad.get_json()["errors"][0]["message"]
    assert api.get("/items/420100-TEST-001", "admin").status_code == 404  # nothing was saved
    bad = api.post(f"/items/{FOOD}/revisions", "admin", json=body_of(api, promised_limit=30))
    assert bad.status_code == 400 and fields_of(bad) == {"promised_limit"}
    assert api.get(f"/items/{FOOD}/revisions", "admin").get_json()["revisions"][0]["state"] == "published"


def test_a_new_item_is_a_draft_until_a_second_admin_publishes_it(api, app, admin2):
    created = api.post("/items/drafts", admin2, json=new_item())  # admin2 has no publish right
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["number"] == 1 and created.get_json()["state"] == "draft"
    guide = app.test_client()
    assert guide.get("/items/420100-TEST-001").status_code == 404  # not in the guide
    assert api.post("/cases", "company", json={"item_code": "420100-TEST-001", "data": FOOD_APPLY}).status_code == 404
    assert api.post("/items/420100-TEST-001/activate", admin2).status_code == 409  # never published
    refused = api.post("/items/420100-TEST-001/revisions/1/publish", admin2)
    assert refused.status_code == 403 and "publish" in refused.get_json()["errors"][0]["message"]
    published = api.post("/items/420100-TEST-001/revisions/1/publish", "admin")
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["published_by"] == "admin"
    page = guide.get("/items/420100-TEST-001")
    assert page.status_code == 200 and "测试事项" in page.get_data(as_text=True)
    assert api.post("/items/420100-TEST-001/revisions/1/publish", admin2).status_code == 409  # not a draft


def test_publishing_at_once_through_the_scripted_writes_needs_the_publish_right(api, admin2):
    """POST and PUT /items save and publish in one call: no second pair of eyes, so only an
    administrator with the publish right may use them; the others draft."""
    refused = api.post("/items", admin2, json=new_item())
    assert refused.status_code == 403 and "publish" in refused.get_json()["errors"][0]["message"]
    assert api.get("/items/420100-TEST-001", "admin").status_code == 404
    changed = api.put(f"/items/{FOOD}", admin2, json=body_of(api, fees="工本费 10 元"))
    assert changed.status_code == 403 and api.get(f"/items/{FOOD}").get_json()["fees"] != "工本费 10 元"
    assert api.post("/items", "admin", json=new_item()).status_code == 201  # the demo admin holds the right


def test_the_guide_shows_the_published_revision_until_the_draft_is_published(api, app, admin2):
    draft = api.post(f"/items/{FOOD}/revisions", "admin", json=body_of(api, name="食品经营许可（新）"))
    assert draft.status_code == 200 and draft.get_json()["number"] == 2
    guide = app.test_client()
    assert "食品经营许可（新）" not in guide.get(f"/items/{FOOD}").get_data(as_text=True)
    assert api.get(f"/items/{FOOD}").get_json()["name"] == "食品经营许可"
    assert api.post(f"/items/{FOOD}/revisions/2/publish", admin2).status_code == 200
    assert "食品经营许可（新）" in guide.get(f"/items/{FOOD}").get_data(as_text=True)
    history = api.get(f"/items/{FOOD}/revisions", "admin").get_json()["revisions"]
    assert [(r["number"], r["state"]) for r in history] == [(2, "published"), (1, "superseded")]
    assert history[0]["changes"] == [{"field": "name", "before": "食品经营许可", "after": "食品经营许可（新）"}]


def test_the_author_with_the_publish_right_publishes_alone(api, demo):
    users.create_user(demo, "chief", "demo1234", "admin", ["publish"])
    assert api.post(f"/items/{FOOD}/revisions", "chief", json=body_of(api, fees="工本费 10 元")).status_code == 200
    assert api.post(f"/items/{FOOD}/revisions/2/publish", "chief").status_code == 200
    assert api.get(f"/items/{FOOD}").get_json()["fees"] == "工本费 10 元"


def test_a_running_case_keeps_the_limits_it_started_with(api, admin2, clock):
    before = apply(api, FOOD, FOOD_APPLY)["case_no"]  # on revision 1: promised 10 working days
    assert api.post(f"/items/{FOOD}/revisions", "admin", json=body_of(api, promised_limit=5)).status_code == 200
    assert api.post(f"/items/{FOOD}/revisions/2/publish", admin2).status_code == 200
    after = apply(api, FOOD, FOOD_APPLY)["case_no"]  # on revision 2: 5 working days
    for case_no in (before, after):  # both accepted on Monday 2026-11-23, after the change
        complete(api, case_no, "preview", "market_clerk", PASS)
        complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    assert decision_deadline(api, before)[:10] == date(2026, 12, 7).isoformat()
    assert decision_deadline(api, after)[:10] == date(2026, 11, 30).isoformat()


def test_template_files_are_offered_in_the_guide_once_published(api, app, admin2):
    upload = api.post("/items/files", "admin", data={"file": (io.BytesIO(PDF), "申请书范本.pdf")},
                      content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    ref = upload.get_json()
    assert ref["content_type"] == "application/pdf" and ref["size"] == len(PDF)
    sample = api.post("/items/files", "admin", data={"file": (io.BytesIO(PNG), "许可证样本.png")},
                      content_type="multipart/form-data").get_json()
    body = body_of(api)
    body["materials"][0]["template"] = {"sha256": ref["sha256"], "filename": "申请书范本.pdf"}
    body["result_sample_file"] = {"sha256": sample["sha256"], "filename": "许可证样本.png"}
    assert api.post(f"/items/{FOOD}/revisions", "admin", json=body).status_code == 200
    public = app.test_client()
    assert public.get(f"/items/{FOOD}/files/{ref['sha256']}").status_code == 404  # a draft's file
    assert api.post(f"/items/{FOOD}/revisions/2/publish", admin2).status_code == 200
    download = public.get(f"/items/{FOOD}/files/{ref['sha256']}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    through_api = api.get(f"/items/{FOOD}/files/{ref['sha256']}")
    assert through_api.data == PDF
    through_api.close()
    guide = public.get(f"/items/{FOOD}").get_data(as_text=True)
    assert f"/items/{FOOD}/files/{ref['sha256']}" in guide and f"/items/{FOOD}/files/{sample['sha256']}" in guide
    result = public.get(f"/items/{FOOD}/files/{sample['sha256']}")
    assert result.data == PNG and result.mimetype == "image/png"
    result.close()
    assert api.post(f"/items/{FOOD}/deactivate", "admin").status_code == 200
    assert public.get(f"/items/{FOOD}/files/{ref['sha256']}").status_code == 404  # withdrawn item


def test_bad_files_are_refused_by_their_bytes(api):
    html = api.post("/items/files", "admin", data={"file": (io.BytesIO(b"<html>hi</html>"), "form.pdf")},
                    content_type="multipart/form-data")
    assert html.status_code == 400 and fields_of(html) == {"file"}
    body = body_of(api)
    body["materials"][0]["sample"] = {"sha256": "0" * 64, "filename": "x.pdf"}
    missing = api.post(f"/items/{FOOD}/revisions", "admin", json=body)
    assert missing.status_code == 400 and fields_of(missing) == {"materials.0.sample"}


@pytest.mark.parametrize("user", ["market_clerk", "designer", "supervisor", "citizen"])
def test_everyone_but_admins_is_refused(api, user):
    calls = [("post", "/items/drafts", new_item()), ("get", f"/items/{FOOD}/revisions", None),
             ("post", f"/items/{FOOD}/revisions", body_of(api)), ("post", f"/items/{FOOD}/revisions/1/publish", None),
             ("post", f"/items/{FOOD}/activate", None), ("post", f"/items/{FOOD}/deactivate", None),
             ("post", "/items/files", None)]
    for method, path, body in calls:
        resp = getattr(api, method)(path, user, json=body) if body else getattr(api, method)(path, user)
        assert resp.status_code == 403, (path, resp.get_json())
    assert api.get(f"/items/{FOOD}").get_json()["active"] is True


def test_every_change_is_audited(api, ctx, admin2):
    api.post(f"/items/{FOOD}/revisions", "admin", json=body_of(api, promised_limit=8))
    api.post(f"/items/{FOOD}/revisions/2/publish", admin2)
    api.post(f"/items/{FOOD}/deactivate", "admin")
    api.post(f"/items/{FOOD}/activate", "admin")
    rows = audit.search(ctx, _admin(ctx), audit.AuditFilter(object_type="item", object_id=FOOD)).items
    assert [(r.action, r.actor) for r in rows][:4] == [
        ("item.activate", "admin"), ("item.deactivate", "admin"), ("item.publish", "admin2"), ("item.revise", "admin")]
    assert rows[3].before == {"promised_limit": 10} and rows[3].after == {"promised_limit": 8}
    assert rows[2].after == {"promised_limit": 8}


def _admin(ctx):
    from sqlalchemy import select

    from app.models import User
    from app.services.identity.principal import Principal

    with ctx.uow() as uow:
        return Principal.of(uow.session.scalars(select(User).where(User.username == "admin")).one())


def test_the_migration_gives_every_item_a_published_revision_and_pins_its_cases(api, ctx):
    """The backfill of 0013 on a database from before revisions: revision 1 of each item's values, its
    cases pointed at it (the rows revisions added since are removed first, as if they had never been)."""
    import importlib
    import json

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import text

    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    migration = importlib.import_module("migrations.versions.0013_item_revisions")
    with ctx.db.engine.begin() as connection:
        connection.execute(text("UPDATE cases SET item_revision_id = NULL"))
        connection.execute(text("DELETE FROM item_revisions"))
        with Operations.context(MigrationContext.configure(connection)):
            migration._backfill()
    with ctx.db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT i.code, r.number, r.state, r.snapshot FROM item_revisions r JOIN items i ON i.id = r.item_id"
        )).all()
        pinned = connection.execute(text(
            "SELECT r.number FROM cases c JOIN item_revisions r ON r.id = c.item_revision_id WHERE c.case_no = :n"),
            {"n": case_no}).scalar()
    assert {(code, number, state) for code, number, state, _s in rows} >= {(FOOD, 1, "published")}
    assert len({code for code, *_rest in rows}) == len(rows) == 7  # one per demo item (the rectification item too)
    food = next(snap for code, _n, _st, snap in rows if code == FOOD)
    food = food if isinstance(food, dict) else json.loads(food)
    assert food["promised_limit"] == 10 and food["department"] == "market" and food["materials"][0]["name"]
    assert pinned == 1
    # and the catalogue goes on from there
    assert api.post(f"/items/{FOOD}/revisions", "admin", json=body_of(api, promised_limit=9)).get_json()["number"] == 2
