"""scale-out: job leases (fencing) and rate limits shared across processes

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # The lease (epoch) of a job: raised on every claim, checked on every write its worker makes.
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease', sa.Integer(), nullable=False, server_default='0'))
    # One schedule per rate-limited key (a web host or a model provider), shared by every process:
    # the earliest start of the next request (epoch seconds), moved on atomically by each request.
    op.create_table('ratebucket',
                    sa.Column('key', sa.String(), nullable=False),
                    sa.Column('next_at', sa.Float(), nullable=False, server_default='0'),
                    sa.Column('paused_until', sa.Float(), nullable=False, server_default='0'),
                    sa.PrimaryKeyConstraint('key'))
    # Calls in flight per key (cluster-wide concurrency cap); a slot expires if its holder dies.
    op.create_table('rateslot',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('key', sa.String(), nullable=False),
                    sa.Column('holder', sa.String(), nullable=False),
                    sa.Column('acquired_at', sa.Float(), nullable=False),
                    sa.Column('expires_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_rateslot_key', 'rateslot', ['key'])


def downgrade() -> None:
    op.drop_index('ix_rateslot_key', table_name='rateslot')
    op.drop_table('rateslot')
    op.drop_table('ratebucket')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('lease')
