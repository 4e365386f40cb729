"""statuses defined once: normalise judgment values that older code or imports wrote

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# statuses.LEGACY_JUDGMENTS, copied: a migration must not change when the application code does.
LEGACY_JUDGMENTS = {"back_to_review": "needs_review", "approved": "approve", "rejected": "reject"}


def upgrade() -> None:
    curation = sa.table("curation", sa.column("judgment", sa.String))
    for old, new in LEGACY_JUDGMENTS.items():
        op.execute(curation.update().where(curation.c.judgment == old).values(judgment=new))


def downgrade() -> None:
    pass  # the old values meant the same; nothing to undo
