"""auth's rows <-> protobuf messages."""

from autosalon.auth.v1 import auth_pb2

from services.kit.protos import timestamp
from services.kit.statements import Row

from .domain import Role

ROLE_TO_PROTO = {
    Role.CLIENT: auth_pb2.ROLE_CLIENT,
    Role.MANAGER: auth_pb2.ROLE_MANAGER,
    Role.ADMIN: auth_pb2.ROLE_ADMIN,
}
ROLE_FROM_PROTO = {value: role for role, value in ROLE_TO_PROTO.items()}


def user_to_proto(row: Row) -> auth_pb2.User:
    return auth_pb2.User(
        name=f"users/{row.id}",
        email=row.email,
        full_name=row.full_name,
        phone=row.phone,
        role=ROLE_TO_PROTO[Role(row.role)],
        active=row.active,
        create_time=timestamp(row.created_at),
        update_time=timestamp(row.updated_at),
        email_verified=row.email_verified_at is not None,
    )

