"""catalog's use cases, each one unit of work."""
import contextlib
import json
import uuid
from decimal import Decimal

import sqlalchemy as sa

from autosalon.catalog.v1 import catalog_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.kit.idempotency import NO_KEY, IdempotencyKey, still_there
from services.kit.identity import Identity
from services.kit.masks import masked_fields
from services.kit.money import to_proto
from services.kit.protos import timestamp
from services.kit.statements import Row
from services.kit.ttl_cache import ExpiringCache

from . import domain
from .convert import model_to_proto, trim_fields_of, trim_row, trim_to_proto
from .store import CatalogRepository


def _duplicate_model(fields: domain.ModelFields) -> AlreadyExists:
    return AlreadyExists(f"{fields.brand} {fields.model} {fields.year} is already in the catalogue")


class CatalogHandlers:
    def __init__(self, database: Database):
        self.database = database
        # Catalogue pages are read far more often than the catalogue changes: whole answers
        # are kept for a minute, and dropped at once on any change (ours or, through
        # catalog's events, another instance's, a few milliseconds later). Whoever is signed
        # in (staff above all) must see a change made through any instance at once: their
        # answers are kept under the catalogue's version, read from PostgreSQL first (one row).
        self.reads: ExpiringCache = ExpiringCache(ttl_seconds=60)

    @contextlib.asynccontextmanager
    async def _changing(self):
        """A unit of work that changes the catalogue: cached answers go once it commits."""
        async with self.database.unit_of_work() as uow:
            yield uow
            await uow.repository.raise_version()
        self.reads.clear()

    async def _cached(self, key, read, fresh: bool):
        if fresh:
            async with self.database.reading() as uow:
                # Read before the answer: a change committed in between makes it newer, never older.
                key = (await uow.repository.version(), *key)
        found = self.reads.get(key)
        if found is None:
            generation = self.reads.generation
            found = await read()
            self.reads.put(key, found, generation)
        return found

    async def create_model(self, caller: Identity, fields: domain.ModelFields,
                           idempotency_key: IdempotencyKey = NO_KEY) -> catalog_pb2.VehicleModel:
        """A retry with the same key returns the model the first attempt created."""
        fields = domain.validate_model(fields)
        created = now()
        row = {
            "id": uuid.uuid4(), **fields.__dict__,
            "created_at": created, "updated_at": created,
            "created_by": caller.user_name, "updated_by": caller.user_name,
        }
        async with self._changing() as uow:
            catalog = uow.repository
            if earlier := await catalog.claim_key(
                    caller.user_name, "models", idempotency_key, row["id"], created):
                return model_to_proto(still_there(await catalog.model(earlier), f"models/{earlier}"), [])
            if not await catalog.add_model(row):
                raise _duplicate_model(fields)
            model = model_to_proto(await catalog.model(row["id"]), [])
            await uow.emit("model.created", model.name, catalog_pb2.ModelEvent(model=model))
        return model

    async def get_model(self, model_id: uuid.UUID, fresh: bool = True) -> catalog_pb2.VehicleModel:
        return await self._cached(("model", model_id), lambda: self._read_model(model_id), fresh)

    async def _read_model(self, model_id: uuid.UUID) -> catalog_pb2.VehicleModel:
        async with self.database.reading() as uow:
            catalog = uow.repository
            row = await catalog.model(model_id)
            if row is None:
                raise NotFound(f"models/{model_id} does not exist")
            return model_to_proto(row, (await catalog.trims_of([model_id]))[model_id])

    async def list_models(
        self, search: domain.ModelSearch, requested_size: int, page_token: str, with_trims: bool,
        fresh: bool = True,
    ) -> tuple[list[catalog_pb2.VehicleModel], str, int]:
        key = ("search", json.dumps(search.key(), sort_keys=True), requested_size, page_token,
               with_trims)
        return await self._cached(
            key, lambda: self._search(search, requested_size, page_token, with_trims), fresh)

    async def _search(
        self, search: domain.ModelSearch, requested_size: int, page_token: str, with_trims: bool
    ) -> tuple[list[catalog_pb2.VehicleModel], str, int]:
        size = paging.page_size(requested_size)
        position = paging.decode_token(page_token, search.key())
        async with self.database.reading() as uow:
            catalog = uow.repository
            rows, total = await catalog.search(search, size, _typed(position, search.order))
            rows, more = rows[:size], len(rows) > size
            trims = await catalog.trims_of([row.id for row in rows] if with_trims else [])
        next_token = ""
        if more:
            last = rows[-1]
            key = {"price": [str(last.base_price)], "year": [last.year],
                   "name": [last.brand.lower(), last.model.lower()]}[search.order]
            next_token = paging.encode_token(key + [str(last.id)], search.key())
        return [model_to_proto(row, trims.get(row.id, [])) for row in rows], next_token, total

    async def update_model(
        self, caller: Identity, model_id: uuid.UUID, changes: domain.ModelFields, mask: list[str]
    ) -> catalog_pb2.VehicleModel:
        fields_to_change = masked_fields(mask, domain.MODEL_MASK)
        async with self._changing() as uow:
            catalog = uow.repository
            current = await catalog.model(model_id, for_update=True)
            if current is None:
                raise NotFound(f"models/{model_id} does not exist")
            merged = domain.ModelFields(**{
                name: getattr(changes if name in fields_to_change else current, name)
                for name in domain.MODEL_MASK
            })
            merged = domain.validate_model(merged)
            changed_at = now()
            try:
                async with uow.savepoint():
                    await catalog.update_model(model_id, {
                        **merged.__dict__, "updated_at": changed_at, "updated_by": caller.user_name})
            except sa.exc.IntegrityError:
                raise _duplicate_model(merged) from None
            if merged.base_price != current.base_price:
                await catalog.record_price_change(
                    model_id, current.base_price, merged.base_price, caller.user_name, changed_at)
                change = catalog_pb2.PriceChange(
                    old_price=to_proto(current.base_price), new_price=to_proto(merged.base_price),
                    changed_by=caller.user_name, change_time=timestamp(changed_at))
                await uow.emit("model.price_changed", f"models/{model_id}",
                               catalog_pb2.PriceChangedEvent(model=f"models/{model_id}", change=change))
            model = model_to_proto(await catalog.model(model_id), (await catalog.trims_of([model_id]))[model_id])
            await uow.emit("model.updated", model.name, catalog_pb2.ModelEvent(model=model))
        return model

    async def delete_model(self, model_id: uuid.UUID) -> None:
        async with self._changing() as uow:
            catalog = uow.repository
            row = await catalog.model(model_id, for_update=True)
            if row is None:
                raise NotFound(f"models/{model_id} does not exist")
            model = model_to_proto(row, [])
            await catalog.delete_model(model_id)
            await uow.emit("model.deleted", model.name, catalog_pb2.ModelEvent(model=model))

    async def list_trims(self, model_id: uuid.UUID, fresh: bool = True) -> list[catalog_pb2.Trim]:
        return list((await self.get_model(model_id, fresh)).trims)

    async def get_trim(self, model_id: uuid.UUID, trim_id: uuid.UUID) -> catalog_pb2.Trim:
        async with self.database.reading() as uow:
            catalog = uow.repository
            model, trim = await catalog.model(model_id), await catalog.trim(model_id, trim_id)
        if model is None or trim is None:
            raise NotFound(f"models/{model_id}/trims/{trim_id} does not exist")
        return trim_to_proto(trim, model.base_price)

    async def create_trim(
        self, caller: Identity, model_id: uuid.UUID, fields: domain.TrimFields, idempotency_key: IdempotencyKey = NO_KEY
    ) -> catalog_pb2.Trim:
        """A retry with the same key returns the trim the first attempt created."""
        fields = domain.validate_trim(fields)
        created = now()
        row = {
            "id": uuid.uuid4(), "model_id": model_id, **trim_row(fields),
            "created_at": created, "updated_at": created,
            "created_by": caller.user_name, "updated_by": caller.user_name,
        }
        async with self._changing() as uow:
            catalog = uow.repository
            model = await catalog.model(model_id, for_update=True)
            if model is None:
                raise NotFound(f"models/{model_id} does not exist")
            if earlier := await catalog.claim_key(
                    caller.user_name, "trims", idempotency_key, row["id"], created):
                found = still_there(await catalog.trim(model_id, earlier), f"models/{model_id}/trims/{earlier}")
                return trim_to_proto(found, model.base_price)
            if await catalog.count_trims(model_id) >= domain.MAX_TRIMS_PER_MODEL:
                raise FailedPrecondition(
                    f"{model.brand} {model.model} has {domain.MAX_TRIMS_PER_MODEL} trims, the most a model may have")
            if not await catalog.add_trim(row):
                raise AlreadyExists(f"{model.brand} {model.model} already has a trim {fields.display_name!r}")
            trim = trim_to_proto(await catalog.trim(model_id, row["id"]), model.base_price)
            await uow.emit("trim.created", trim.name, catalog_pb2.TrimEvent(trim=trim))
        return trim

    async def update_trim(
        self, caller: Identity, model_id: uuid.UUID, trim_id: uuid.UUID,
        changes: domain.TrimFields, mask: list[str],
    ) -> catalog_pb2.Trim:
        fields_to_change = masked_fields(mask, domain.TRIM_MASK)
        async with self._changing() as uow:
            catalog = uow.repository
            model, current = await _model_and_trim(catalog, model_id, trim_id)
            stored = trim_fields_of(current)
            merged = domain.validate_trim(domain.TrimFields(**{
                name: getattr(changes if name in fields_to_change else stored, name)
                for name in domain.TRIM_MASK
            }))
            try:
                async with uow.savepoint():
                    await catalog.update_trim(trim_id, {
                        **trim_row(merged), "updated_at": now(), "updated_by": caller.user_name})
            except sa.exc.IntegrityError:
                raise AlreadyExists(f"the model already has a trim {merged.display_name!r}") from None
            trim = trim_to_proto(await catalog.trim(model_id, trim_id), model.base_price)
            await uow.emit("trim.updated", trim.name, catalog_pb2.TrimEvent(trim=trim))
        return trim

    async def delete_trim(self, model_id: uuid.UUID, trim_id: uuid.UUID) -> None:
        async with self._changing() as uow:
            catalog = uow.repository
            model, current = await _model_and_trim(catalog, model_id, trim_id)
            trim = trim_to_proto(current, model.base_price)
            await catalog.delete_trim(trim_id)
            await uow.emit("trim.deleted", trim.name, catalog_pb2.TrimEvent(trim=trim))

    async def price_history(
        self, model_id: uuid.UUID, requested_size: int, page_token: str
    ) -> tuple[list[catalog_pb2.PriceChange], str]:
        size = paging.page_size(requested_size)
        query = {"model": str(model_id)}
        after = paging.sequence_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            catalog = uow.repository
            if await catalog.model(model_id) is None:
                raise NotFound(f"models/{model_id} does not exist")
            rows = await catalog.price_history(model_id, size, after)
        next_token = paging.encode_token([rows[size - 1].seq], query) if len(rows) > size else ""
        return [
            catalog_pb2.PriceChange(
                old_price=to_proto(row.old_price), new_price=to_proto(row.new_price),
                changed_by=row.changed_by, change_time=timestamp(row.changed_at))
            for row in rows[:size]
        ], next_token


async def _model_and_trim(
    catalog: CatalogRepository, model_id: uuid.UUID, trim_id: uuid.UUID
) -> tuple[Row, Row]:
    """A model and one of its trims, the trim locked for a change, or NotFound."""
    model = await catalog.model(model_id)
    trim = await catalog.trim(model_id, trim_id, for_update=True)
    if model is None or trim is None:
        raise NotFound(f"models/{model_id}/trims/{trim_id} does not exist")
    return model, trim


def _typed(position: list | None, order: str) -> list | None:
    """A page token's position with the types its sort columns compare as."""
    if position is None:
        return None
    try:
        *keys, last_id = position
        if order == "price":
            keys = [Decimal(keys[0])]
        elif order == "year":
            keys = [int(keys[0])]
        return [*keys, uuid.UUID(last_id)]
    except (ValueError, ArithmeticError, IndexError, TypeError):
        raise InvalidArgument({"page_token": "is not a token this API issued"}) from None
