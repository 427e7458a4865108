"""policies made from quotes, claims on them, and the log of their status changes

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from services.kit.idempotency import request_column

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)


def _audit() -> list[sa.Column]:
    return [sa.Column("idempotency_key", sa.Text), request_column("idempotency_request"),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.Text, nullable=False), sa.Column("updated_by", sa.Text, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("quote_id", sa.Uuid, nullable=False),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("product", sa.Text, nullable=False),
        sa.Column("premium", MONEY, nullable=False),
        sa.Column("sum_insured", MONEY, nullable=False),
        sa.Column("deductible", MONEY, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("policy_number", sa.Text, nullable=False),
        sa.Column("payment", sa.Text, nullable=False),
        sa.Column("purchased_on", sa.Date),
        sa.Column("refund", MONEY),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.Column("approved_claims", MONEY, nullable=False),
        *_audit(),
        sa.CheckConstraint("status IN ('draft', 'quoted', 'purchased', 'active', 'expired', 'cancelled', 'claimed')",
                           name="policies_status_known"),
        sa.CheckConstraint("premium >= 0 AND sum_insured > 0 AND deductible >= 0 AND deductible < sum_insured",
                           name="policies_money_sane"),
        sa.CheckConstraint("ends_on >= starts_on", name="policies_period_sane"),
        sa.CheckConstraint("approved_claims >= 0 AND approved_claims <= sum_insured",
                           name="policies_approvals_within_the_cover"),
        sa.CheckConstraint("refund IS NULL OR (refund >= 0 AND refund <= premium)", name="policies_refund_within_premium"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="policies_one_per_idempotency_key"),
    )
    op.create_index("policies_listing", "policies", ["created_at", "id"])
    op.create_index("policies_of_customer", "policies", ["customer", "created_at", "id"])
    op.create_index("policies_number", "policies", ["policy_number"], unique=True,
                    postgresql_where=sa.text("policy_number <> ''"))
    op.create_index("policies_due", "policies", ["status", "updated_at"],
                    postgresql_where=sa.text("status IN ('purchased', 'active')"))
    op.create_table(
        "claims",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("policy_id", sa.Uuid, sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("claim_number", sa.Text, nullable=False, unique=True),
        sa.Column("incident_date", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("claimed_amount", MONEY, nullable=False),
        sa.Column("approved_amount", MONEY),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decision_note", sa.Text, nullable=False),
        *_audit(),
        sa.CheckConstraint("status IN ('submitted', 'under_review', 'approved', 'rejected', 'paid')",
                           name="claims_status_known"),
        sa.CheckConstraint("claimed_amount > 0 AND (approved_amount IS NULL OR approved_amount > 0)",
                           name="claims_money_sane"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="claims_one_per_idempotency_key"),
    )
    op.create_index("claims_of_policy", "claims", ["policy_id", "created_at", "id"])
    op.create_table(
        "status_log",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("from_status", sa.Text, nullable=False),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("status_log_by_subject", "status_log", ["subject", "seq"])


def downgrade() -> None:
    for table in ("status_log", "claims", "policies"):
        op.drop_table(table)
