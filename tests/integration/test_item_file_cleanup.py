"""Template and sample files uploaded for items are kept while a revision names them and removed by the
hourly clean-up once no revision does and the grace period is over (an upload whose draft was never
saved); the material files' sweep never touches them."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from app.jobs.ticks import JOBS, run_job

pytestmark = pytest.mark.usefixtures("demo")

FOOD = "420100-SCJG-001"


def pdf(text: str) -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n%%EOF\n"


def upload(api, content: bytes, name: str) -> dict:
    resp = api.post("/items/files", "admin", data={"file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def stored(ctx, sha256: str) -> Path:
    return Path(ctx.upload_dir) / "items" / sha256[:2] / sha256


def test_item_files_no_revision_names_are_removed_after_the_grace(app, api, ctx, clock):
    [job] = [j for j in JOBS if j.id == "files"]
    kept = upload(api, pdf("named by a draft"), "范本.pdf")
    abandoned = upload(api, pdf("form left unsaved"), "草稿.pdf")
    item = api.get(f"/items/{FOOD}", "admin").get_json()
    materials = item["materials"]
    materials[0]["template"] = {"sha256": kept["sha256"], "filename": "范本.pdf"}
    body = {k: item[k] for k in ("name", "type_code", "department", "case_kind", "statutory_limit",
                                 "promised_limit", "process_key", "case_prefix")}
    saved = api.post(f"/items/{FOOD}/revisions", "admin", json={**body, "materials": materials})
    assert saved.status_code == 200, saved.get_json()

    clock.advance(timedelta(hours=app.config["FILE_GRACE_HOURS"] - 1))
    run_job(app, job)
    assert stored(ctx, abandoned["sha256"]).is_file()  # still within the grace: an admin may be mid-form

    clock.advance(timedelta(hours=2))
    assert run_job(app, job) == 1
    assert not stored(ctx, abandoned["sha256"]).exists()
    assert stored(ctx, kept["sha256"]).is_file()  # the draft's template stays
