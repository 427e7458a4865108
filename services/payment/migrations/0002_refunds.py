"""refunds: money taken for an order cancelled meanwhile goes back through the gateway;
the orders sales cancelled, so that no payment starts for them

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from services.peers.sales import create_cancelled_orders_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = ("pending", "processing", "completed", "failed", "cancelled")


def _statuses(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    op.add_column("payments", sa.Column("refund_reference", sa.Text, nullable=False, server_default=""))
    op.add_column("payments", sa.Column("refund_problem", sa.Text, nullable=False, server_default=""))
    op.drop_constraint("payments_status_known", "payments")
    op.create_check_constraint("payments_status_known", "payments",
                               _statuses(STATUSES + ("refunding", "refunded")))
    op.drop_index("payments_waiting", "payments")
    op.create_index("payments_waiting", "payments", ["status", "updated_at"],
                    postgresql_where=sa.text(_statuses(("pending", "processing", "refunding"))))
    create_cancelled_orders_table(op)


def downgrade() -> None:
    op.drop_table("cancelled_orders")
    op.drop_index("payments_waiting", "payments")
    op.create_index("payments_waiting", "payments", ["status", "updated_at"],
                    postgresql_where=sa.text(_statuses(("pending", "processing"))))
    op.drop_constraint("payments_status_known", "payments")
    op.create_check_constraint("payments_status_known", "payments", _statuses(STATUSES))
    op.drop_column("payments", "refund_problem")
    op.drop_column("payments", "refund_reference")
