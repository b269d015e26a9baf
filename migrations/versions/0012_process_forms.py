"""process_forms: the forms deployed with each process-definition version (form files and inline
camunda:formData converted to form-js), so a case keeps the forms its version was deployed with

Revision ID: 0012_process_forms
Revises: 0011_audit_entries
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_process_forms'
down_revision = '0011_audit_entries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions deployed before this table have no rows here; their formKeys are still read from the
    # forms/ folder (see processes.stored_form), as they always were.
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


def downgrade() -> None:
    op.drop_table('process_forms')
