"""A JetStream message as a consumer loop hands it over, for tests that deliver events by hand."""
import uuid

from autosalon.common.v1 import common_pb2


class Delivery:
    """Carries `envelope` (an event of `kind` with `payload`, when no envelope is given) and
    counts the acks and naks it gets."""

    def __init__(self, envelope: common_pb2.EventEnvelope | None = None, kind: str = "", payload=None):
        if envelope is None:
            envelope = common_pb2.EventEnvelope(id=str(uuid.uuid4()), type=kind)
            envelope.data.Pack(payload)
        self.data = envelope.SerializeToString()
        self.acks = self.naks = 0

    async def ack(self):
        self.acks += 1

    async def nak(self, delay=None):
        self.naks += 1
