"""Columns many of the services' tables share, made afresh for each table (a Column belongs to
one table): who made and last changed a row and when (what kit.protos.audit shows), and the
Idempotency-Key a retried creation is known by."""
import sqlalchemy as sa

from .idempotency import request_column


def audited() -> list[sa.Column]:
    """created_at, updated_at, created_by, updated_by."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    ]


def keyed() -> list[sa.Column]:
    """idempotency_key (none for a creation sent without one) and the request it came with."""
    return [sa.Column("idempotency_key", sa.Text), request_column("idempotency_request")]
