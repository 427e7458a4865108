"""What auth publishes: autosalon.auth.user.registered / updated / deactivated (UserEvent)."""
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2

from .convert import user_to_proto


def user_event(user: sa.Row) -> auth_pb2.UserEvent:
    return auth_pb2.UserEvent(user=user_to_proto(user))
