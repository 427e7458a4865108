"""the rebuilds of the read models and their progress

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rebuilds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("events_applied", sa.BigInteger, nullable=False),
        sa.Column("events_total", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.CheckConstraint("state IN ('running', 'done', 'failed')", name="rebuilds_state_known"),
    )
    # One at a time.
    op.create_index("rebuilds_one_running", "rebuilds", ["state"], unique=True,
                    postgresql_where=sa.text("state = 'running'"))


def downgrade() -> None:
    op.drop_table("rebuilds")
