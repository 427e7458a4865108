"""the day each policy's holder was told it ends soon, so that they are told once

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("policies", sa.Column("expiry_notice_on", sa.Date))


def downgrade() -> None:
    op.drop_column("policies", "expiry_notice_on")
