"""outbox and consumed events (overview keeps nothing else: it asks the services)

Revision ID: 0001
Revises:
"""
from alembic import op

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables(op)


def downgrade() -> None:
    op.drop_table("consumed_events")
    op.drop_table("outbox")
