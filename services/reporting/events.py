"""What reporting consumes: sales' orders (each step with its moment), inventory's vehicles
(brand, model, branch), config's salespeople (who a staff user is), financing's decisions,
insurance's policies issued or cancelled and claims approved, booking's bookings and test
drives."""
import datetime

from autosalon.booking.v1 import booking_pb2
from autosalon.common.v1 import common_pb2
from autosalon.config.v1 import config_pb2
from autosalon.financing.v1 import financing_pb2
from autosalon.insurance.v1 import insurance_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from . import domain
from .handlers import ReportingHandlers


def _at(envelope: common_pb2.EventEnvelope) -> datetime.datetime:
    return envelope.time.ToDatetime(tzinfo=datetime.timezone.utc)


def orders(handlers: ReportingHandlers) -> Routes:
    def step(name: str) -> Route:
        async def apply(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.order_changed(uow, name, event.order, event.actor, _at(envelope))

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


def loans(handlers: ReportingHandlers) -> Routes:
    def decided(decision: str) -> Route:
        async def apply(uow: UnitOfWork, event: financing_pb2.ApplicationEvent,
                        envelope: common_pb2.EventEnvelope) -> None:
            await handlers.application_decided(uow, decision, event.application, _at(envelope))

        return Route(financing_pb2.ApplicationEvent, apply)

    return {f"autosalon.financing.application.{decision}": decided(decision) for decision in ("approved", "rejected")}


def insurance(handlers: ReportingHandlers) -> Routes:
    def moved(step: str) -> Route:
        async def apply(uow: UnitOfWork, event: insurance_pb2.PolicyEvent, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.policy_changed(uow, step, event.policy, _at(envelope))

        return Route(insurance_pb2.PolicyEvent, apply)

    async def approved(uow: UnitOfWork, event: insurance_pb2.ClaimEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.claim_approved(uow, event.claim, event.policy, _at(envelope))

    return {"autosalon.insurance.policy.issued": moved("issued"),
            "autosalon.insurance.policy.cancelled": moved("cancelled"),
            "autosalon.insurance.claim.approved": Route(insurance_pb2.ClaimEvent, approved)}


def workshop(handlers: ReportingHandlers) -> Routes:
    def booked(cancelled: bool) -> Route:
        async def apply(uow: UnitOfWork, event: booking_pb2.BookingEvent, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.booking_changed(uow, event.booking, cancelled)

        return Route(booking_pb2.BookingEvent, apply)

    async def test_drive(uow: UnitOfWork, event: booking_pb2.TestDriveEvent, envelope: common_pb2.EventEnvelope
                         ) -> None:
        await handlers.test_drive_booked(uow, event.test_drive, _at(envelope))

    return {"autosalon.booking.booking.created": booked(False), "autosalon.booking.booking.rescheduled": booked(False),
            "autosalon.booking.booking.cancelled": booked(True),
            "autosalon.booking.test_drive.created": Route(booking_pb2.TestDriveEvent, test_drive)}
