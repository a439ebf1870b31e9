"""followups: contact_attempt (every contact decision) and task.dedupe_key

Revision ID: 0004_followups
Revises: 0002_intake
Create Date: 2026-11-28 12:59:54.252251
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0004_followups'
down_revision = '0002_intake'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_attempt_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_attempt_citizen_id'), ['citizen_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_contact_attempt_task_id'), ['task_id'], unique=False)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=80),
                                      nullable=True))
        batch_op.create_unique_constraint('uq_task_dedupe_key', ['dedupe_key'])



def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_constraint('uq_task_dedupe_key', type_='unique')
        batch_op.drop_column('dedupe_key')

    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_attempt_task_id'))
        batch_op.drop_index(batch_op.f('ix_contact_attempt_citizen_id'))
        batch_op.drop_index(batch_op.f('ix_contact_attempt_at'))

    op.drop_table('contact_attempt')
