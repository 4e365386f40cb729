"""record identity key: the same perturbation in the same context imported from two files is one record

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Rows stored before this revision get their key on the next import (importers.fill_identity_keys):
    # the key is the application's function, and a migration must not change when the application does.
    with op.batch_alter_table('record') as batch:
        batch.add_column(sa.Column('identity_key', sa.String(), nullable=True))
    op.create_index('ix_record_identity_key', 'record', ['identity_key'])


def downgrade() -> None:
    op.drop_index('ix_record_identity_key', 'record')
    with op.batch_alter_table('record') as batch:
        batch.drop_column('identity_key')
