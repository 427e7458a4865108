"""auth's client: the keys access tokens are signed with, and the account changes that
revoke a changed account's older tokens (the kit's `Trust`, which every service starts with)."""
from google.protobuf import json_format

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from services.kit.bus import payload
from services.kit.calls import Peers
from services.kit.identity import Trust
from services.kit.protos import resource_id


def jwks(peers: Peers):
    """Fetches auth's JWKS from an instance found in Consul (no caller's token: it is public)."""

    async def fetch() -> dict:
        keys = await peers.call("auth", auth_pb2_grpc.AuthServiceStub, "GetJwks", auth_pb2.GetJwksRequest(),
                                as_caller=False)
        return json_format.MessageToDict(keys, preserving_proto_field_name=True)

    return fetch


def account(envelope) -> tuple[str, str, bool, float | None]:
    """(user id, role, active, the moment before which its tokens are refused, if any) of the
    account a user event is about."""
    event = payload(envelope, auth_pb2.UserEvent)
    user = event.user
    revoked_at = event.tokens_revoked_at.ToDatetime().timestamp() if event.HasField("tokens_revoked_at") else None
    return (str(resource_id(user.name, "users")), auth_pb2.Role.Name(user.role).removeprefix("ROLE_").lower(),
            user.active, revoked_at)


TRUST = Trust(keys=jwks, account_changes="autosalon.auth.user.>", account=account)


async def get_user(peers: Peers, name: str) -> auth_pb2.User:
    """The user "users/{uuid}" as the caller may see them (the caller's token travels along)."""
    return await peers.call("auth", auth_pb2_grpc.AuthServiceStub, "GetUser", auth_pb2.GetUserRequest(name=name))
