"""loan applications, their status log, outbox and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from services.kit.idempotency import request_column
from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
STATUSES = "'draft', 'submitted', 'under_review', 'approved', 'rejected', 'active', 'completed', 'defaulted'"


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, nullable=False),
        sa.Column("financing_type", sa.Text, nullable=False),
        sa.Column("vehicle_price", MONEY, nullable=False),
        sa.Column("down_payment", MONEY, nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("schedule_type", sa.Text, nullable=False),
        sa.Column("employment_status", sa.Text, nullable=False),
        sa.Column("monthly_income", MONEY, nullable=False),
        sa.Column("existing_monthly_payments", MONEY, nullable=False),
        sa.Column("passport_number", sa.Text, nullable=False),
        sa.Column("passport_last_four", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("annual_rate", sa.Numeric(6, 3), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("credit_score", sa.Integer),
        sa.Column("debt_to_income", sa.Numeric(8, 2)),
        sa.Column("decision_reasons", ARRAY(sa.Text), nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_note", sa.Text, nullable=False),
        sa.Column("activation_date", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        request_column("idempotency_request"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("vehicle_price > 0 AND down_payment >= 0 AND down_payment < vehicle_price",
                           name="applications_loan_positive"),
        sa.CheckConstraint("monthly_income > 0 AND existing_monthly_payments >= 0", name="applications_income_sane"),
        sa.CheckConstraint("term_months BETWEEN 1 AND 600", name="applications_term_sane"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="applications_status_known"),
        sa.CheckConstraint("financing_type IN ('car_loan', 'leasing', 'installment')",
                           name="applications_type_known"),
        sa.CheckConstraint("schedule_type IN ('annuity', 'differentiated')", name="applications_schedule_known"),
        sa.CheckConstraint("credit_score IS NULL OR credit_score BETWEEN 300 AND 850", name="applications_score_range"),
        sa.CheckConstraint("passport_number ~ '^([0-9]{10})?$' AND passport_last_four ~ '^([0-9]{4})?$'",
                           name="applications_passport_digits"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="applications_one_per_idempotency_key"),
    )
    op.create_index("applications_listing", "applications", ["created_at", "id"])
    op.create_index("applications_of_customer", "applications", ["customer", "created_at", "id"])
    op.create_index("applications_waiting_for_the_bank", "applications", ["updated_at"],
                    postgresql_where=sa.text("status = 'submitted'"))
    op.create_table(
        "application_status_log",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("application_id", sa.Uuid, sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("from_status", sa.Text, nullable=False),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("application_status_log_by_application", "application_status_log", ["application_id", "seq"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "application_status_log", "applications"):
        op.drop_table(table)
