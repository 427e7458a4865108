"""purchases: the customer's purchase history, from sales' completed orders

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
        "purchases",
        # One row per order: a redelivered or repeated completion is the same purchase.
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("vehicle", sa.Text, nullable=False),
        sa.Column("vehicle_title", sa.Text, nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total >= 0", name="purchases_total_not_negative"),
    )
    op.create_index("purchases_by_customer", "purchases", ["customer_id", "completed_at", "order_id"])


def downgrade() -> None:
    op.drop_table("purchases")
