"""the verification cache's index leaves out the curated verifier's verdicts (a judgment writes one per claim it
decides, at random places of a (claim hash, verifier, version) index; they are never looked up by hash)

Revision ID: 0009_21
Revises: 0006_21
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0009_21'
down_revision: Union[str, None] = '0006_21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# As written in vcr_core.store.models.CACHED_VERDICTS at this revision (a migration must not change later).
_WHERE = "verifier != 'curated'"


def upgrade() -> None:
    op.drop_index('ix_verdict_cache', table_name='verdict')
    op.create_index('ix_verdict_cache', 'verdict', ['claim_hash', 'verifier', 'version'],
                    sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE))


def downgrade() -> None:
    op.drop_index('ix_verdict_cache', table_name='verdict')
    op.create_index('ix_verdict_cache', 'verdict', ['claim_hash', 'verifier', 'version'])
