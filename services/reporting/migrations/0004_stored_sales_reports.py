"""sales reports kept for the record, with the figures they were made with

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from services.kit.idempotency import request_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_sales_reports",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("split_by", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("figures", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        request_column("idempotency_request"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="stored_sales_reports_one_per_idempotency_key"),
    )
    op.create_index("stored_sales_reports_listing", "stored_sales_reports", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("stored_sales_reports")
