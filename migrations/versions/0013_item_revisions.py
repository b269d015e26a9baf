"""item_revisions: every change of an item is a numbered revision (draft, published, superseded);
cases.item_revision_id pins the revision a case started with. Backfill: each existing item gets a
published revision 1 of its current values, and its cases point at it.

Revision ID: 0013_item_revisions
Revises: 0011_audit_entries
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0013_item_revisions'
down_revision = '0011_audit_entries'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql')
# As app.models.item_revision.SNAPSHOT_FIELDS at the time of writing (a migration never imports
# code that may change later).
COLUMNS = ("name", "type_code", "legal_basis", "case_kind", "statutory_limit", "promised_limit", "limit_unit",
           "joint", "departments", "materials", "fees", "process_key", "form_key", "case_prefix", "yellow_ratio",
           "yellow_days")
GUIDE = ("implementing_agency", "accepting_agency", "acceptance_conditions", "result_name", "result_sample",
         "office_hours", "location", "phone", "complaint_channel")


def upgrade() -> None:
    op.create_table(
        'item_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('snapshot', JSON, nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_by_name', sa.String(length=64), nullable=False),
        sa.Column('created_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('published_by_name', sa.String(length=64), nullable=True),
        sa.Column('published_at', app.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_revisions_item_id_items')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_item_revisions_created_by_id_users')),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_item_revisions_published_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_item_revisions')),
    )
    op.create_index(op.f('ix_item_revisions_item_id'), 'item_revisions', ['item_id'], unique=False)
    op.create_index('uq_item_revisions_item_number', 'item_revisions', ['item_id', 'number'], unique=True)
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('item_revision_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_cases_item_revision_id_item_revisions'), 'item_revisions',
                                 ['item_revision_id'], ['id'])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    items = sa.table('items', sa.column('id'), sa.column('department_id'), sa.column('guide', JSON),
                     sa.column('updated_at', app.models.base.UtcDateTime(timezone=True)),
                     *(sa.column(c, JSON if c in ("departments", "materials") else None) for c in COLUMNS))
    departments = sa.table('departments', sa.column('id'), sa.column('code'))
    revisions = sa.table('item_revisions', sa.column('id'), sa.column('item_id'), sa.column('number'),
                         sa.column('state'), sa.column('snapshot', JSON), sa.column('created_by_name'),
                         sa.column('created_at', app.models.base.UtcDateTime(timezone=True)),
                         sa.column('published_by_name'),
                         sa.column('published_at', app.models.base.UtcDateTime(timezone=True)))
    cases = sa.table('cases', sa.column('item_id'), sa.column('item_revision_id'))
    codes = dict(bind.execute(sa.select(departments.c.id, departments.c.code)).all())
    for row in bind.execute(sa.select(items)).mappings().all():
        at = row['updated_at'] or datetime.now(UTC)
        bind.execute(revisions.insert().values(
            item_id=row['id'], number=1, state='published', snapshot=_snapshot(row, codes),
            created_by_name='migration', created_at=at, published_by_name='migration', published_at=at))
        revision_id = bind.execute(sa.select(revisions.c.id).where(revisions.c.item_id == row['id'],
                                                                   revisions.c.number == 1)).scalar_one()
        bind.execute(cases.update().where(cases.c.item_id == row['id']).values(item_revision_id=revision_id))


def _snapshot(row: Any, codes: dict[int, str]) -> dict[str, Any]:
    guide = row['guide'] or {}
    snapshot = {c: row[c] for c in COLUMNS}
    snapshot['joint'] = bool(snapshot['joint'])
    snapshot['department'] = codes.get(row['department_id'], '')
    snapshot.update({g: guide.get(g) or '' for g in GUIDE})
    snapshot['result_sample_file'] = None
    return snapshot


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint(op.f('fk_cases_item_revision_id_item_revisions'), type_='foreignkey')
        batch.drop_column('item_revision_id')
    op.drop_index('uq_item_revisions_item_number', table_name='item_revisions')
    op.drop_index(op.f('ix_item_revisions_item_id'), table_name='item_revisions')
    op.drop_table('item_revisions')
