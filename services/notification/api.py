"""notification's gRPC servicer."""
from autosalon.notification.v1 import notification_pb2, notification_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, STAFF
from services.kit.masks import masked_fields
from services.kit.protos import mask_paths, resource_id

from . import domain, templates
from .convert import CHANNEL_NAME, STATUS_NAME, data_from
from .handlers import NotificationHandlers

ACCESS = {
    "ListNotifications": ANYONE_SIGNED_IN,
    "GetNotification": ANYONE_SIGNED_IN,
    "ListTemplates": STAFF,
    "RenderTemplate": STAFF,
    "GetPreferences": ANYONE_SIGNED_IN,
    "UpdatePreferences": ANYONE_SIGNED_IN,
}
PREFERENCE_FIELDS = {"language", *domain.MESSAGE_KINDS}


class NotificationApi(notification_pb2_grpc.NotificationServiceServicer):
    def __init__(self, handlers: NotificationHandlers):
        self.handlers = handlers

    async def ListNotifications(self, request, context):
        if request.status and request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "is not a known notification status"})
        if request.channel and request.channel not in CHANNEL_NAME:
            raise InvalidArgument({"channel": "is not a known channel"})
        found, token = await self.handlers.list_notifications(
            identity.current(), request.customer, request.status, request.channel, request.page_size,
            request.page_token)
        return notification_pb2.ListNotificationsResponse(notifications=found, next_page_token=token)

    async def GetNotification(self, request, context):
        return await self.handlers.get_notification(identity.current(), resource_id(request.name, "notifications"))

    async def ListTemplates(self, request, context):
        return notification_pb2.ListTemplatesResponse(templates=self.handlers.list_templates())

    async def RenderTemplate(self, request, context):
        collection, _, kind = request.name.partition("/")
        if collection != "templates" or kind not in templates.KINDS:
            raise InvalidArgument({"name": f"must be templates/{{kind}}, one of {', '.join(templates.KINDS)}"})
        return self.handlers.render(kind, request.language, data_from(request.data)
                                    if request.HasField("data") else None)

    async def GetPreferences(self, request, context):
        return await self.handlers.get_preferences(identity.current(), request.customer)

    async def UpdatePreferences(self, request, context):
        if not request.HasField("preferences"):
            raise InvalidArgument({"preferences": "is required"})
        fields = masked_fields(mask_paths(request.update_mask.paths), PREFERENCE_FIELDS)
        return await self.handlers.update_preferences(identity.current(), request.preferences, fields)
