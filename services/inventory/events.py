"""What inventory consumes: catalog's model and trim events, into its read copy; sales'
order events, for the purchase saga; and the background sweep that frees expired
reservations (publishing vehicle.released)."""
import asyncio
import logging
import uuid

from autosalon.catalog.v1 import catalog_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.bus import payload
from services.kit.db import UnitOfWork, report_failure
from services.kit.errors import FailedPrecondition, NotFound

from .handlers import InventoryHandlers, remember_model, remember_trim
from .store import catalog_models, catalog_trims

log = logging.getLogger(__name__)


async def apply_catalog_event(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
    kind = envelope.type.removeprefix("autosalon.catalog.")
    if kind.startswith("model."):
        event = payload(envelope, catalog_pb2.ModelEvent)
        if kind == "model.deleted":
            await _mark_deleted(uow, catalog_models, event.model.name.removeprefix("models/"))
        elif event.HasField("model"):
            await remember_model(uow, event.model)
    elif kind.startswith("trim."):
        event = payload(envelope, catalog_pb2.TrimEvent)
        model_id = uuid.UUID(event.trim.name.split("/")[1])
        if kind == "trim.deleted":
            await _mark_deleted(uow, catalog_trims, event.trim.name.split("/")[3])
        else:
            await remember_trim(uow, model_id, event.trim)


async def _mark_deleted(uow: UnitOfWork, table, raw_id: str) -> None:
    await uow.connection.execute(
        table.update().where(table.c.id == uuid.UUID(raw_id)).values(deleted=True))


async def expire_reservations(handlers: InventoryHandlers, every_seconds: float) -> None:
    while True:
        try:
            freed = await handlers.release_expired()
            if freed:
                log.info("released %d expired reservation(s)", freed)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            report_failure(log, "reservation sweep failed; trying again", error)
        await asyncio.sleep(every_seconds)


def on_order_event(handlers: InventoryHandlers, hold_seconds: int):
    """The purchase saga: hold the car for a confirmed order, give it back when the order is
    cancelled, and mark it sold when the order is paid. Each step is idempotent per order."""

    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        kind = envelope.type.removeprefix("autosalon.sales.order.")
        if kind not in ("confirmed", "cancelled", "paid"):
            return
        event = payload(envelope, sales_pb2.OrderChanged)
        order = event.order
        vehicle_id = uuid.UUID(order.vehicle.removeprefix("vehicles/"))
        # In the consumer's own unit of work: the change and the event's record commit together.
        # A refusal writes nothing (a failed reservation is announced as reservation_failed).
        try:
            if kind == "confirmed":
                _, refusal = await handlers.reserve_in(uow, "sales", vehicle_id, order.name, hold_seconds)
                if refusal is not None:
                    raise refusal
            elif kind == "cancelled":
                await handlers.release_in(uow, "sales", vehicle_id, order.name)
            else:
                await handlers.mark_sold_in(uow, "sales", vehicle_id, order.name)
        except (FailedPrecondition, NotFound) as refusal:
            log.info("%s of %s for %s: %s", kind, order.vehicle, order.name, refusal.message)

    return apply
