"""settings and their changes, branches, salespeople, outbox and consumed events

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


def _audited() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.Text, nullable=False),
            sa.Column("updated_by", sa.Text, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value_type", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("default_value", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("minimum", sa.Text, nullable=False),
        sa.Column("maximum", sa.Text, nullable=False),
        sa.Column("choices", JSONB, nullable=False),
        sa.Column("json_schema", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        *_audited(),
        sa.CheckConstraint("value_type IN ('string', 'int', 'decimal', 'duration', 'bool', 'json')",
                           name="settings_value_type_known"),
        sa.CheckConstraint("revision >= 0", name="settings_revision_not_negative"),
    )
    op.create_index("settings_by_category", "settings", ["category", "key"])
    op.create_table(
        "setting_changes",
        sa.Column("key", sa.Text, sa.ForeignKey("settings.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.BigInteger, primary_key=True),
        sa.Column("value_before", sa.Text, nullable=False),
        sa.Column("value_after", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "branches",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("hours", JSONB, nullable=False),
        sa.Column("days_off", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        *_audited(),
    )
    op.create_table(
        "salespeople",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("branch_id", sa.Text, sa.ForeignKey("branches.id"), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        *_audited(),
    )
    op.create_index("salespeople_by_branch", "salespeople", ["branch_id", "id"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "salespeople", "branches", "setting_changes", "settings"):
        op.drop_table(table)
