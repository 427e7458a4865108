"""the orders sales cancelled, so that no promo code is redeemed for them

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from services.peers.sales import create_cancelled_orders_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_cancelled_orders_table(op)


def downgrade() -> None:
    op.drop_table("cancelled_orders")
