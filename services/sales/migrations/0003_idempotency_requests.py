"""an Idempotency-Key is bound to the request it first came with (orders.idempotency_request)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from services.kit.idempotency import remember_requests

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    remember_requests(op, "orders", "idempotency_request")


def downgrade() -> None:
    op.drop_column("orders", "idempotency_request")
