"""h20: bot messages are claimed before a send (several instances send each once)

Revision ID: 0009_h20_bot_message_claims
Revises: 0007_i19_pbx
Create Date: 2026-12-03 15:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import callcenter.db.types

revision = '0009_h20_bot_message_claims'
down_revision = '0007_i19_pbx'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bot_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=80),
                                      nullable=True))
        batch_op.add_column(sa.Column('claimed_until',
                                      callcenter.db.types.UtcDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bot_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
