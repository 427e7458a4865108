"""A trim as the catalogue has it, for the services that stock or price vehicles: asked of
catalog each time (inventory, adding stock), or kept a few seconds (pricing, quoting)."""
import uuid

from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from .bus import Bus, on_every_event
from .cache import ExpiringCache
from .calls import Peers
from .errors import InvalidArgument, NotFound


def trim_ids(trim_name: str, field: str = "name") -> tuple[uuid.UUID, uuid.UUID]:
    """(model id, trim id) of "models/{uuid}/trims/{uuid}"; InvalidArgument on `field` otherwise."""
    parts = trim_name.split("/")
    try:
        if len(parts) != 4 or parts[0] != "models" or parts[2] != "trims":
            raise ValueError
        return uuid.UUID(parts[1]), uuid.UUID(parts[3])
    except ValueError:
        raise InvalidArgument({field: "must look like models/{uuid}/trims/{uuid}"}) from None


async def find_trim(peers: Peers, trim_name: str, field: str = "trim") -> tuple[catalog_pb2.VehicleModel, catalog_pb2.Trim]:
    """The model (with its trims) and the named trim, as catalog has them now, in one call
    through its breaker. NotFound when either is unknown."""
    model_id, _ = trim_ids(trim_name, field)
    model = await _ask_for_model(peers, model_id)
    return model, _trim_of(model, trim_name)


async def _ask_for_model(peers: Peers, model_id: uuid.UUID) -> catalog_pb2.VehicleModel:
    return await peers.call("catalog", catalog_pb2_grpc.CatalogServiceStub, "GetModel",
                            catalog_pb2.GetModelRequest(name=f"models/{model_id}"))


def _trim_of(model: catalog_pb2.VehicleModel, trim_name: str) -> catalog_pb2.Trim:
    trim = next((trim for trim in model.trims if trim.name == trim_name), None)
    if trim is None:
        raise NotFound(f"{trim_name} does not exist")
    return trim


class Catalogue:
    """Models as catalog has them, kept a few seconds: pricing needs one for every quote.

    Any catalog event clears what is kept (the catalogue changes rarely), so a new price holds
    for the next quote; an event missed while NATS was away is bounded by the time-to-live.
    """

    def __init__(self, peers: Peers, ttl_seconds: float = 10):
        self._peers = peers
        self._models: ExpiringCache[catalog_pb2.VehicleModel] = ExpiringCache(ttl_seconds)

    async def find_trim(self, trim_name: str, field: str = "trim") -> tuple[catalog_pb2.VehicleModel, catalog_pb2.Trim]:
        """As the module's find_trim, from the kept model when there is one."""
        model_id, _ = trim_ids(trim_name, field)
        model = self._models.get(model_id)
        if model is None:
            generation = self._models.generation
            model = await _ask_for_model(self._peers, model_id)
            self._models.put(model_id, model, generation)
        return model, _trim_of(model, trim_name)

    def forget(self) -> None:
        self._models.clear()

    async def follow_changes(self, events: Bus) -> None:
        """Runs for the life of the service: every catalog event clears the kept models."""
        await on_every_event(events, "autosalon.catalog.>", lambda envelope: self.forget())
