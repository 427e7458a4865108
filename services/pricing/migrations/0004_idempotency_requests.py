"""an Idempotency-Key is bound to the request it first came with (idempotency_claims.request)

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from services.kit.idempotency import remember_requests

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    remember_requests(op)


def downgrade() -> None:
    op.drop_column("idempotency_claims", "request")
