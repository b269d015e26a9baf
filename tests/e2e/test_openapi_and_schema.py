"""The OpenAPI document describes the API; the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.models import Base


def test_openapi_document(api):
    doc = api.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/auth/token", "/process-definitions", "/process-definitions/{key}", "/items", "/items/{code}",
            "/cases", "/cases/{case_no}", "/cases/{case_no}/withdraw", "/tasks", "/tasks/{id}/claim", "/tasks/{id}/unclaim",
            "/tasks/{id}/complete"} <= set(doc["paths"])  # later issues add their own paths
    item = doc["components"]["schemas"]["ItemBody"]
    assert {"code", "name", "type_code", "case_prefix", "promised_limit", "process_key"} <= set(item["required"])
    assert item["properties"]["type_code"]["enum"][0] == "01"
    assert item["properties"]["complaint_channel"]["type"] == "string"


def test_unknown_api_paths_answer_json(api):
    resp = api.get("/nothing-here")
    assert resp.status_code == 404 and resp.get_json()["errors"][0]["message"]
    assert api.client.delete("/api/v1/items").status_code == 405


def test_migrations_match_the_models(ctx):
    with ctx.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_landing_page_lists_items(app, demo):
    page = app.test_client().get("/")
    assert page.status_code == 200
    assert "食品经营许可" in page.get_data(as_text=True)
