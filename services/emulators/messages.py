"""What the SMS and push emulators share: messages kept by the sender's id, each sent once,
listed newest first, with the network's latency and outages (serving.py)."""
import datetime
import logging
import pathlib
import secrets

import grpc

from services.kit.protos import timestamp

from .serving import Kept, behave_like_a_network

log = logging.getLogger(__name__)


class SentMessages:
    def __init__(self, provider: str, latency_seconds: float, failure_rate: float, records: pathlib.Path | None):
        self.provider = provider
        self.latency = latency_seconds
        self.failure_rate = failure_rate
        self._kept = Kept(records, "sent")
        self.sent: dict[str, dict] = self._kept.records["sent"]

    async def send(self, context, message_id: str, to: str, fields: dict) -> dict:
        """The message sent once under `message_id` (a repeat answers the first); the caller has
        checked its fields."""
        await behave_like_a_network(context, self.latency, self.failure_rate,
                                    f"{self.provider} temporarily unavailable")
        if not 1 <= len(message_id) <= 100:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "message_id: 1 to 100 characters")
        done = self.sent.get(message_id)
        if done is None:
            done = {"message_id": message_id, "to": to, **fields,
                    "provider_reference": f"{self.provider[:3].upper()}-{secrets.token_hex(6).upper()}",
                    "sent_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
            self.sent[message_id] = done
            self._kept.save()
            log.info("%s %s sent to %s", self.provider, message_id, to)
        return done

    def listed(self, to: str) -> list[dict]:
        return sorted((record for record in self.sent.values() if not to or record["to"] == to),
                      key=lambda record: record["sent_at"], reverse=True)


def send_time(record: dict):
    return timestamp(datetime.datetime.fromisoformat(record["sent_at"]))
