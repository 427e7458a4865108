"""catalog's gRPC servicer: protobuf in, use case, protobuf out."""
from decimal import Decimal

from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.kit import identity, money
from services.kit.cache_control import allow_public_caching
from services.kit.errors import InvalidArgument
from services.kit.identity import ADMINS, PUBLIC, STAFF
from services.kit.masks import masked_fields
from services.kit.protos import idempotency_key, mask_paths

from . import domain
from .convert import body_type_from_proto, model_id, specifications_from_proto
from .handlers import CatalogHandlers
from .convert import trim_ids

ACCESS = {
    "ListModels": PUBLIC,
    "GetModel": PUBLIC,
    "ListTrims": PUBLIC,
    "GetTrim": PUBLIC,
    "CreateModel": STAFF,
    "UpdateModel": STAFF,
    "CreateTrim": STAFF,
    "UpdateTrim": STAFF,
    "ListPriceChanges": STAFF,
    "DeleteModel": ADMINS,
    "DeleteTrim": ADMINS,
}


def _price(message, field: str, required: bool) -> Decimal:
    if not message.amount and not required:
        return Decimal("0")
    return money.from_proto(message, field)


def _model_fields(model: catalog_pb2.VehicleModel, mask: set[str] | None = None) -> domain.ModelFields:
    """The request's model; with a mask, only the masked fields need to be there."""
    wanted = mask if mask is not None else domain.MODEL_MASK
    return domain.ModelFields(
        brand=model.brand,
        model=model.model,
        year=model.year,
        body_type=body_type_from_proto(model.body_type),
        base_price=_price(model.base_price, "model.base_price", "base_price" in wanted),
        specifications=specifications_from_proto(model.specifications),
        description=model.description,
    )


def _trim_fields(trim: catalog_pb2.Trim, mask: set[str] | None = None) -> domain.TrimFields:
    wanted = mask if mask is not None else domain.TRIM_MASK
    return domain.TrimFields(
        display_name=trim.display_name,
        price_delta=_price(trim.price_delta, "trim.price_delta", "price_delta" in wanted),
        features=list(trim.features),
        options=tuple((option.name, _price(option.price, f"trim.options[{index}].price", "options" in wanted))
                      for index, option in enumerate(trim.options)),
    )


def _signed_in() -> bool:
    """Whoever is signed in reads the catalogue as it is now, not as an instance kept it."""
    return identity.optional() is not None


class CatalogApi(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, handlers: CatalogHandlers, public_cache_seconds: int):
        self.handlers = handlers
        # Anonymous reads of the showroom may be this old when the edge answers them.
        self.public_cache_seconds = public_cache_seconds

    async def ListModels(self, request, context):
        body_type = None
        if request.body_type:
            body_type = body_type_from_proto(request.body_type)
            if body_type is None:
                raise InvalidArgument({"body_type": "is not a known body type"})
        search = domain.build_search(
            request.brand, request.model, request.year_min, request.year_max, request.price_min,
            request.price_max, body_type, request.filter, request.order_by,
        )
        models, next_token, total = await self.handlers.list_models(
            search, request.page_size, request.page_token,
            with_trims=request.view == catalog_pb2.MODEL_VIEW_FULL, fresh=_signed_in())
        await allow_public_caching(context, self.public_cache_seconds)
        return catalog_pb2.ListModelsResponse(models=models, next_page_token=next_token, total_size=total)

    async def GetModel(self, request, context):
        model = await self.handlers.get_model(model_id(request.name), fresh=_signed_in())
        await allow_public_caching(context, self.public_cache_seconds)
        return model

    async def CreateModel(self, request, context):
        if not request.HasField("model"):
            raise InvalidArgument({"model": "is required"})
        return await self.handlers.create_model(
            identity.current(), _model_fields(request.model), idempotency_key(context, request, required=False))

    async def UpdateModel(self, request, context):
        paths = mask_paths(request.update_mask.paths)
        fields = masked_fields(paths, domain.MODEL_MASK)
        return await self.handlers.update_model(
            identity.current(), model_id(request.model.name, "model.name"),
            _model_fields(request.model, fields), paths,
        )

    async def DeleteModel(self, request, context):
        await self.handlers.delete_model(model_id(request.name))
        return catalog_pb2.DeleteModelResponse()

    async def ListTrims(self, request, context):
        trims = await self.handlers.list_trims(model_id(request.parent, "parent"), fresh=_signed_in())
        await allow_public_caching(context, self.public_cache_seconds)
        return catalog_pb2.ListTrimsResponse(trims=trims)

    async def GetTrim(self, request, context):
        trim = await self.handlers.get_trim(*trim_ids(request.name))
        await allow_public_caching(context, self.public_cache_seconds)
        return trim

    async def CreateTrim(self, request, context):
        if not request.HasField("trim"):
            raise InvalidArgument({"trim": "is required"})
        return await self.handlers.create_trim(
            identity.current(), model_id(request.parent, "parent"), _trim_fields(request.trim),
            idempotency_key(context, request, required=False))

    async def UpdateTrim(self, request, context):
        paths = mask_paths(request.update_mask.paths)
        fields = masked_fields(paths, domain.TRIM_MASK)
        return await self.handlers.update_trim(
            identity.current(), *trim_ids(request.trim.name, "trim.name"),
            _trim_fields(request.trim, fields), paths,
        )

    async def DeleteTrim(self, request, context):
        await self.handlers.delete_trim(*trim_ids(request.name))
        return catalog_pb2.DeleteTrimResponse()

    async def ListPriceChanges(self, request, context):
        changes, next_token = await self.handlers.price_history(
            model_id(request.parent, "parent"), request.page_size, request.page_token)
        return catalog_pb2.ListPriceChangesResponse(price_changes=changes, next_page_token=next_token)
