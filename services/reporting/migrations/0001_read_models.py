"""the read models of orders, vehicles and salespeople; outbox and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("vehicle", sa.Text, nullable=False),
        sa.Column("promo_code", sa.Text, nullable=False),
        sa.Column("discount", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_on", sa.Date, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("completed_on", sa.Date),
        sa.Column("completed_by", sa.Text, nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.Column("cancelled_after", sa.Text, nullable=False),
        sa.CheckConstraint("cancelled_after IN ('', 'created', 'confirmed', 'paid')", name="orders_step_known"),
    )
    op.create_index("orders_sold", "orders", ["completed_on"], postgresql_where=sa.text("completed_on IS NOT NULL"))
    op.create_index("orders_created", "orders", ["created_on"])
    op.create_table(
        "vehicles",
        sa.Column("vehicle", sa.Text, primary_key=True),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("model_name", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
    )
    op.create_table(
        "salespeople",
        sa.Column("user", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
    )
    create_event_tables(op)


def downgrade() -> None:
    for table in ("salespeople", "vehicles", "orders", "consumed_events", "outbox"):
        op.drop_table(table)
