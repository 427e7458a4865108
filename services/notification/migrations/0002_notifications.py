"""notifications and their attempts, once per event and channel

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("short_text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_reference", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "channel", name="notifications_once_a_channel"),
        sa.CheckConstraint("channel IN ('email', 'sms', 'push')", name="notifications_channel_known"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="notifications_status_known"),
    )
    op.create_index("notifications_due", "notifications", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("notifications_of_customer", "notifications", ["customer", "created_at", "id"])
    op.create_index("notifications_listing", "notifications", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("notifications")
