"""catalog's client: a trim as the catalogue has it, for the services that stock or price
vehicles: asked of catalog each time (inventory, adding stock), or kept a few seconds
(pricing, quoting)."""
import uuid

from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.kit.calls import Peers
from services.kit.errors import NotFound
from services.kit.protos import resource_ids
from services.kit.ttl_cache import ExpiringCache

# Every catalog event: any of them may change what a kept model says.
EVERY_CHANGE = "autosalon.catalog.>"


def trim_ids(trim_name: str, field: str = "name") -> tuple[uuid.UUID, uuid.UUID]:
    """(model id, trim id) of "models/{uuid}/trims/{uuid}"; InvalidArgument on `field` otherwise."""
    return resource_ids(trim_name, "models", "trims", field=field)


async def get_model(peers: Peers, model_id: uuid.UUID) -> catalog_pb2.VehicleModel:
    """The model with its trims, as catalog has it now; NotFound when it does not exist."""
    return await peers.call("catalog", catalog_pb2_grpc.CatalogServiceStub, "GetModel",
                            catalog_pb2.GetModelRequest(name=f"models/{model_id}"))


async def get_trim(peers: Peers, trim_name: str, field: str = "trim") -> tuple[catalog_pb2.VehicleModel, catalog_pb2.Trim]:
    """The model (with its trims) and the named trim, as catalog has them now, in one call.
    NotFound when either is unknown."""
    model_id, _ = trim_ids(trim_name, field)
    model = await get_model(peers, model_id)
    return model, _trim_of(model, trim_name)


def _trim_of(model: catalog_pb2.VehicleModel, trim_name: str) -> catalog_pb2.Trim:
    trim = next((trim for trim in model.trims if trim.name == trim_name), None)
    if trim is None:
        raise NotFound(f"{trim_name} does not exist")
    return trim


class Catalogue:
    """Models as catalog has them, kept a few seconds: pricing needs one for every quote.

    Any catalog event clears what is kept (`forget`, to be called for every event on
    EVERY_CHANGE; the catalogue changes rarely), so a new price holds for the next quote; an
    event missed while NATS was away is bounded by the time-to-live.
    """

    def __init__(self, peers: Peers, ttl_seconds: float = 10):
        self._peers = peers
        self._models: ExpiringCache[catalog_pb2.VehicleModel] = ExpiringCache(ttl_seconds)

    async def get_trim(self, trim_name: str, field: str = "trim") -> tuple[catalog_pb2.VehicleModel, catalog_pb2.Trim]:
        """As the module's get_trim, from the kept model when there is one."""
        model_id, _ = trim_ids(trim_name, field)
        model = self._models.get(model_id)
        if model is None:
            generation = self._models.generation
            model = await get_model(self._peers, model_id)
            self._models.put(model_id, model, generation)
        return model, _trim_of(model, trim_name)

    def forget(self, envelope=None) -> None:
        self._models.clear()
