"""users.email, users.must_change_password (an administrator chose the password: the user picks their own
at the next sign-in), users.disabled_at (when an administrator disabled the account)

Revision ID: 0014_organisation
Revises: 0011_audit_entries
Create Date: 2026-12-03 13:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0014_organisation'
down_revision = '0011_audit_entries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('disabled_at', app.models.base.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('email')
