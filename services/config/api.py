"""config's gRPC servicer."""
from autosalon.config.v1 import config_pb2, config_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ADMINS, PUBLIC, STAFF
from services.kit.masks import masked_fields
from services.kit.protos import mask_paths, resource_id, slug_of

from . import domain
from .handlers import BRANCH_FIELDS, SALESPERSON_FIELDS, ConfigHandlers

ACCESS = {
    "ListSettings": STAFF,
    "GetSetting": STAFF,
    "CreateSetting": ADMINS,
    "UpdateSetting": ADMINS,
    "ListSettingChanges": STAFF,
    "ListBranches": PUBLIC,
    "GetBranch": PUBLIC,
    "CreateBranch": ADMINS,
    "UpdateBranch": ADMINS,
    "ListSalespeople": STAFF,
    "GetSalesperson": STAFF,
    "CreateSalesperson": ADMINS,
    "UpdateSalesperson": ADMINS,
}
SETTING_FIELDS = {"value", "description", "category"}


def _key(name: str, field: str = "name") -> str:
    collection, _, key = name.partition("/")
    if collection != "settings" or not key:
        raise InvalidArgument({field: "must look like settings/{key}"})
    return domain.check_key(key, field)


class ConfigApi(config_pb2_grpc.ConfigServiceServicer):
    def __init__(self, handlers: ConfigHandlers):
        self.handlers = handlers

    async def ListSettings(self, request, context):
        found, token = await self.handlers.list_settings(request.category, request.service, request.page_size,
                                                         request.page_token)
        return config_pb2.ListSettingsResponse(settings=found, next_page_token=token)

    async def GetSetting(self, request, context):
        return await self.handlers.get_setting(_key(request.name))

    async def CreateSetting(self, request, context):
        if not request.HasField("setting"):
            raise InvalidArgument({"setting": "is required"})
        return await self.handlers.create_setting(identity.current(), request.setting_id, request.setting)

    async def UpdateSetting(self, request, context):
        key = _key(request.setting.name, "setting.name")
        paths = mask_paths(request.update_mask.paths) or ["value"]
        return await self.handlers.update_setting(identity.current(), key, request.setting,
                                                  masked_fields(paths, SETTING_FIELDS))

    async def ListSettingChanges(self, request, context):
        found, token = await self.handlers.list_changes(_key(request.name), request.page_size, request.page_token)
        return config_pb2.ListSettingChangesResponse(changes=found, next_page_token=token)

    async def ListBranches(self, request, context):
        found, token = await self.handlers.list_branches(identity.optional(), request.show_inactive,
                                                         request.page_size, request.page_token)
        return config_pb2.ListBranchesResponse(branches=found, next_page_token=token)

    async def GetBranch(self, request, context):
        return await self.handlers.get_branch(slug_of(request.name, "branches", "name"))

    async def CreateBranch(self, request, context):
        if not request.HasField("branch"):
            raise InvalidArgument({"branch": "is required"})
        return await self.handlers.create_branch(identity.current(), request.branch_id, request.branch)

    async def UpdateBranch(self, request, context):
        branch_id = slug_of(request.branch.name, "branches", "branch.name")
        fields = masked_fields(mask_paths(request.update_mask.paths), BRANCH_FIELDS)
        return await self.handlers.update_branch(identity.current(), branch_id, request.branch, fields)

    async def ListSalespeople(self, request, context):
        found, token = await self.handlers.list_salespeople(request.branch, request.page_size, request.page_token)
        return config_pb2.ListSalespeopleResponse(salespeople=found, next_page_token=token)

    async def GetSalesperson(self, request, context):
        return await self.handlers.get_salesperson(resource_id(request.name, "salespeople"))

    async def CreateSalesperson(self, request, context):
        if not request.HasField("salesperson"):
            raise InvalidArgument({"salesperson": "is required"})
        return await self.handlers.create_salesperson(identity.current(), request.salesperson)

    async def UpdateSalesperson(self, request, context):
        person_id = resource_id(request.salesperson.name, "salespeople", "salesperson.name")
        fields = masked_fields(mask_paths(request.update_mask.paths), SALESPERSON_FIELDS)
        return await self.handlers.update_salesperson(identity.current(), person_id, request.salesperson, fields)
