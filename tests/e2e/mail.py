"""What reached the customers, as the tests read it: the mesh's mail server (Mailpit, through its
API) and the SMS provider's emulator."""
import json
import time
import urllib.parse
import urllib.request

import grpc

from scripts.mesh.layout import MAIL_HTTP_ADDR, SMS_ADDR
from sms.v1 import sms_pb2, sms_pb2_grpc


def _read(path: str) -> dict:
    with urllib.request.urlopen(f"http://{MAIL_HTTP_ADDR}/api/v1/{path}", timeout=5) as answer:
        return json.load(answer)


def mail_to(address: str) -> list[dict]:
    """The messages to `address`, newest first (Mailpit's summaries: ID, Subject, …)."""
    return _read("search?" + urllib.parse.urlencode({"query": f"to:{address}"}))["messages"]


def subjects_to(address: str, expected: int, seconds: float = 20) -> list[str]:
    """The subjects of the mail to `address`, once `expected` have arrived (oldest first), with
    a moment more for any extra to show."""
    deadline = time.monotonic() + seconds
    while len(mail_to(address)) < expected:
        assert time.monotonic() < deadline, [message["Subject"] for message in mail_to(address)]
        time.sleep(0.3)
    time.sleep(1.5)
    return [message["Subject"] for message in reversed(mail_to(address))]


def text_of(address: str, subject: str) -> str:
    """The plain-text body of the newest message to `address` with this subject."""
    [newest, *_] = [message for message in mail_to(address) if message["Subject"] == subject]
    return _read(f"message/{newest['ID']}")["Text"]


def sms_to(phone: str) -> list[sms_pb2.SentSms]:
    """Every SMS the provider's emulator has sent to `phone`, newest first."""
    with grpc.insecure_channel(SMS_ADDR) as channel:
        return list(sms_pb2_grpc.SmsServiceStub(channel).ListSentSms(
            sms_pb2.ListSentSmsRequest(phone=phone), timeout=5).messages)
