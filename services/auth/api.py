"""auth's gRPC servicer: protobuf in, use case, protobuf out."""
import uuid

from google.protobuf import empty_pb2

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from services.kit import identity
from services.kit.cache_control import never_keep
from services.kit.errors import InvalidArgument
from services.kit.identity import ADMINS, ANYONE_SIGNED_IN, PUBLIC
from services.kit.protos import account_named, mask_paths, resource_id

from .convert import ROLE_FROM_PROTO
from .handlers import AuthHandlers

ACCESS = {
    "Register": PUBLIC,
    "Login": PUBLIC,
    "RefreshToken": PUBLIC,
    "GetJwks": PUBLIC,
    "VerifyEmail": PUBLIC,
    "RequestPasswordReset": PUBLIC,
    "ResetPassword": PUBLIC,
    "SendVerificationEmail": ANYONE_SIGNED_IN,
    "ChangePassword": ANYONE_SIGNED_IN,
    "ChangeEmail": ANYONE_SIGNED_IN,
    "Logout": ANYONE_SIGNED_IN,
    "GetCurrentUser": ANYONE_SIGNED_IN,
    "GetUser": ANYONE_SIGNED_IN,
    "UpdateUser": ANYONE_SIGNED_IN,
    "ListUsers": ADMINS,
    "DeleteUser": ADMINS,
}


class AuthApi(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, handlers: AuthHandlers):
        self.handlers = handlers

    async def Register(self, request, context):
        return await self.handlers.register(
            request.email, request.password, request.confirm_password, request.full_name, request.phone)

    async def Login(self, request, context):
        tokens = await self.handlers.login(request.email, request.password)
        await never_keep(context)
        return tokens

    async def RefreshToken(self, request, context):
        tokens = await self.handlers.refresh(request.refresh_token)
        await never_keep(context)
        return tokens

    async def Logout(self, request, context):
        await self.handlers.logout(identity.current(), request.refresh_token)
        return empty_pb2.Empty()

    async def GetCurrentUser(self, request, context):
        caller = identity.current()
        return await self.handlers.get_user(caller, resource_id(caller.user_name, "users"))

    async def GetUser(self, request, context):
        caller = identity.current()
        return await self.handlers.get_user(caller, _user_id(caller, request.name))

    async def ListUsers(self, request, context):
        role = None
        if request.role != auth_pb2.ROLE_UNSPECIFIED:
            role = ROLE_FROM_PROTO.get(request.role)
            if role is None:
                raise InvalidArgument({"role": "is not a known role"})
        users, next_token, total = await self.handlers.list_users(role, request.page_size, request.page_token)
        return auth_pb2.ListUsersResponse(users=users, next_page_token=next_token, total_size=total)

    async def UpdateUser(self, request, context):
        if not request.HasField("user"):
            raise InvalidArgument({"user": "is required"})
        caller = identity.current()
        user_id = _user_id(caller, request.user.name, "user.name")
        changes = {
            "full_name": request.user.full_name,
            "phone": request.user.phone,
            "role": ROLE_FROM_PROTO.get(request.user.role),
            "active": request.user.active,
        }
        return await self.handlers.update_user(caller, user_id, changes, mask_paths(request.update_mask.paths))

    async def DeleteUser(self, request, context):
        caller = identity.current()
        return await self.handlers.deactivate(caller, _user_id(caller, request.name))

    async def SendVerificationEmail(self, request, context):
        await self.handlers.send_verification_email(identity.current())
        return empty_pb2.Empty()

    async def VerifyEmail(self, request, context):
        return await self.handlers.verify_email(request.token)

    async def RequestPasswordReset(self, request, context):
        await self.handlers.request_password_reset(request.email)
        return empty_pb2.Empty()

    async def ResetPassword(self, request, context):
        await self.handlers.reset_password(request.token, request.new_password, request.confirm_password)
        return empty_pb2.Empty()

    async def ChangePassword(self, request, context):
        tokens = await self.handlers.change_password(identity.current(), request.current_password,
                                                     request.new_password, request.confirm_password)
        await never_keep(context)
        return tokens

    async def ChangeEmail(self, request, context):
        return await self.handlers.change_email(identity.current(), request.new_email, request.password)

    async def GetJwks(self, request, context):
        return self.handlers.jwks()


def _user_id(caller: identity.Identity, name: str, field: str = "name") -> uuid.UUID:
    """The account a request names, "users/{uuid}" or the caller's own as "users/me"."""
    return resource_id(account_named(caller, name), "users", field)
