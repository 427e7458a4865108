"""job types, mechanics, bookings and test drives (exclusion constraints on their times), outbox
and consumed events

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.kit.outbox import create_event_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _audited() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.Text, nullable=False),
            sa.Column("updated_by", sa.Text, nullable=False)]


def _keyed() -> list[sa.Column]:
    return [sa.Column("idempotency_key", sa.Text),
            sa.Column("idempotency_request", sa.Text, nullable=False, server_default="")]


SKILLS = "('maintenance', 'repair', 'diagnostics', 'tyres', 'bodywork')"


def upgrade() -> None:
    # Equality on uuid inside a GiST index, for the exclusion constraints (a trusted extension:
    # the database's owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "job_types",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("skill", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        *_audited(),
        sa.CheckConstraint("duration_minutes BETWEEN 15 AND 480 AND duration_minutes % 15 = 0",
                           name="job_types_duration_on_the_grid"),
        sa.CheckConstraint(f"skill IN {SKILLS}", name="job_types_skill_known"),
    )
    op.create_table(
        "mechanics",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("branch_id", sa.Text, nullable=False),
        sa.Column("skills", JSONB, nullable=False),
        sa.Column("hours", JSONB, nullable=False),
        sa.Column("days_off", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        *_audited(),
    )
    op.create_index("mechanics_of_branch", "mechanics", ["branch_id", "id"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("vin", sa.Text, nullable=False),
        sa.Column("job_type_id", sa.Text, sa.ForeignKey("job_types.id"), nullable=False),
        sa.Column("branch_id", sa.Text, nullable=False),
        sa.Column("mechanic_id", sa.Uuid, sa.ForeignKey("mechanics.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        sa.Column("parts", sa.Numeric(14, 2)),
        sa.Column("labour", sa.Numeric(14, 2)),
        sa.Column("work_done", sa.Text, nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.BigInteger, nullable=False),
        *_keyed(),
        *_audited(),
        sa.CheckConstraint("starts_at < ends_at", name="bookings_start_before_end"),
        sa.CheckConstraint("status IN ('scheduled', 'in_progress', 'completed', 'cancelled')",
                           name="bookings_status_known"),
        sa.CheckConstraint("parts >= 0 AND labour >= 0", name="bookings_amounts_not_negative"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="bookings_one_per_idempotency_key"),
    )
    op.execute("ALTER TABLE bookings ADD CONSTRAINT bookings_one_job_at_a_time EXCLUDE USING gist "
               "(mechanic_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
               "WHERE (status IN ('scheduled', 'in_progress'))")
    op.create_index("bookings_by_start", "bookings", ["starts_at", "id"])
    op.create_index("bookings_of_customer", "bookings", ["customer", "starts_at", "id"])
    op.create_index("bookings_of_vehicle", "bookings", ["vin", "starts_at", "id"])
    op.create_index("bookings_to_remind", "bookings", ["starts_at"],
                    postgresql_where=sa.text("status = 'scheduled' AND reminded_at IS NULL"))
    op.create_table(
        "test_drives",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("vehicle_id", sa.Uuid, nullable=False),
        sa.Column("branch_id", sa.Text, nullable=False),
        sa.Column("salesperson", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("cancel_reason", sa.Text, nullable=False),
        *_keyed(),
        *_audited(),
        sa.CheckConstraint("starts_at < ends_at", name="test_drives_start_before_end"),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name="test_drives_status_known"),
        sa.UniqueConstraint("created_by", "idempotency_key", name="test_drives_one_per_idempotency_key"),
    )
    op.execute("ALTER TABLE test_drives ADD CONSTRAINT test_drives_one_drive_at_a_time EXCLUDE USING gist "
               "(vehicle_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status = 'scheduled')")
    op.create_index("test_drives_by_start", "test_drives", ["starts_at", "id"])
    create_event_tables(op)


def downgrade() -> None:
    for table in ("consumed_events", "outbox", "test_drives", "bookings", "mechanics", "job_types"):
        op.drop_table(table)
