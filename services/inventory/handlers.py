"""inventory's use cases, each one unit of work."""
import dataclasses
import logging
import uuid
from datetime import timedelta, timezone

from autosalon.catalog.v1 import catalog_pb2
from autosalon.inventory.v1 import inventory_pb2
from services.kit import money, paging, vin
from services.kit.calls import Peers
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.kit.idempotency import NO_KEY, IdempotencyKey
from services.kit.identity import Identity
from services.kit.masks import masked_fields
from services.kit.protos import resource_id
from services.kit.statements import Row
from services.peers import catalog

from . import domain
from .convert import vehicle_to_proto
from .store import InventoryRepository

log = logging.getLogger(__name__)


class InventoryHandlers:
    def __init__(self, database: Database, peers: Peers):
        self.database = database
        self.peers = peers

    async def add_vehicle(
        self, caller: Identity, raw_vin: str, model_name: str, trim_name: str,
        fields: domain.VehicleFields, idempotency_key: IdempotencyKey = NO_KEY,
    ) -> inventory_pb2.Vehicle:
        """A retry with the same key returns the vehicle the first attempt added."""
        facts = vin.decode(raw_vin)
        fields = domain.validate_vehicle(fields)
        model_id, trim_id = _catalogue_ids(model_name, trim_name)
        model, trim = await catalog.get_trim(self.peers, trim_name, "vehicle.trim")
        created = now()
        row = {
            "id": uuid.uuid4(), "vin": vin.normalize(raw_vin), "model_id": model_id,
            "trim_id": trim_id, **dataclasses.asdict(fields), "status": domain.AVAILABLE,
            "vin_facts": dataclasses.asdict(facts), "created_at": created, "updated_at": created,
            "created_by": caller.user_name, "updated_by": caller.user_name,
        }
        async with self.database.unit_of_work() as uow:
            if earlier := await uow.repository.claim_key(
                    caller.user_name, "vehicles", idempotency_key, row["id"], created):
                return await self._read(uow, earlier)
            await remember_model(uow, model)
            await remember_trim(uow, trim)
            if not await uow.repository.add(row):
                raise AlreadyExists(f"a vehicle with VIN {row['vin']} is already in stock", domain.VIN_TAKEN)
            vehicle = await self._read(uow, row["id"])
            await uow.emit("vehicle.added", vehicle.name, inventory_pb2.VehicleEvent(vehicle=vehicle))
        return vehicle

    async def _read(self, uow: UnitOfWork, vehicle_id: uuid.UUID) -> inventory_pb2.Vehicle:
        row = await uow.repository.vehicle(vehicle_id)
        if row is None:
            raise NotFound(f"vehicles/{vehicle_id} does not exist")
        return vehicle_to_proto(row)

    async def get_vehicle(self, vehicle_id: uuid.UUID) -> inventory_pb2.Vehicle:
        async with self.database.reading() as uow:
            return await self._read(uow, vehicle_id)

    async def list_vehicles(
        self, search: domain.VehicleFilter, requested_size: int, page_token: str
    ) -> tuple[list[inventory_pb2.Vehicle], str, int]:
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, search.key()))
        async with self.database.reading() as uow:
            rows, total = await uow.repository.page(search, size, after)
        rows, next_token = paging.newest_page(rows, size, search.key())
        return [vehicle_to_proto(row) for row in rows], next_token, total

    async def update_vehicle(
        self, caller: Identity, vehicle_id: uuid.UUID, changes: domain.VehicleFields, mask: list[str]
    ) -> inventory_pb2.Vehicle:
        fields = masked_fields(mask, domain.EDITABLE)
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.vehicle(vehicle_id, for_update=True)
            if current is None:
                raise NotFound(f"vehicles/{vehicle_id} does not exist")
            merged = domain.validate_vehicle(domain.VehicleFields(**{
                name: getattr(changes if name in fields else current, name) for name in domain.EDITABLE}))
            await repository.update(vehicle_id, {
                **dataclasses.asdict(merged), "updated_at": now(), "updated_by": caller.user_name})
            vehicle = await self._read(uow, vehicle_id)
            await uow.emit("vehicle.updated", vehicle.name, inventory_pb2.VehicleEvent(vehicle=vehicle))
        return vehicle

    async def reserve(
        self, who: str, vehicle_id: uuid.UUID, order_id: str, ttl_seconds: int
    ) -> inventory_pb2.Vehicle:
        async with self.database.unit_of_work() as uow:
            vehicle, refusal = await self.reserve_in(uow, who, vehicle_id, order_id, ttl_seconds)
        if refusal is not None:
            raise refusal
        return vehicle

    async def reserve_in(
        self, uow: UnitOfWork, who: str, vehicle_id: uuid.UUID, order_id: str, ttl_seconds: int
    ) -> tuple[inventory_pb2.Vehicle | None, FailedPrecondition | None]:
        """Holds the vehicle for the order within `uow`: (the vehicle, None), or (None, why
        not). A refusal is news too (the purchase saga cancels on it), announced in `uow`,
        in which the refused attempt wrote nothing."""
        order_id, hold = domain.check_order_id(order_id), domain.hold_seconds(ttl_seconds)
        changed_at = now()
        values = {"status": domain.RESERVED, "order_id": order_id,
                  "reserved_until": changed_at + timedelta(seconds=hold), "updated_at": changed_at, "updated_by": who}
        try:
            row, changed = await _change_for_order(uow.repository, vehicle_id, order_id,
                                                   domain.RESERVE_FROM, domain.reservation_outcome, values)
        except FailedPrecondition as refusal:
            await uow.emit("vehicle.reservation_failed", f"vehicles/{vehicle_id}",
                           inventory_pb2.ReservationFailedEvent(
                               vehicle=f"vehicles/{vehicle_id}", order_id=order_id, reason=refusal.message))
            return None, refusal
        vehicle = vehicle_to_proto(row)
        if changed:
            await uow.emit("vehicle.reserved", vehicle.name,
                           inventory_pb2.VehicleEvent(vehicle=vehicle, order_id=order_id))
        return vehicle, None

    async def release(self, who: str, vehicle_id: uuid.UUID, order_id: str) -> inventory_pb2.Vehicle:
        async with self.database.unit_of_work() as uow:
            return await self.release_in(uow, who, vehicle_id, order_id)

    async def release_in(self, uow: UnitOfWork, who: str, vehicle_id: uuid.UUID, order_id: str) -> inventory_pb2.Vehicle:
        return await _finish(uow, who, vehicle_id, domain.check_order_id(order_id), domain.RELEASE_FROM,
                             domain.release_outcome, {"status": domain.AVAILABLE, "order_id": None},
                             "vehicle.released", "released")

    async def mark_sold(self, who: str, vehicle_id: uuid.UUID, order_id: str) -> inventory_pb2.Vehicle:
        async with self.database.unit_of_work() as uow:
            return await self.mark_sold_in(uow, who, vehicle_id, order_id)

    async def mark_sold_in(self, uow: UnitOfWork, who: str, vehicle_id: uuid.UUID, order_id: str) -> inventory_pb2.Vehicle:
        order_id = domain.check_order_id(order_id)
        return await _finish(uow, who, vehicle_id, order_id, domain.SALE_FROM, domain.sale_outcome,
                             {"status": domain.SOLD, "order_id": order_id}, "vehicle.sold", "")

    async def release_expired(self) -> int:
        """One sweep of reservations past their time; returns how many it freed."""
        async with self.database.unit_of_work() as uow:
            released = await uow.repository.release_expired(now())
            for vehicle_id, order_id in released:
                vehicle = await self._read(uow, vehicle_id)
                await uow.emit("vehicle.released", vehicle.name, inventory_pb2.VehicleEvent(
                    vehicle=vehicle, order_id=order_id, reason="expired"))
        if released:
            log.info("released %d expired reservation(s)", len(released))
        return len(released)


async def _finish(uow: UnitOfWork, who: str, vehicle_id: uuid.UUID, order_id: str, start, outcome, values: dict,
                  event: str, reason: str) -> inventory_pb2.Vehicle:
    """Ends the order's reservation (released, or sold) within `uow`, if `outcome` says so."""
    values = {**values, "reserved_until": None, "updated_at": now(), "updated_by": who}
    row, changed = await _change_for_order(uow.repository, vehicle_id, order_id, start,
                                           outcome, values)
    vehicle = vehicle_to_proto(row)
    if changed:
        await uow.emit(event, vehicle.name, inventory_pb2.VehicleEvent(vehicle=vehicle, order_id=order_id, reason=reason))
    return vehicle


async def _change_for_order(repository: InventoryRepository, vehicle_id: uuid.UUID, order_id: str,
                            start: tuple[str, bool], outcome, values: dict) -> tuple[Row, bool]:
    """(the vehicle, whether it changed): `values` written if the vehicle is in the state
    `start` names, as it nearly always is, in one statement. Otherwise it is read under its
    lock for `outcome` to decide: already done (unchanged), possible after all (written now,
    under the lock), or refused (raised)."""
    changed = await repository.transition(vehicle_id, start, order_id, values)
    if changed is not None:
        return changed, True
    current = await repository.vehicle(vehicle_id, for_update=True)
    if current is None:
        raise NotFound(f"vehicles/{vehicle_id} does not exist")
    if not outcome(current.status, current.order_id, order_id):
        return current, False
    return await repository.transition(vehicle_id, start, order_id, values), True


def _catalogue_ids(model_name: str, trim_name: str) -> tuple[uuid.UUID, uuid.UUID]:
    problems = []
    try:
        model_id = resource_id(model_name, "models", "vehicle.model")
    except InvalidArgument as malformed:
        problems.extend(malformed.violations)
        model_id = None
    try:
        trim_model, trim_id = catalog.trim_ids(trim_name, "vehicle.trim")
        if model_id and trim_model != model_id:
            problems.append(("vehicle.trim", "must be a trim of vehicle.model"))
    except InvalidArgument as malformed:
        problems.extend(malformed.violations)
    if problems:
        raise InvalidArgument(problems)
    return model_id, trim_id


async def remember_model(uow: UnitOfWork, model: catalog_pb2.VehicleModel) -> None:
    await uow.repository.catalogue.put_model({
        "id": resource_id(model.name, "models"), "brand": model.brand,
        "model": model.model, "year": model.year,
        "base_price": money.from_proto(model.base_price, "base_price"),
        "changed_at": model.audit.update_time.ToDatetime(tzinfo=timezone.utc), "deleted": False,
    })


async def remember_trim(uow: UnitOfWork, trim: catalog_pb2.Trim) -> None:
    model_id, trim_id = catalog.trim_ids(trim.name)
    await uow.repository.catalogue.put_trim({
        "id": trim_id, "model_id": model_id,
        "display_name": trim.display_name,
        "price_delta": money.from_proto(trim.price_delta, "price_delta"),
        "changed_at": trim.audit.update_time.ToDatetime(tzinfo=timezone.utc), "deleted": False,
    })
