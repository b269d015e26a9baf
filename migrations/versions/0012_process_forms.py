"""process_forms: the forms deployed with each process-definition version (form files and inline
camunda:formData converted to form-js), so a case keeps the forms its version was deployed with

Revision ID: 0012_process_forms
Revises: 0011_audit_entries
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0012_process_forms'
down_revision = '0011_audit_entries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions deployed before this table keep reading their formKeys from the forms/ folder, as they
    # always did (process_forms.form_of); their inline fields are stored below, so that their running
    # cases get the form a new deploy would give them.
    op.create_table(
        'process_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('form_key', sa.String(length=255), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['definition_id'], ['process_definitions.id'],
                                name=op.f('fk_process_forms_definition_id_process_definitions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_process_forms')),
        sa.UniqueConstraint('definition_id', 'form_key', name='uq_process_forms_definition_key'),
    )
    _store_inline_forms()


def _store_inline_forms() -> None:
    from app.forms import FormDefinitionError, form_from_camunda_fields, parse_form
    from app.services.casework.process_forms import inline_fields, inline_key

    definitions = sa.table('process_definitions', sa.column('id', sa.Integer), sa.column('bpmn_xml', sa.Text))
    forms = sa.table('process_forms', sa.column('definition_id', sa.Integer), sa.column('form_key', sa.String),
                     sa.column('content', sa.Text), sa.column('content_hash', sa.String))
    bind = op.get_bind()
    rows = []
    for definition_id, xml in bind.execute(sa.select(definitions.c.id, definitions.c.bpmn_xml)).all():
        for task_id, fields in inline_fields((xml or '').encode('utf-8')).items():
            try:
                form = form_from_camunda_fields(fields, form_id=f'inline-{task_id}')
                parse_form(form, key=inline_key(task_id))
            except FormDefinitionError:
                continue  # as before: the step takes no data
            text = json.dumps(form, ensure_ascii=False, sort_keys=True)
            rows.append({'definition_id': definition_id, 'form_key': inline_key(task_id), 'content': text,
                         'content_hash': hashlib.sha256(text.encode('utf-8')).hexdigest()})
    if rows:
        op.bulk_insert(forms, rows)


def downgrade() -> None:
    op.drop_table('process_forms')
