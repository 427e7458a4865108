"""the read models of loan applications, policies and claims, workshop bookings and test drives

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("loan_amount", MONEY, nullable=False),
        sa.Column("annual_rate", sa.Numeric(7, 3), nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("decided_on", sa.Date),
        sa.CheckConstraint("decision IN ('', 'approved', 'rejected')", name="applications_decision_known"),
    )
    op.create_index("applications_decided", "applications", ["decided_on"])
    op.create_table(
        "policies",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("premium", MONEY, nullable=False),
        sa.Column("issued_on", sa.Date),
        sa.Column("refund", MONEY, nullable=False),
        sa.Column("cancelled_on", sa.Date),
    )
    op.create_table(
        "claims",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("approved_amount", MONEY, nullable=False),
        sa.Column("approved_on", sa.Date),
    )
    op.create_table(
        "bookings",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("mechanic", sa.Text, nullable=False),
        sa.Column("job_type", sa.Text, nullable=False),
        sa.Column("start_on", sa.Date, nullable=False),
        sa.Column("hours", sa.Numeric(6, 2), nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
    )
    op.create_index("bookings_start", "bookings", ["start_on"])
    op.create_table(
        "test_drives",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("vehicle", sa.Text, nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
    )


def downgrade() -> None:
    for table in ("test_drives", "bookings", "claims", "policies", "applications"):
        op.drop_table(table)
