"""The SMS and push providers' emulators: each message is sent once by the sender's id, kept
across a restart of the provider, listed newest first by recipient; bad requests and outages
answer as a provider's would."""
import grpc
import pytest

from push.v1 import push_pb2, push_pb2_grpc
from services.emulators.messages import SentMessages
from services.emulators.push import PushProvider
from services.emulators.sms import SmsProvider
from sms.v1 import sms_pb2, sms_pb2_grpc

from .outside import Outside


async def _sms(tmp_path, failure_rate: float = 0.0) -> Outside:
    provider = Outside(SmsProvider(SentMessages("sms", 0, failure_rate, tmp_path / "sms.json")),
                       sms_pb2_grpc.add_SmsServiceServicer_to_server)
    await provider.up()
    return provider


async def test_an_sms_is_sent_once_by_its_id_even_across_a_restart(tmp_path):
    provider = await _sms(tmp_path)
    try:
        async with grpc.aio.insecure_channel(provider.address) as channel:
            sms = sms_pb2_grpc.SmsServiceStub(channel)
            first = await sms.SendSms(sms_pb2.SendSmsRequest(message_id="n-1", phone="+79161234567", text="Привет"))
            again = await sms.SendSms(sms_pb2.SendSmsRequest(message_id="n-1", phone="+79161234567", text="Привет"))
            await sms.SendSms(sms_pb2.SendSmsRequest(message_id="n-2", phone="+79990000000", text="Other"))
            assert again.provider_reference == first.provider_reference
        await provider.down()
        provider = await _sms(tmp_path)
        async with grpc.aio.insecure_channel(provider.address) as channel:
            sms = sms_pb2_grpc.SmsServiceStub(channel)
            await sms.SendSms(sms_pb2.SendSmsRequest(message_id="n-1", phone="+79161234567", text="Привет"))
            sent = (await sms.ListSentSms(sms_pb2.ListSentSmsRequest(phone="+79161234567"))).messages
            assert [(message.message_id, message.text) for message in sent] == [("n-1", "Привет")]
            assert len((await sms.ListSentSms(sms_pb2.ListSentSmsRequest())).messages) == 2
    finally:
        await provider.down()


@pytest.mark.parametrize("phone, text", [("89161234567", "x"), ("+7916", "x"), ("+79161234567", ""),
                                         ("+79161234567", "x" * 1001)])
async def test_a_number_not_in_e164_or_a_bad_text_is_refused(tmp_path, phone, text):
    provider = await _sms(tmp_path)
    try:
        async with grpc.aio.insecure_channel(provider.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await sms_pb2_grpc.SmsServiceStub(channel).SendSms(
                    sms_pb2.SendSmsRequest(message_id="n-1", phone=phone, text=text))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await provider.down()


async def test_a_provider_outage_is_unavailable_and_sends_nothing(tmp_path):
    provider = await _sms(tmp_path, failure_rate=1.0)
    try:
        async with grpc.aio.insecure_channel(provider.address) as channel:
            sms = sms_pb2_grpc.SmsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await sms.SendSms(sms_pb2.SendSmsRequest(message_id="n-1", phone="+79161234567", text="x"))
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert not (await sms.ListSentSms(sms_pb2.ListSentSmsRequest())).messages
    finally:
        await provider.down()


async def test_a_push_is_sent_once_and_listed_by_recipient_newest_first(tmp_path):
    provider = Outside(PushProvider(SentMessages("push", 0, 0.0, None)), push_pb2_grpc.add_PushServiceServicer_to_server)
    await provider.up()
    try:
        async with grpc.aio.insecure_channel(provider.address) as channel:
            push = push_pb2_grpc.PushServiceStub(channel)
            for message_id, title in (("p-1", "Order paid"), ("p-2", "Car ready"), ("p-1", "Order paid")):
                await push.SendPush(push_pb2.SendPushRequest(message_id=message_id, recipient="users/1",
                                                             title=title, body="..."))
            sent = (await push.ListSentPushes(push_pb2.ListSentPushesRequest(recipient="users/1"))).messages
            assert [message.message_id for message in sent] == ["p-2", "p-1"]
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await push.SendPush(push_pb2.SendPushRequest(message_id="p-3", recipient="users/1", title="", body="x"))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await provider.down()
