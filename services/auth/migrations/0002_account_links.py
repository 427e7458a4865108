"""whether each account's address is verified, and the links emailed to verify an address or
reset a password (their tokens' digests)

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
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True)))
    op.create_table(
        "account_links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("purpose IN ('email_verification', 'password_reset')", name="account_links_purpose_known"),
    )
    op.create_index("account_links_of_user", "account_links", ["user_id", "purpose"])


def downgrade() -> None:
    op.drop_table("account_links")
    op.drop_column("users", "email_verified_at")
