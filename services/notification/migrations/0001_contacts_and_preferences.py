"""contacts and preferences, outbox and consumed events

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
        "contacts",
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("full_name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("customer", sa.Text, primary_key=True),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("transactional", JSONB, nullable=False),
        sa.Column("reminders", JSONB, nullable=False),
        sa.Column("marketing", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("language IN ('ru', 'en')", name="preferences_language_known"),
        sa.CheckConstraint("(transactional ->> 'email')::boolean", name="preferences_transactional_email_on"),
    )
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "preferences", "contacts"):
        op.drop_table(table)
