"""How a message leaves: email over SMTP to the relay (the mesh's Mailpit, or a real one), SMS and
push through their providers (outside systems behind breakers, kit.calls.Outside).

Each send either returns the provider's reference or raises Unavailable for a failure worth
retrying (the relay or provider away, refusing for now); a message the provider refuses for good
raises InvalidArgument. The providers take a message once by its id (the notification's), so
sending one again after a lost answer is safe; SMTP has no such promise (see handlers).
"""
import asyncio
import email.message
import email.utils
import smtplib

from push.v1 import push_pb2, push_pb2_grpc
from services.kit import calls
from services.kit.errors import InvalidArgument, Unavailable
from sms.v1 import sms_pb2, sms_pb2_grpc

SMTP_TIMEOUT = 10.0


class Channels:
    def __init__(self, settings):
        self.settings = settings
        self._sms = calls.Outside("the SMS provider", settings.sms_addr, sms_pb2_grpc.SmsServiceStub,
                                  settings.breaker_failures, settings.breaker_reset_seconds)
        self._push = calls.Outside("the push provider", settings.push_addr, push_pb2_grpc.PushServiceStub,
                                   settings.breaker_failures, settings.breaker_reset_seconds)

    async def send(self, row) -> str:
        if row.channel == "email":
            return await asyncio.to_thread(self._email, row)
        if row.channel == "sms":
            answer = await self._sms.call("SendSms", sms_pb2.SendSmsRequest(
                message_id=str(row.id), phone=row.recipient, text=row.short_text))
            return answer.provider_reference
        answer = await self._push.call("SendPush", push_pb2.SendPushRequest(
            message_id=str(row.id), recipient=row.recipient, title=row.subject, body=row.short_text))
        return answer.provider_reference

    def _email(self, row) -> str:
        """One SMTP transaction (a worker thread: smtplib blocks); the Message-ID is the reference."""
        own = self.settings
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = own.mail_from, row.recipient, row.subject
        message["Message-ID"] = f"<{row.id}@autosalon.local>"
        message["Date"] = email.utils.formatdate(localtime=False)
        message.set_content(row.text)
        message.add_alternative(row.html, subtype="html")
        host, _, port = own.smtp_addr.rpartition(":")
        try:
            with smtplib.SMTP(host, int(port), timeout=SMTP_TIMEOUT) as smtp:
                if own.smtp_starttls:
                    smtp.starttls()
                if own.smtp_user:
                    smtp.login(own.smtp_user, own.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            raise InvalidArgument({"recipient": f"the relay refuses {row.recipient}: {refused.recipients}"}) from None
        except (OSError, smtplib.SMTPException) as error:
            raise Unavailable(f"the mail relay: {type(error).__name__}: {error}") from None
        return message["Message-ID"]

    async def close(self) -> None:
        await self._sms.close()
        await self._push.close()
