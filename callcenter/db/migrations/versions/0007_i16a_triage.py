"""triage: citizen_request.district, landmark, triaged_at, version; category.keywords

Revision ID: 0007_i16a_triage
Revises: 0008_i20_messenger
Create Date: 2026-12-03 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0007_i16a_triage'
down_revision = '0008_i20_messenger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('citizen_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('landmark', sqlmodel.sql.sqltypes.AutoString(length=300),
                                      nullable=True))
        batch_op.add_column(sa.Column('triaged_at',
                                      callcenter.db.types.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('keywords')
    with op.batch_alter_table('citizen_request', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('triaged_at')
        batch_op.drop_column('landmark')
        batch_op.drop_column('district')
