"""What reporting consumes: sales' orders (each step with its moment), inventory's vehicles
(brand, model, branch) and config's salespeople (who a staff user is)."""
import datetime

from autosalon.common.v1 import common_pb2
from autosalon.config.v1 import config_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from . import domain
from .handlers import ReportingHandlers


def orders(handlers: ReportingHandlers) -> Routes:
    def step(name: str) -> Route:
        async def apply(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.order_changed(uow, name, event.order, event.actor,
                                         envelope.time.ToDatetime(tzinfo=datetime.timezone.utc))

        return Route(sales_pb2.OrderChanged, apply)

    return {f"autosalon.sales.order.{name}": step(name) for name in (
        domain.CREATED, domain.CONFIRMED, domain.PAID, domain.COMPLETED, domain.CANCELLED)}


def stock(handlers: ReportingHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: inventory_pb2.VehicleEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.vehicle_changed(uow, event.vehicle)

    route = Route(inventory_pb2.VehicleEvent, changed)
    return {"autosalon.inventory.vehicle.added": route, "autosalon.inventory.vehicle.updated": route}


def staff(handlers: ReportingHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: config_pb2.SalespersonEvent, envelope: common_pb2.EventEnvelope
                      ) -> None:
        await handlers.salesperson_changed(uow, event.salesperson)

    route = Route(config_pb2.SalespersonEvent, changed)
    return {"autosalon.config.salesperson.created": route, "autosalon.config.salesperson.changed": route}
