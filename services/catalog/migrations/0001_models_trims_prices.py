"""models, trims, price history, outbox and consumed events

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


def _audit() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("body_type", sa.Text, nullable=False),
        sa.Column("base_price", MONEY, nullable=False),
        sa.Column("specifications", JSONB, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        *_audit(),
        sa.CheckConstraint("base_price > 0", name="models_price_positive"),
    )
    # One model a brand, name and year, whatever the case.
    op.execute("CREATE UNIQUE INDEX models_identity ON models (lower(brand), lower(model), year)")
    op.execute("CREATE INDEX models_name_order ON models (lower(brand), lower(model), id)")
    op.create_index("models_price_order", "models", ["base_price", "id"])
    op.create_index("models_year_order", "models", ["year", "id"])
    op.execute("CREATE INDEX models_specifications ON models USING gin (specifications)")
    op.create_table(
        "trims",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("model_id", sa.Uuid, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("price_delta", MONEY, nullable=False),
        sa.Column("features", JSONB, nullable=False),
        *_audit(),
        sa.CheckConstraint("price_delta >= 0", name="trims_delta_not_negative"),
    )
    op.execute("CREATE UNIQUE INDEX trims_identity ON trims (model_id, lower(display_name))")
    op.create_table(
        "price_changes",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("model_id", sa.Uuid, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
        sa.Column("old_price", MONEY, nullable=False),
        sa.Column("new_price", MONEY, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("price_changes_model", "price_changes", ["model_id", "seq"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "price_changes", "trims", "models"):
        op.drop_table(table)
