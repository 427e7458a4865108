"""the steps of sampled traces: a record's duration

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
    op.add_column("log_records", sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("log_records", "duration_ms")
