"""users.session_version: signing out (or a password change) bumps it, which ends every session and API
token issued before; rate_limit_hits.expires_at: each counted attempt is pruned when its own limit's
window has passed (sign-in, registration and tracking limits share the table)

Revision ID: 0008_session_version
Revises: 0007
Create Date: 2026-12-03 11:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.models.base

revision = '0008_session_version'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', app.models.base.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE rate_limit_hits SET expires_at = at")  # old rows: expired, pruned on the next attempt
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=app.models.base.UtcDateTime(timezone=True),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_rate_limit_hits_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_hits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_hits_expires_at'))
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
