"""Upgrading a database deployed before forms were stored with their versions: the inline fields of the
versions already deployed become stored forms, so their running cases get the form at once; their
formKeys are still read from the forms/ folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, text

from app import create_app
from app.cli.db import upgrade_database
from app.models import ProcessDefinition
from app.models.process import ProcessForm
from app.services.casework import process_forms
from tests.bpmn_builder import linear, user
from tests.conftest import make_config, truncate, wipe

INLINE = (Path(__file__).parent / "data" / "inline_only.bpmn").read_text(encoding="utf-8")
FORM_KEY = linear("old_form_key", user("review", "market.clerk", formKey="review.form")).decode()


def test_upgrade_stores_the_inline_forms_of_versions_already_deployed(db_url, clock):
    app = create_app(make_config(db_url), clock=clock)
    ctx = app.extensions["banjian"]
    try:
        with app.app_context():
            if ctx.db.is_postgres:  # the test schema outlives a test: take it back to before 0012
                upgrade_database()
                truncate(app, reseed=False)
                with ctx.db.engine.begin() as conn:
                    conn.execute(text("DROP TABLE process_forms"))
                    conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0012_process_forms'"))
                    if not conn.scalar(text("SELECT count(*) FROM alembic_version")):  # 0012 was the only head
                        conn.execute(text("INSERT INTO alembic_version VALUES ('0011_audit_entries')"))
            else:
                upgrade_database("0011_audit_entries")
            with ctx.db.engine.begin() as conn:
                for key, xml in (("inline_only", INLINE), ("old_form_key", FORM_KEY)):
                    conn.execute(insert(ProcessDefinition.__table__).values(
                        key=key, version=1, name=key, filename=f"{key}.bpmn", content_hash="0" * 64, bpmn_xml=xml,
                        forms=["review.form"] if key == "old_form_key" else [], called={},
                        deployed_at=datetime(2026, 1, 1, tzinfo=UTC)))
            upgrade_database()
        with ctx.uow() as uow:
            s = uow.session
            ids = {k: i for k, i in s.execute(select(ProcessDefinition.key, ProcessDefinition.id))}
            stored = sorted(tuple(r) for r in s.execute(select(ProcessForm.definition_id, ProcessForm.form_key)))
            assert stored == [(ids["inline_only"], "inline:sign_off"), (ids["inline_only"], "inline:site_check")]
            site_check = process_forms.inline_form(ctx, s, ids["inline_only"], "site_check")
            assert site_check is not None and "visit_date" in site_check.field_keys()
            review = process_forms.form_of(ctx, s, ids["old_form_key"], "review.form")  # from the folder
            assert "review_result" in review.field_keys()
    finally:
        wipe(app)
