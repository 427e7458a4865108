"""notification's conversions between protobuf messages and rows."""
import datetime

from google.protobuf import json_format

from autosalon.notification.v1 import notification_pb2

from . import domain, templates


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
