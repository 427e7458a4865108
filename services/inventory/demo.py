"""Demo stock for a new installation: vehicles with valid VINs in two branches.

Loaded once by ./scripts/up, after the mesh is healthy, through the edge's public gRPC API
as the initial admin (so it goes the way a manager's would); skipped when stock exists.
"""
import itertools
import random

import grpc

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2, inventory_pb2_grpc

from services.kit import vin
from services.kit.settings import Settings

BRANCHES = ("Moscow, Leningradsky prospekt 39", "Saint Petersburg, Pulkovskoe shosse 40")
COLOURS = ("white", "black", "silver", "grey", "dark blue", "red", "brown")
WMI = {
    "Lada": "XTA", "Haval": "XZG", "Chery": "LVV", "Geely": "LB3", "Kia": "KNA",
    "Hyundai": "Z94", "Toyota": "JTM", "Skoda": "TMB", "Volkswagen": "XW8", "Tank": "LGW",
    "Changan": "LS5", "UAZ": "XTT", "GAZ": "X96",
}
YEAR_CODES = {2024: "R", 2025: "S", 2026: "T"}
VEHICLES_PER_MODEL = 2
WANTED = 60


def make_vin(brand: str, year: int, serial: int) -> str:
    wmi = WMI.get(brand, "X9" + brand[0].upper().replace("I", "J").replace("O", "P").replace("Q", "R"))
    body = f"{wmi}AB12X0{YEAR_CODES.get(year, 'S')}0{serial:06d}"
    return vin.with_check_digit(body)


def load_stock(settings: Settings, edge: str) -> str:
    """Adds demo stock through the edge, as the initial admin, unless there is some; says which."""
    added = _add_through_edge(edge, settings.admin_email, settings.admin_password)
    return f"demo stock loaded, {added} vehicles" if added else "demo stock present"


def _add_through_edge(edge: str, email: str, password: str) -> int:
    with grpc.insecure_channel(edge) as channel:
        inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
        if inventory.ListVehicles(inventory_pb2.ListVehiclesRequest(page_size=1)).total_size:
            return 0
        tokens = auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(email=email, password=password))
        metadata = [("authorization", f"Bearer {tokens.access_token}")]
        models = catalog_pb2_grpc.CatalogServiceStub(channel).ListModels(
            catalog_pb2.ListModelsRequest(page_size=500, view=catalog_pb2.MODEL_VIEW_FULL)).models
        chooser = random.Random(3779)
        serials = itertools.count(1)
        added = 0
        for model in itertools.cycle(models):
            if added >= WANTED:
                break
            for trim in chooser.sample(list(model.trims), min(VEHICLES_PER_MODEL, len(model.trims))):
                used = chooser.random() < 0.25
                vehicle = inventory_pb2.Vehicle(
                    vin=make_vin(model.brand, model.year, next(serials)),
                    model=model.name, trim=trim.name, colour=chooser.choice(COLOURS),
                    mileage_km=chooser.randrange(15_000, 120_000) if used else chooser.randrange(0, 60),
                    condition=inventory_pb2.CONDITION_USED if used else inventory_pb2.CONDITION_NEW,
                    branch=BRANCHES[added % len(BRANCHES)],
                )
                if used:
                    discounted = round(float(trim.price.amount) * 0.8, -3)
                    vehicle.price_override.CopyFrom(
                        common_pb2.Money(currency_code="RUB", amount=f"{discounted:.2f}"))
                inventory.CreateVehicle(
                    inventory_pb2.CreateVehicleRequest(vehicle=vehicle), metadata=metadata)
                added += 1
        return added
