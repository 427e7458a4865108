"""vehicles, the catalogue read copy, outbox and consumed events

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
        "vehicles",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("vin", sa.Text, nullable=False, unique=True),
        sa.Column("model_id", sa.Uuid, nullable=False),
        sa.Column("trim_id", sa.Uuid, nullable=False),
        sa.Column("colour", sa.Text, nullable=False),
        sa.Column("mileage_km", sa.Integer, nullable=False),
        sa.Column("condition", sa.Text, nullable=False),
        sa.Column("branch", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("price_override", MONEY),
        sa.Column("order_id", sa.Text),
        sa.Column("reserved_until", sa.DateTime(timezone=True)),
        sa.Column("vin_facts", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('available', 'reserved', 'sold')", name="vehicles_status_known"),
        sa.CheckConstraint("condition IN ('new', 'used')", name="vehicles_condition_known"),
        # A vehicle is held by an order exactly when it is reserved or sold.
        sa.CheckConstraint("(status = 'available') = (order_id IS NULL)", name="vehicles_holder_matches"),
        sa.CheckConstraint("(status = 'reserved') = (reserved_until IS NOT NULL)", name="vehicles_hold_expires"),
        sa.CheckConstraint("price_override IS NULL OR price_override > 0", name="vehicles_price_positive"),
        sa.CheckConstraint("mileage_km >= 0", name="vehicles_mileage_positive"),
    )
    op.create_index("vehicles_listing", "vehicles", ["created_at", "id"])
    op.create_index("vehicles_status", "vehicles", ["status", "reserved_until"])
    op.create_index("vehicles_model", "vehicles", ["model_id"])
    op.create_table(
        "catalog_models",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("base_price", MONEY, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "catalog_trims",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("model_id", sa.Uuid, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("price_delta", MONEY, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "catalog_trims", "catalog_models", "vehicles"):
        op.drop_table(table)
