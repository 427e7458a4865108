"""The emulated SMS provider (sms.v1.SmsService): sends each message once by the sender's id
and lists what it sent, kept in the run folder. Settings: EmulatorSettings below."""
import re
from dataclasses import dataclass

import grpc

from services.kit import server, settings
from sms.v1 import sms_pb2, sms_pb2_grpc

from .messages import SentMessages, send_time
from .serving import serve

E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)


@dataclass(frozen=True)
class EmulatorSettings:
    address: str = settings.setting("127.0.0.1:7104", "AUTOSALON_SMS_ADDR", "where the SMS provider emulator listens")
    latency_ms: float = settings.setting(20.0, "AUTOSALON_SMS_LATENCY_MS", "how long each message takes to send",
                                         minimum=0)
    failure_rate: float = settings.setting(0.0, "AUTOSALON_SMS_FAILURE_RATE",
                                           "the share of calls answered UNAVAILABLE, as a provider outage",
                                           minimum=0, maximum=1)


class SmsProvider(sms_pb2_grpc.SmsServiceServicer):
    def __init__(self, messages: SentMessages):
        self.messages = messages

    async def SendSms(self, request, context):
        if not E164.fullmatch(request.phone):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "phone: E.164, e.g. +79161234567")
        if not 1 <= len(request.text) <= 1000:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "text: 1 to 1000 characters")
        sent = await self.messages.send(context, request.message_id, request.phone, {"text": request.text})
        return sms_pb2.SendSmsResponse(message_id=sent["message_id"], provider_reference=sent["provider_reference"])

    async def ListSentSms(self, request, context):
        return sms_pb2.ListSentSmsResponse(messages=[
            sms_pb2.SentSms(message_id=record["message_id"], phone=record["to"], text=record["text"],
                            provider_reference=record["provider_reference"], send_time=send_time(record))
            for record in self.messages.listed(request.phone)])


async def main() -> None:
    own = settings.load(EmulatorSettings)
    records = settings.load().run_dir / "emulators" / "sms.json"
    await serve("sms", own.address, SmsProvider(SentMessages("sms", own.latency_ms / 1000, own.failure_rate, records)),
                sms_pb2_grpc.add_SmsServiceServicer_to_server, sms_pb2.DESCRIPTOR.services_by_name["SmsService"])


if __name__ == "__main__":
    server.run(main)
