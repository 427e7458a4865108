"""payments, their status log, outbox and consumed events

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
        "payments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("transaction_id", sa.Text, nullable=False, unique=True),
        sa.Column("card_last_four", sa.Text, nullable=False),
        sa.Column("bank_reference", sa.Text, nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("amount > 0", name="payments_amount_positive"),
        sa.CheckConstraint("method IN ('card', 'bank_transfer', 'cash', 'credit')", name="payments_method_known"),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')",
            name="payments_status_known"),
        # Only ever the last four digits: the full number must not fit here.
        sa.CheckConstraint("card_last_four ~ '^([0-9]{4})?$'", name="payments_last_four_only"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="payments_one_per_idempotency_key"),
    )
    # One payment at most holds an order's money: never two charges for one order.
    op.create_index("payments_one_live_per_order", "payments", ["order_id"], unique=True,
                    postgresql_where=sa.text("status IN ('pending', 'processing', 'completed')"))
    op.create_index("payments_listing", "payments", ["created_at", "id"])
    op.create_index("payments_waiting", "payments", ["status", "updated_at"],
                    postgresql_where=sa.text("status IN ('pending', 'processing')"))
    op.create_table(
        "payment_status_log",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("payment_id", sa.Uuid, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("from_status", sa.Text, nullable=False),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("payment_status_log_by_payment", "payment_status_log", ["payment_id", "seq"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "payment_status_log", "payments"):
        op.drop_table(table)
