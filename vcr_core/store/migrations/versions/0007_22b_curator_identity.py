"""curator identity: the name as typed kept beside the normalised key

Revision ID: 0006_22b
Revises: 0006_22a

``curation.curator`` holds the curator's key (NFKC, case-folded, invisible characters removed:
``kernel.identity.curator_key``); ``curation.curator_display`` the name as typed. Rows stored before
this revision keep their name in both (a migration must not change when the application's
normalisation does): the consensus state folds their spellings together when it is computed, so
``vcr db rebuild-state`` after the upgrade merges "Dora" and "dora".
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0006_22b'
down_revision: Union[str, None] = '0006_22a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('curation') as batch:
        batch.add_column(sa.Column('curator_display', sa.String(), nullable=True))
    op.execute("UPDATE curation SET curator_display = curator WHERE curator_display IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('curation') as batch:
        batch.drop_column('curator_display')
