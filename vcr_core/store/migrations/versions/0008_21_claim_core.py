"""claim core identity: grounded core, its grounding and the trace's scope keys on every claim; claims
decided by reuse of a judgment on the same core (claim_reuse)

Revision ID: 0006_21
Revises: 0006_22b
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0006_21'
down_revision: Union[str, None] = '0006_22b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Claims stored before this revision keep core = NULL here and get their core the first time the
    # library needs it (vcr_core.curation.core.identify_claims, called by every reuse read and judgment,
    # and by `vcr knowledge identify`): the core is computed from the gene and chemical vocabularies,
    # which are the application's, and a migration must not change when the application does (as 0005).
    with op.batch_alter_table('claim') as batch:
        batch.add_column(sa.Column('core', sa.String(), nullable=True))
        batch.add_column(sa.Column('grounding', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('pert_key', sa.String(), nullable=True))
        batch.add_column(sa.Column('cell_key', sa.String(), nullable=True))
    op.create_index('ix_claim_core', 'claim', ['core'])
    op.create_table(
        'claim_reuse',
        sa.Column('claim_id', sa.Integer(), sa.ForeignKey('claim.id'), primary_key=True),
        sa.Column('trace_id', sa.Integer(), sa.ForeignKey('trace.id'), nullable=False),
        sa.Column('core', sa.String(), nullable=False),
        sa.Column('status', sa.String(), nullable=False, server_default='decided'),
        sa.Column('verdict', sa.String(), nullable=True),
        sa.Column('source', sa.JSON(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_index('ix_claim_reuse_trace_id', 'claim_reuse', ['trace_id'])
    op.create_index('ix_claim_reuse_core', 'claim_reuse', ['core'])


def downgrade() -> None:
    op.drop_index('ix_claim_reuse_core', 'claim_reuse')
    op.drop_index('ix_claim_reuse_trace_id', 'claim_reuse')
    op.drop_table('claim_reuse')
    op.drop_index('ix_claim_core', 'claim')
    with op.batch_alter_table('claim') as batch:
        for col in ('cell_key', 'pert_key', 'grounding', 'core'):
            batch.drop_column(col)
