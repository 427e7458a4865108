"""idempotency claims: a discount created once per Idempotency-Key

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from services.kit.idempotency import create_idempotency_claims_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_claims_table(op)


def downgrade() -> None:
    op.drop_table("idempotency_claims")
