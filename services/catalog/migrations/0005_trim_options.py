"""trims list the extras a buyer may add, each at its price

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("trims", sa.Column("options", JSONB, nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("trims", "options")
