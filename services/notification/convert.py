"""notification's conversions between protobuf messages and rows."""
import datetime

from google.protobuf import json_format

from autosalon.insurance.v1 import insurance_pb2
from autosalon.notification.v1 import notification_pb2
from services.kit.protos import timestamp

from . import domain, templates


CHANNEL = {"email": notification_pb2.CHANNEL_EMAIL, "sms": notification_pb2.CHANNEL_SMS,
           "push": notification_pb2.CHANNEL_PUSH}
CHANNEL_NAME = {value: key for key, value in CHANNEL.items()}
# A notification being sent shows as pending: it is, until the attempt's outcome is recorded.
STATUS = {domain.PENDING: notification_pb2.NOTIFICATION_STATUS_PENDING,
          domain.SENDING: notification_pb2.NOTIFICATION_STATUS_PENDING,
          domain.SENT: notification_pb2.NOTIFICATION_STATUS_SENT,
          domain.FAILED: notification_pb2.NOTIFICATION_STATUS_FAILED}
STATUS_NAME = {notification_pb2.NOTIFICATION_STATUS_PENDING: domain.PENDING,
               notification_pb2.NOTIFICATION_STATUS_SENT: domain.SENT,
               notification_pb2.NOTIFICATION_STATUS_FAILED: domain.FAILED}

# An insurance product as the templates name it (templates.TERMS["…"]["product"]).
PRODUCT_CODE = {insurance_pb2.PRODUCT_OSAGO: "osago", insurance_pb2.PRODUCT_KASKO: "kasko",
                insurance_pb2.PRODUCT_LIFE: "life", insurance_pb2.PRODUCT_HEALTH: "health"}


def notification_to_proto(row) -> notification_pb2.Notification:
    return notification_pb2.Notification(
        name=f"notifications/{row.id}", event_id=str(row.event_id), customer=row.customer,
        channel=CHANNEL[row.channel], template=f"templates/{row.kind}", recipient=row.recipient,
        language=row.language, subject=row.subject, status=STATUS[row.status], attempts=row.attempts,
        last_error=row.last_error, next_attempt_time=timestamp(row.next_attempt_at),
        send_time=timestamp(row.sent_at) if row.sent_at else None, create_time=timestamp(row.created_at))


def template_to_proto(kind: str) -> notification_pb2.Template:
    return notification_pb2.Template(name=f"templates/{kind}", message_kind=domain.MESSAGE_KIND[kind],
                                     languages=templates.LANGUAGES)


def rendered_to_proto(rendered: templates.Rendered) -> notification_pb2.RenderedMessage:
    return notification_pb2.RenderedMessage(
        subject=rendered.subject, text=rendered.text, html=rendered.html, sms=rendered.sms,
        push_title=rendered.push_title, push_body=rendered.push_body)


def data_from(struct) -> dict:
    """A Struct's data as the templates take it: numbers and texts as they came (money() reads
    either), RFC 3339 texts as aware datetimes and YYYY-MM-DD texts as dates."""
    return _typed(json_format.MessageToDict(struct))


def _typed(value):
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime.date.fromisoformat(value)
            if len(value) > 10 and value[10] == "T":
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return moment if moment.tzinfo is not None else value
        except ValueError:
            return value
    return value


def preferences_to_proto(customer: str, row, contact) -> notification_pb2.Preferences:
    values = row._asdict() if row is not None else domain.DEFAULTS
    return notification_pb2.Preferences(
        customer=customer, language=values["language"],
        **{kind: notification_pb2.ChannelChoice(**values[kind]) for kind in domain.MESSAGE_KINDS},
        email=contact.email if contact is not None else "", phone=contact.phone if contact is not None else "")
