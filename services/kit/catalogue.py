"""A trim as the catalogue has it now, for the services that stock or price vehicles."""
import uuid

from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc

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
    """The model (with its trims) and the named trim, in one call to catalog through its breaker.
    NotFound when either is unknown."""
    model_id, _ = trim_ids(trim_name, field)
    model = await peers.call("catalog", catalog_pb2_grpc.CatalogServiceStub, "GetModel",
                             catalog_pb2.GetModelRequest(name=f"models/{model_id}"))
    trim = next((trim for trim in model.trims if trim.name == trim_name), None)
    if trim is None:
        raise NotFound(f"{trim_name} does not exist")
    return model, trim
