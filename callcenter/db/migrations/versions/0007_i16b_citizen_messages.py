"""citizen messages: citizen_message (durable outbound SMS and other channels)

Revision ID: 0007_i16b_citizen_messages
Revises: 0008_i13b_open_requests
Create Date: 2026-12-03 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0007_i16b_citizen_messages'
down_revision = '0008_i13b_open_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('citizen_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', callcenter.db.types.UtcDateTime(timezone=True),
              nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('claimed_until', callcenter.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('created_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', callcenter.db.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['citizen_request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('citizen_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citizen_message_channel'), ['channel'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_citizen_message_next_attempt_at'),
                              ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_citizen_message_request_id'), ['request_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_citizen_message_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('citizen_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citizen_message_state'))
        batch_op.drop_index(batch_op.f('ix_citizen_message_request_id'))
        batch_op.drop_index(batch_op.f('ix_citizen_message_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_citizen_message_channel'))
    op.drop_table('citizen_message')
