"""idempotency claims: vehicles created once per Idempotency-Key

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from services.kit.idempotency import create_idempotency_claims_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_claims_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_claims")
