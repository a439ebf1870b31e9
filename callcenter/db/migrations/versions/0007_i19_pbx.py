"""i19 pbx: call.pbx with (pbx, linkedid) unique instead of linkedid alone; the event
bus's cluster_event table; agent_presence (the agents' current presence shared by
every instance); rate_bucket and login_failure (the limiters shared by every instance) - issue 19

Revision ID: 0007_i19_pbx
Revises: 0007_i17_deadlines
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0007_i19_pbx'
down_revision = '0007_i17_deadlines'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pbx', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      server_default='default', nullable=False))
        batch_op.drop_index(batch_op.f('ix_call_linkedid'))
        batch_op.create_index(batch_op.f('ix_call_linkedid'), ['linkedid'], unique=False)
        batch_op.create_unique_constraint('uq_call_pbx_linkedid', ['pbx', 'linkedid'])
    op.create_table('cluster_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('created_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cluster_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_event_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_cluster_event_created_at'), ['created_at'],
                              unique=False)
    op.create_table('agent_presence',
    sa.Column('extension', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('since', sa.Float(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('caller', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('linkedid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('extension')
    )
    op.create_table('rate_bucket',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('stamp', sa.Float(), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_key_at', ['key', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_key_at')
    op.drop_table('login_failure')
    op.drop_table('rate_bucket')
    op.drop_table('agent_presence')
    with op.batch_alter_table('cluster_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_event_created_at'))
        batch_op.drop_index(batch_op.f('ix_cluster_event_agent'))
    op.drop_table('cluster_event')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_constraint('uq_call_pbx_linkedid', type_='unique')
        batch_op.drop_index(batch_op.f('ix_call_linkedid'))
        batch_op.create_index(batch_op.f('ix_call_linkedid'), ['linkedid'], unique=True)
        batch_op.drop_column('pbx')
