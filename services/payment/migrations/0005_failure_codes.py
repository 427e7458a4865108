"""why a card payment failed, for a program: the gateway's decline as a reason word
(CARD_DECLINED, INSUFFICIENT_FUNDS, GATEWAY_REFUSED); empty for earlier failures and for others

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("failure_code", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("payments", "failure_code")
