"""The outbox: the table every service writes its events into, in the same transaction as the
change they announce, and the rows that hold them as envelopes (kit.relay sends them)."""
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import message as proto_message
from google.protobuf import timestamp_pb2

from autosalon.common.v1 import common_pb2

from . import logs


def event_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The outbox and the consumed-events ledger, added to a service's own metadata."""
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    )
    consumed = sa.Table(
        "consumed_events",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
    )
    return outbox, consumed


# The columns of an outbox row as UnitOfWork.outbox_row gives it, for a service's own
# statement that writes the row.
OUTBOX_COLUMNS = ("event_id", "subject", "envelope", "created_at")


@dataclass(frozen=True)
class OutboxEvent:
    """An outbox row, as the relay sends it."""
    seq: int
    event_id: uuid.UUID
    subject: str
    envelope: bytes


def create_event_tables(op) -> None:
    """For a service's first migration: the outbox and consumed-events tables as of v1."""
    metadata = sa.MetaData()
    for table in event_tables(metadata):
        table.create(op.get_bind())


def outbox_row(service: str, entity_event: str, subject: str, data: proto_message.Message,
               happened: datetime) -> dict[str, Any]:
    """The outbox row announcing `autosalon.<service>.<entity_event>` about `subject`: a fresh
    event id, and the envelope carrying `data` with the trace id of the request at hand."""
    event_id = uuid.uuid4()
    event_type = f"autosalon.{service}.{entity_event}"
    time_pb = timestamp_pb2.Timestamp()
    time_pb.FromDatetime(happened)
    envelope = common_pb2.EventEnvelope(
        id=str(event_id), type=event_type, source=service, time=time_pb, subject=subject,
        trace_id=logs.trace_id_var.get(),
    )
    envelope.data.Pack(data)
    return {"event_id": event_id, "subject": event_type, "envelope": envelope.SerializeToString(),
            "created_at": happened}
