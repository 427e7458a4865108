"""each order's current state kept with its projection row

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
    # The order as an autosalon.sales.v1.Order, as of the row's version. Orders from before
    # this revision have none until their next change; reading them folds their events.
    op.add_column("orders", sa.Column("snapshot", sa.LargeBinary))


def downgrade() -> None:
    op.drop_column("orders", "snapshot")
