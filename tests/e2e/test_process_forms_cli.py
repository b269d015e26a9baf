"""`flask bpmn deploy` takes form files with the BPMN: named on the command line, in a folder named, or
lying next to the BPMN file; a missing form is one line naming the task and a non-zero exit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import ProcessDefinition
from app.models.process import ProcessForm
from tests.bpmn_builder import linear, user

MODEL = linear("cli_visit", user("visit", "market.clerk", formKey="visit.form"))
FORM = {"type": "default", "id": "Form_visit", "components": [
    {"type": "textfield", "id": "Field_note", "key": "note", "label": "核查记录"}]}


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def stored(ctx) -> dict[int, dict[str, str]]:
    with ctx.uow() as uow:
        rows = uow.session.execute(select(ProcessDefinition.version, ProcessForm.form_key, ProcessForm.content)
                                   .join(ProcessForm, ProcessForm.definition_id == ProcessDefinition.id)
                                   .where(ProcessDefinition.key == "cli_visit")).all()
    found: dict[int, dict[str, str]] = {}
    for version, key, content in rows:
        found.setdefault(version, {})[key] = content
    return found


def test_forms_next_to_the_bpmn_or_named_deploy_with_it(cli, ctx, tmp_path):
    models, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    models.mkdir(), elsewhere.mkdir()
    (models / "cli_visit.bpmn").write_bytes(MODEL)
    (models / "visit.form").write_text(json.dumps(FORM), encoding="utf-8")
    (models / "unrelated.json").write_text("{ not a form", encoding="utf-8")  # not named by the model: ignored

    first = cli.invoke(args=["bpmn", "deploy", str(models / "cli_visit.bpmn")])
    assert first.exit_code == 0, first.output
    assert "cli_visit v1 deployed" in first.output
    assert json.loads(stored(ctx)[1]["visit.form"]) == FORM

    changed = {**FORM, "components": [*FORM["components"], {"type": "number", "id": "N", "key": "n", "label": "n"}]}
    (elsewhere / "visit.form").write_text(json.dumps(changed), encoding="utf-8")
    second = cli.invoke(args=["bpmn", "deploy", str(models), str(elsewhere / "visit.form")])  # named wins
    assert second.exit_code == 0 and "cli_visit v2 deployed" in second.output, second.output
    again = cli.invoke(args=["bpmn", "deploy", str(models / "cli_visit.bpmn"), str(elsewhere)])
    assert again.exit_code == 0 and "cli_visit v2 unchanged" in again.output, again.output
    assert json.loads(stored(ctx)[2]["visit.form"]) == changed and set(stored(ctx)) == {1, 2}


def test_a_missing_form_is_one_line_naming_the_task(cli, ctx, tmp_path):
    (tmp_path / "cli_visit.bpmn").write_bytes(MODEL)
    result = cli.invoke(args=["bpmn", "deploy", str(tmp_path)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "visit" in lines[0] and "visit.form" in lines[0], result.output
    assert stored(ctx) == {}
    lint = cli.invoke(args=["bpmn", "lint", str(tmp_path)])
    assert lint.exit_code != 0 and "visit: " in lint.output


def test_a_bad_form_file_is_one_line_naming_it(cli, tmp_path):
    (tmp_path / "cli_visit.bpmn").write_bytes(MODEL)
    (tmp_path / "visit.form").write_text('{"type": "default", "components": [}', encoding="utf-8")
    result = cli.invoke(args=["bpmn", "deploy", str(tmp_path)])
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1
    assert "visit.form" in result.output and "invalid JSON" in result.output
