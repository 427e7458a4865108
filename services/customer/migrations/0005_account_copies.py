"""customers.account_updated_at: the account's update time its name, email and phone were copied from

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
    op.add_column("customers", sa.Column("account_updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("customers", "account_updated_at")
