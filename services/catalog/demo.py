"""A realistic showroom for a new installation: models and trims of brands sold in Russia.

Loaded once by ./scripts/up through the same use cases as the API (so every model is
validated and announced as an event); skipped when the catalogue has any model.
"""
import asyncio
from decimal import Decimal

from services.kit.db import Database
from services.kit.identity import Identity
from services.kit.settings import Settings

from . import convert, domain, store
from .handlers import CatalogHandlers

LOADER = Identity(user_id="demo-data", role="admin", email="", token="")

# brand, model, year, body, base price (RUB), engine, litres, hp, gearbox, drive,
# l/100 km, seats, doors, length mm, clearance mm, trunk l, range km
MODELS = [
    ("Lada", "Granta", 2025, "sedan", "759900", "petrol", "1.6", 90, "manual", "front", "6.8", 5, 4, 4280, 180, 520, 0),
    ("Lada", "Vesta", 2025, "sedan", "1359900", "petrol", "1.6", 106, "manual", "front", "7.2", 5, 4, 4496, 178, 480, 0),
    ("Lada", "Vesta SW Cross", 2025, "wagon", "1679900", "petrol", "1.8", 122, "cvt", "front", "7.9", 5, 5, 4424, 203, 480, 0),
    ("Lada", "Niva Legend", 2025, "suv", "1059900", "petrol", "1.7", 83, "manual", "all", "9.9", 4, 3, 3740, 200, 265, 0),
    ("Lada", "Niva Travel", 2025, "suv", "1379900", "petrol", "1.7", 80, "manual", "all", "9.7", 5, 5, 4099, 220, 315, 0),
    ("Lada", "Largus", 2025, "wagon", "1587000", "petrol", "1.6", 90, "manual", "front", "8.2", 7, 5, 4470, 170, 560, 0),
    ("Haval", "Jolion", 2025, "crossover", "2199000", "petrol", "1.5", 143, "dct", "front", "7.9", 5, 5, 4472, 180, 337, 0),
    ("Haval", "F7", 2025, "crossover", "2899000", "petrol", "1.5", 150, "dct", "front", "8.4", 5, 5, 4615, 190, 723, 0),
    ("Haval", "Dargo", 2025, "suv", "3299000", "petrol", "2.0", 192, "dct", "all", "9.8", 5, 5, 4620, 220, 735, 0),
    ("Haval", "H9", 2025, "suv", "4999000", "diesel", "2.0", 218, "automatic", "all", "9.1", 7, 5, 4950, 224, 310, 0),
    ("Chery", "Tiggo 4 Pro", 2025, "crossover", "1899900", "petrol", "1.5", 113, "cvt", "front", "7.3", 5, 5, 4318, 190, 340, 0),
    ("Chery", "Tiggo 7 Pro Max", 2025, "crossover", "2699900", "petrol", "1.6", 150, "dct", "all", "8.2", 5, 5, 4500, 190, 475, 0),
    ("Chery", "Tiggo 8 Pro Max", 2025, "crossover", "3599900", "petrol", "2.0", 197, "dct", "all", "8.9", 7, 5, 4745, 190, 193, 0),
    ("Chery", "Arrizo 8", 2025, "sedan", "2599900", "petrol", "1.6", 186, "dct", "front", "6.9", 5, 4, 4780, 140, 540, 0),
    ("Geely", "Coolray", 2025, "crossover", "2489990", "petrol", "1.5", 150, "dct", "front", "6.9", 5, 5, 4380, 196, 330, 0),
    ("Geely", "Atlas", 2025, "crossover", "3169990", "petrol", "2.0", 200, "automatic", "all", "8.5", 5, 5, 4670, 200, 560, 0),
    ("Geely", "Monjaro", 2025, "crossover", "4109990", "petrol", "2.0", 238, "automatic", "all", "8.7", 5, 5, 4770, 200, 460, 0),
    ("Geely", "Emgrand", 2025, "sedan", "1809990", "petrol", "1.5", 122, "cvt", "front", "6.3", 5, 4, 4638, 160, 542, 0),
    ("Kia", "Rio", 2024, "sedan", "1690000", "petrol", "1.6", 123, "automatic", "front", "6.6", 5, 4, 4400, 160, 480, 0),
    ("Kia", "Sportage", 2024, "crossover", "3590000", "petrol", "2.0", 150, "automatic", "all", "8.9", 5, 5, 4660, 181, 591, 0),
    ("Hyundai", "Solaris", 2024, "sedan", "1650000", "petrol", "1.6", 123, "automatic", "front", "6.6", 5, 4, 4405, 160, 480, 0),
    ("Hyundai", "Tucson", 2024, "crossover", "3690000", "petrol", "2.0", 150, "automatic", "all", "8.9", 5, 5, 4630, 181, 577, 0),
    ("Toyota", "Camry", 2025, "sedan", "4190000", "petrol", "2.5", 200, "automatic", "front", "7.3", 5, 4, 4915, 145, 493, 0),
    ("Toyota", "RAV4", 2025, "crossover", "4390000", "petrol", "2.0", 149, "cvt", "all", "7.7", 5, 5, 4600, 195, 580, 0),
    ("Toyota", "Land Cruiser Prado", 2025, "suv", "8490000", "diesel", "2.8", 204, "automatic", "all", "8.7", 7, 5, 4925, 215, 620, 0),
    ("Skoda", "Octavia", 2024, "liftback", "2990000", "petrol", "1.4", 150, "automatic", "front", "6.1", 5, 5, 4689, 156, 600, 0),
    ("Volkswagen", "Tiguan", 2024, "crossover", "4290000", "petrol", "2.0", 186, "dct", "all", "8.4", 5, 5, 4509, 200, 615, 0),
    ("Tank", "300", 2025, "suv", "4799000", "petrol", "2.0", 220, "automatic", "all", "11.5", 5, 5, 4760, 224, 400, 0),
    ("Exeed", "RX", 2025, "crossover", "4590000", "petrol", "2.0", 197, "dct", "all", "8.4", 5, 5, 4782, 195, 527, 0),
    ("Omoda", "C5", 2025, "crossover", "2199900", "petrol", "1.5", 147, "cvt", "front", "7.4", 5, 5, 4400, 190, 378, 0),
    ("Changan", "UNI-K", 2025, "crossover", "3799900", "petrol", "2.0", 233, "automatic", "all", "9.1", 5, 5, 4865, 200, 460, 0),
    ("Changan", "CS55 Plus", 2025, "crossover", "2499900", "petrol", "1.5", 150, "dct", "front", "7.2", 5, 5, 4515, 190, 478, 0),
    ("Jetour", "Dashing", 2025, "crossover", "2999900", "petrol", "1.6", 197, "dct", "front", "7.8", 5, 5, 4590, 182, 590, 0),
    ("Moskvich", "3", 2025, "crossover", "2190000", "petrol", "1.5", 150, "cvt", "front", "7.5", 5, 5, 4410, 183, 360, 0),
    ("Moskvich", "3e", 2025, "crossover", "3450000", "electric", "", 193, "single_speed", "front", "", 5, 5, 4410, 171, 360, 410),
    ("Zeekr", "001", 2025, "liftback", "6990000", "electric", "", 544, "single_speed", "all", "", 5, 5, 4970, 174, 539, 620),
    ("Li Auto", "L7", 2025, "crossover", "7290000", "plug_in_hybrid", "1.5", 449, "single_speed", "all", "1.1", 5, 5, 5050, 181, 570, 210),
    ("GAZ", "Gazelle Next", 2025, "van", "3450000", "diesel", "2.8", 150, "manual", "rear", "10.5", 3, 4, 5630, 170, 9000, 0),
    ("UAZ", "Patriot", 2025, "suv", "1999000", "petrol", "2.7", 150, "manual", "all", "11.5", 5, 5, 4785, 210, 1130, 0),
    ("UAZ", "Pickup", 2025, "pickup", "2149000", "petrol", "2.7", 150, "manual", "all", "12.0", 5, 4, 5125, 210, 1000, 0),
]

# The extras every demo trim offers, at the dealership's prices.
OPTIONS = (("winter tyres", Decimal("60000")), ("tow bar", Decimal("35000")),
           ("extended warranty", Decimal("90000")), ("floor mats", Decimal("6000")))

# Trim ladders: (name, share of the base price added, features).
LADDERS = {
    "budget": [
        ("Classic", "0", ["ABS", "ESC", "2 airbags", "audio system"]),
        ("Comfort", "0.08", ["air conditioning", "heated front seats", "power windows", "cruise control"]),
        ("Luxe", "0.16", ["climate control", "multimedia with CarPlay", "rear camera", "alloy wheels"]),
    ],
    "mainstream": [
        ("Comfort", "0", ["climate control", "heated front seats", "cruise control", "LED headlights"]),
        ("Elite", "0.07", ["panoramic camera", "heated steering wheel", "keyless entry", "18-inch wheels"]),
        ("Premium", "0.14", ["leather seats", "ventilated front seats", "adaptive cruise control", "wireless charging"]),
        ("Prestige", "0.22", ["head-up display", "premium audio", "lane keeping assist", "power tailgate"]),
    ],
    "premium": [
        ("Base", "0", ["dual-zone climate control", "LED matrix headlights", "adaptive cruise control"]),
        ("Executive", "0.09", ["massaging seats", "premium audio", "heated rear seats", "air suspension"]),
        ("Signature", "0.18", ["rear entertainment", "night vision", "four-zone climate control"]),
    ],
}


def _ladder(base_price: Decimal) -> str:
    if base_price < 2_000_000:
        return "budget"
    return "premium" if base_price >= 4_500_000 else "mainstream"


async def load(database: Database) -> int:
    """Loads the demo catalogue unless there is one; returns how many models it added."""
    async with database.unit_of_work() as uow:
        if await uow.repository.count_models():
            return 0
    handlers = CatalogHandlers(database)
    for (brand, model, year, body, price, engine, litres, hp, gearbox, drive, consumption,
         seats, doors, length, clearance, trunk, range_km) in MODELS:
        base_price = Decimal(price)
        specifications = {
            "engine_type": engine, "engine_volume_l": litres, "power_hp": hp,
            "transmission": gearbox, "drive": drive, "fuel_consumption_l_100km": consumption,
            "seats": seats, "doors": doors, "length_mm": length, "ground_clearance_mm": clearance,
            "trunk_volume_l": trunk, "range_km": range_km,
        }
        created = await handlers.create_model(LOADER, domain.ModelFields(
            brand=brand, model=model, year=year, body_type=body, base_price=base_price,
            specifications=specifications,
            description=f"{brand} {model} {year}: {hp} hp, {drive} wheel drive, {seats} seats.",
        ))
        model_id = convert.model_id(created.name)
        for name, share, features in LADDERS[_ladder(base_price)]:
            delta = (base_price * Decimal(share)).quantize(Decimal("1000"))
            await handlers.create_trim(LOADER, model_id, domain.TrimFields(
                display_name=name, price_delta=delta, features=features, options=OPTIONS))
    return len(MODELS)


def load_showroom(settings: Settings) -> str:
    """The demo showroom, unless the catalogue has models already; says which."""

    async def run() -> int:
        database = Database(settings.database_url("catalog"), "catalog", store.outbox, store.CatalogRepository,
                            pool_size=2)
        try:
            return await load(database)
        finally:
            await database.close()

    added = asyncio.run(run())
    return f"demo showroom loaded, {added} models" if added else "demo showroom present"
