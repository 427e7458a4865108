"""customers, interactions, segment rules (seeded), outbox and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, unique=True),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("address", JSONB, nullable=False),
        sa.Column("preferences", JSONB, nullable=False),
        sa.Column("tags", ARRAY(sa.Text), nullable=False),
        sa.Column("segment", sa.Text, nullable=False),
        sa.Column("purchase_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total_spent", MONEY, nullable=False, server_default="0"),
        sa.Column("interaction_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_index("customers_listing", "customers", ["created_at", "id"])
    op.create_index("customers_segment", "customers", ["segment"])
    op.execute("CREATE INDEX customers_tags ON customers USING gin (tags)")
    op.create_table(
        "interactions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logged_by", sa.Text, nullable=False),
    )
    op.create_index("interactions_customer", "interactions", ["customer_id", "occurred_at"])
    rules = op.create_table(
        "segment_rules",
        sa.Column("segment", sa.Text, primary_key=True),
        sa.Column("priority", sa.Integer, nullable=False, unique=True),
        sa.Column("min_purchases", sa.Integer, nullable=False),
        sa.Column("min_spend", MONEY, nullable=False),
        sa.Column("min_interactions", sa.Integer, nullable=False),
    )
    # The dealership's starting rules; they are data, changed without a release.
    op.bulk_insert(rules, [
        {"segment": "vip", "priority": 10, "min_purchases": 1, "min_spend": 10_000_000, "min_interactions": 0},
        {"segment": "repeat", "priority": 20, "min_purchases": 2, "min_spend": 0, "min_interactions": 0},
        {"segment": "buyer", "priority": 30, "min_purchases": 1, "min_spend": 0, "min_interactions": 0},
        {"segment": "prospect", "priority": 40, "min_purchases": 0, "min_spend": 0, "min_interactions": 1},
        {"segment": "new", "priority": 50, "min_purchases": 0, "min_spend": 0, "min_interactions": 0},
    ])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "segment_rules", "interactions", "customers"):
        op.drop_table(table)
