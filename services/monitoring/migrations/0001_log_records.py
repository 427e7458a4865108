"""the services' log records, searchable; outbox and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_records",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("instance", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("severity", sa.SmallInteger, nullable=False),
        sa.Column("logger", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("trace_id", sa.Text, nullable=False),
        sa.Column("rpc", sa.Text, nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("words", TSVECTOR, sa.Computed("to_tsvector('simple', message || ' ' || error)", persisted=True)),
    )
    op.create_index("log_records_newest", "log_records", ["logged_at", "id"])
    op.create_index("log_records_of_service", "log_records", ["service", "logged_at"])
    op.create_index("log_records_of_trace", "log_records", ["trace_id"], postgresql_where=sa.text("trace_id <> ''"))
    op.create_index("log_records_words", "log_records", ["words"], postgresql_using="gin")
    create_event_tables(op)


def downgrade() -> None:
    for table in ("log_records", "consumed_events", "outbox"):
        op.drop_table(table)
