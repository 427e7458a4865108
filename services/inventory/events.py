"""What inventory consumes: catalog's model and trim events, into its read copy of the
catalogue; and sales' order events, for the purchase saga."""
import logging
from typing import Callable

from autosalon.catalog.v1 import catalog_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork
from services.kit.errors import FailedPrecondition, NotFound
from services.kit.protos import resource_id
from services.peers import catalog, sales

from .handlers import InventoryHandlers, remember_model, remember_trim

log = logging.getLogger(__name__)


async def _model_changed(uow: UnitOfWork, event: catalog_pb2.ModelEvent, envelope: common_pb2.EventEnvelope) -> None:
    await remember_model(uow, event.model)


async def _model_deleted(uow: UnitOfWork, event: catalog_pb2.ModelEvent, envelope: common_pb2.EventEnvelope) -> None:
    await uow.repository.catalogue.mark_model_deleted(resource_id(event.model.name, "models"))


async def _trim_changed(uow: UnitOfWork, event: catalog_pb2.TrimEvent, envelope: common_pb2.EventEnvelope) -> None:
    await remember_trim(uow, event.trim)


async def _trim_deleted(uow: UnitOfWork, event: catalog_pb2.TrimEvent, envelope: common_pb2.EventEnvelope) -> None:
    _, trim_id = catalog.trim_ids(event.trim.name)
    await uow.repository.catalogue.mark_trim_deleted(trim_id)


CATALOGUE: Routes = {
    "autosalon.catalog.model.created": Route(catalog_pb2.ModelEvent, _model_changed),
    "autosalon.catalog.model.updated": Route(catalog_pb2.ModelEvent, _model_changed),
    "autosalon.catalog.model.deleted": Route(catalog_pb2.ModelEvent, _model_deleted),
    "autosalon.catalog.trim.created": Route(catalog_pb2.TrimEvent, _trim_changed),
    "autosalon.catalog.trim.updated": Route(catalog_pb2.TrimEvent, _trim_changed),
    "autosalon.catalog.trim.deleted": Route(catalog_pb2.TrimEvent, _trim_deleted),
}


def saga(handlers: InventoryHandlers, hold_seconds: Callable[[], int]) -> Routes:
    """The purchase saga: hold the car for a confirmed order, give it back when the order is
    cancelled, and mark it sold when the order is paid. Each step is idempotent per order, and
    runs in the consumer's unit of work (the change and the event's record commit together).
    A refusal writes nothing (a failed reservation is announced as reservation_failed)."""

    def step(kind: str, act):
        async def apply(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
            order = event.order
            try:
                await act(uow, resource_id(order.vehicle, "vehicles"), order.name)
            except (FailedPrecondition, NotFound) as refusal:
                log.info("%s of %s for %s: %s", kind, order.vehicle, order.name, refusal.message)

        return Route(sales_pb2.OrderChanged, apply)

    async def reserve(uow: UnitOfWork, vehicle_id, order_name: str) -> None:
        _, refusal = await handlers.reserve_in(uow, "sales", vehicle_id, order_name, hold_seconds())
        if refusal is not None:
            raise refusal

    async def release(uow: UnitOfWork, vehicle_id, order_name: str) -> None:
        await handlers.release_in(uow, "sales", vehicle_id, order_name)

    async def sell(uow: UnitOfWork, vehicle_id, order_name: str) -> None:
        await handlers.mark_sold_in(uow, "sales", vehicle_id, order_name)

    return {
        sales.order_event("confirmed"): step("confirmed", reserve),
        sales.order_event("cancelled"): step("cancelled", release),
        sales.order_event("paid"): step("paid", sell),
    }
