"""orders paid in parts: several live payments may share an order (their sum is checked under the
order's lock), a credit payment names its loan, and each payment keeps the order's total

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIVE = "status IN ('pending', 'processing', 'completed')"


def upgrade() -> None:
    op.add_column("payments", sa.Column("application", sa.Text, nullable=False, server_default=""))
    op.add_column("payments", sa.Column("order_total", sa.Numeric(14, 2)))
    # Before, one payment paid the whole order.
    op.execute("UPDATE payments SET order_total = amount")
    op.alter_column("payments", "order_total", nullable=False)
    op.create_check_constraint("payments_within_the_order", "payments", "amount <= order_total")
    # Only a credit payment names a loan (older credit payments, recorded by hand, name none).
    op.create_check_constraint("payments_loan_only_for_credit", "payments",
                               "method = 'credit' OR application = ''")
    op.drop_index("payments_one_live_per_order", "payments")
    op.create_index("payments_of_order", "payments", ["order_id"], postgresql_where=sa.text(LIVE))
    # A loan pays once.
    op.create_index("payments_one_live_per_loan", "payments", ["application"], unique=True,
                    postgresql_where=sa.text(f"application <> '' AND {LIVE}"))


def downgrade() -> None:
    op.drop_index("payments_one_live_per_loan", "payments")
    op.drop_index("payments_of_order", "payments")
    op.create_index("payments_one_live_per_order", "payments", ["order_id"], unique=True,
                    postgresql_where=sa.text(LIVE))
    op.drop_constraint("payments_loan_only_for_credit", "payments")
    op.drop_constraint("payments_within_the_order", "payments")
    op.drop_column("payments", "order_total")
    op.drop_column("payments", "application")
