"""pricing's kept catalogue: one call to catalog per model until a catalog event says it changed."""
import uuid

import pytest

from autosalon.catalog.v1 import catalog_pb2
from services.kit.errors import NotFound
from services.peers.catalog import Catalogue

MODEL, TRIM = uuid.uuid4(), uuid.uuid4()
TRIM_NAME = f"models/{MODEL}/trims/{TRIM}"


class _Catalog:
    """Stands in for the catalog service behind Peers.call, counting the calls it gets."""

    def __init__(self):
        self.calls = 0

    async def call(self, service, stub, method, request):
        assert (service, method, request.name) == ("catalog", "GetModel", f"models/{MODEL}")
        self.calls += 1
        return catalog_pb2.VehicleModel(name=f"models/{MODEL}", trims=[catalog_pb2.Trim(name=TRIM_NAME)])


async def test_a_model_is_asked_for_once_then_kept():
    catalog = _Catalog()
    kept = Catalogue(catalog)
    for _ in range(3):
        model, trim = await kept.get_trim(TRIM_NAME)
        assert trim.name == TRIM_NAME and model.name == f"models/{MODEL}"
    assert catalog.calls == 1


async def test_a_catalog_change_makes_it_ask_again():
    catalog = _Catalog()
    kept = Catalogue(catalog)
    await kept.get_trim(TRIM_NAME)
    kept.forget()
    await kept.get_trim(TRIM_NAME)
    assert catalog.calls == 2


async def test_a_kept_model_expires(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("services.kit.ttl_cache.time.monotonic", lambda: clock[0])
    catalog = _Catalog()
    kept = Catalogue(catalog, ttl_seconds=10)
    await kept.get_trim(TRIM_NAME)
    clock[0] += 11
    await kept.get_trim(TRIM_NAME)
    assert catalog.calls == 2


async def test_an_unknown_trim_of_a_kept_model_is_not_found():
    kept = Catalogue(_Catalog())
    with pytest.raises(NotFound):
        await kept.get_trim(f"models/{MODEL}/trims/{uuid.uuid4()}")
