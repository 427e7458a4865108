"""saved insurance quotes, outbox and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("premium", sa.Numeric(14, 2), nullable=False),
        sa.Column("tariff_version", sa.Text, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("quote", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.CheckConstraint("premium >= 0", name="quotes_premium_not_negative"),
        sa.CheckConstraint("product IN ('osago', 'kasko', 'life', 'health')", name="quotes_product_known"),
    )
    op.create_index("quotes_listing", "quotes", ["created_at", "id"])
    op.create_index("quotes_of_customer", "quotes", ["customer", "created_at", "id"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "quotes"):
        op.drop_table(table)
