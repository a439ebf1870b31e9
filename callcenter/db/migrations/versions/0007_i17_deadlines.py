"""deadlines: category.deadline_basis (calendar | working), escalation rows (issue 17)

Revision ID: 0007_i17_deadlines
Revises: 0007_i15b_reports
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0007_i17_deadlines'
down_revision = '0007_i15b_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_basis', sqlmodel.sql.sqltypes.AutoString(length=8),
                                      nullable=False, server_default='calendar'))
    op.create_table('escalation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Float(), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['citizen_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', name='uq_escalation_key')
    )
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_request_id'), ['request_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_request_id'))
    op.drop_table('escalation')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('deadline_basis')
