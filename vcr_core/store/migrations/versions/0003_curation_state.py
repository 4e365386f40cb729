"""curation for a team: claim and trace state rows kept with the judgment log, trace leases

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'claim_state',
        sa.Column('claim_id', sa.Integer(), sa.ForeignKey('claim.id'), primary_key=True),
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('verdict', sa.String(), nullable=True),
        sa.Column('status', sa.String(), nullable=False, server_default='uncurated'),
        sa.Column('opinions', sa.JSON(), nullable=True),
        sa.Column('last_curator', sa.String(), nullable=True),
        sa.Column('last_judgment', sa.String(), nullable=True),
    )
    op.create_index('ix_claim_state_trace_id', 'claim_state', ['trace_id'])
    op.create_table(
        'trace_state',
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('status', sa.String(), nullable=False, server_default='uncurated'),
        sa.Column('opinions', sa.JSON(), nullable=True),
        sa.Column('curators', sa.JSON(), nullable=True),
        sa.Column('n_judgments', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_curator', sa.String(), nullable=True),
    )
    op.create_index('ix_trace_state_status', 'trace_state', ['status'])
    op.create_table(
        'trace_lease',
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), primary_key=True),
        sa.Column('curator', sa.String(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
    )
    op.create_index('ix_trace_lease_expires_at', 'trace_lease', ['expires_at'])
    # Curation rows of one trace are read in id order on every judgment.
    op.create_index('ix_curation_trace_id_id', 'curation', ['trace_id', 'id'])
    # Existing judgments get their state rows: the log is the truth.
    from vcr_core.curation import rebuild_state_on_connection
    rebuild_state_on_connection(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_curation_trace_id_id', table_name='curation')
    op.drop_table('trace_lease')
    op.drop_table('trace_state')
    op.drop_table('claim_state')
