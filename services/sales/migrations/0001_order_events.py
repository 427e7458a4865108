"""order events, the orders projection, outbox and consumed events

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
        "order_events",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        # The primary key is the optimistic lock: two writers cannot both add version n.
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trace_id", sa.Text, nullable=False),
        sa.CheckConstraint("version > 0", name="order_events_version_positive"),
    )
    # Append-only: the history is the truth, so the database refuses to rewrite it.
    op.execute("""
        CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'order_events is append-only';
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
        FOR EACH ROW EXECUTE FUNCTION order_events_append_only();
    """)
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer", "idempotency_key", name="orders_one_per_idempotency_key"),
    )
    op.create_index("orders_listing", "orders", ["created_at", "id"])
    op.create_index("orders_by_customer", "orders", ["customer", "created_at"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "orders", "order_events"):
        op.drop_table(table)
    op.execute("DROP FUNCTION order_events_append_only()")
