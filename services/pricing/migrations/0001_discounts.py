"""discounts, redemptions, outbox and consumed events

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

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "discounts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True)),
        sa.Column("valid_until", sa.DateTime(timezone=True)),
        sa.Column("scope", JSONB, nullable=False),
        sa.Column("stackable", sa.Boolean, nullable=False),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("code", sa.Text, unique=True),
        sa.Column("usage_limit", sa.Integer, nullable=False),
        sa.Column("per_customer_limit", sa.Integer, nullable=False),
        sa.Column("used_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('percentage', 'fixed')", name="discounts_kind_known"),
        sa.CheckConstraint("value > 0", name="discounts_value_positive"),
        # The limit is the database's to keep, whatever the code in front of it does.
        sa.CheckConstraint("usage_limit = 0 OR used_count <= usage_limit", name="discounts_within_limit"),
        sa.CheckConstraint("automatic <> (code IS NOT NULL) OR deleted", name="discounts_code_or_automatic"),
    )
    op.create_index("discounts_listing", "discounts", ["created_at", "id"])
    op.create_table(
        "redemptions",
        sa.Column("discount_id", sa.Uuid, sa.ForeignKey("discounts.id"), primary_key=True),
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("redemptions_customer", "redemptions", ["discount_id", "customer"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "redemptions", "discounts"):
        op.drop_table(table)
