"""The emulated push-notification provider (push.v1.PushService): pushes each notification once
by the sender's id and lists what it pushed, kept in the run folder. Settings: EmulatorSettings
below."""
from dataclasses import dataclass

import grpc

from push.v1 import push_pb2, push_pb2_grpc
from services.kit import server, settings

from .messages import SentMessages, send_time
from .serving import serve

LIMITS = {"recipient": 200, "title": 200, "body": 2000}


@dataclass(frozen=True)
class EmulatorSettings:
    address: str = settings.setting("127.0.0.1:7105", "AUTOSALON_PUSH_ADDR",
                                    "where the push-notification provider emulator listens")
    latency_ms: float = settings.setting(20.0, "AUTOSALON_PUSH_LATENCY_MS", "how long each push takes", minimum=0)
    failure_rate: float = settings.setting(0.0, "AUTOSALON_PUSH_FAILURE_RATE",
                                           "the share of calls answered UNAVAILABLE, as a provider outage",
                                           minimum=0, maximum=1)


class PushProvider(push_pb2_grpc.PushServiceServicer):
    def __init__(self, messages: SentMessages):
        self.messages = messages

    async def SendPush(self, request, context):
        for field, longest in LIMITS.items():
            if not 1 <= len(getattr(request, field)) <= longest:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{field}: 1 to {longest} characters")
        sent = await self.messages.send(context, request.message_id, request.recipient,
                                        {"title": request.title, "body": request.body})
        return push_pb2.SendPushResponse(message_id=sent["message_id"], provider_reference=sent["provider_reference"])

    async def ListSentPushes(self, request, context):
        return push_pb2.ListSentPushesResponse(messages=[
            push_pb2.SentPush(message_id=record["message_id"], recipient=record["to"], title=record["title"],
                              body=record["body"], provider_reference=record["provider_reference"],
                              send_time=send_time(record))
            for record in self.messages.listed(request.recipient)])


async def main() -> None:
    own = settings.load(EmulatorSettings)
    records = settings.load().run_dir / "emulators" / "push.json"
    await serve("push", own.address,
                PushProvider(SentMessages("push", own.latency_ms / 1000, own.failure_rate, records)),
                push_pb2_grpc.add_PushServiceServicer_to_server, push_pb2.DESCRIPTOR.services_by_name["PushService"])


if __name__ == "__main__":
    server.run(main)
