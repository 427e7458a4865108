"""until when the instance holding a queued card payment's number in memory vouches for it (it
renews this on every pass of its queue); another instance cancels an old queued payment as
orphaned only once this has passed

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("card_held_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("payments", "card_held_until")
