"""Report queries over a year of sales: the budget is 20 ms inside the service.

Seeds a year of orders once (kept for later runs) into the running mesh's reporting read models,
written by reporting's own event handlers as its consumers would write them: about 7,300 orders
over the last 365 days (20 a day), each created, most confirmed and paid, four in five handed
over by one of five salespeople, the rest cancelled, a fifth with a promo code, on 12 cars of
their own (brand "Bench", branch "Bench showroom": a report filtered by another brand or
branch leaves them out).

Prints one JSON document:
- inside the service: the year's sales by month split by model, and the year's funnel, each
  called repeatedly in this process against the mesh's database (reporting's own use case: its
  PostgreSQL query and the answer's message), p50 / p99 / max ms;
- through the edge: GET /reports/sales for the year under load (wrk), beside GET /health and
  GET /auth/me from the same run, with its share of /auth/me's requests/s.
"""
import argparse
import asyncio
import datetime
import json
import random
import statistics
import time
import urllib.parse
from decimal import Decimal

import httpx

from autosalon.config.v1 import config_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.sales.v1 import sales_pb2
from bench.edge import EDGE, beside_references
from services.kit import settings
from services.kit.db import Database
from services.reporting import SERVICE, domain, store
from services.reporting.handlers import ReportingHandlers

DAYS, ORDERS_A_DAY = 365, 20
CARS = [(f"vehicles/bench-{number}", "Bench", f"Model {number % 6}") for number in range(12)]
SELLERS = [(f"users/bench-seller-{number}", f"Bench seller {number}") for number in range(5)]


def _order(name: str, car: str, total: Decimal, code: str, discount: Decimal, reason: str = "") -> sales_pb2.Order:
    order = sales_pb2.Order(name=name, customer="users/bench-buyer", vehicle=car, promo_code=code,
                            cancel_reason=reason)
    order.total.amount = str(total)
    order.price.discount_total.amount = str(discount)
    return order


async def seed(handlers: ReportingHandlers, today: datetime.date) -> int:
    """The year's orders unless they are there; returns how many orders the year has."""
    async with handlers.database.reading() as uow:
        if await uow.repository.order(f"orders/bench-{DAYS - 1}-{ORDERS_A_DAY - 1}") is not None:
            return DAYS * ORDERS_A_DAY
    chance = random.Random(365)
    async with handlers.database.unit_of_work() as uow:
        for name, brand, model in CARS:
            await handlers.vehicle_changed(uow, inventory_pb2.Vehicle(name=name, brand=brand, model_name=model,
                                                                      branch="Bench showroom"))
        for user, display_name in SELLERS:
            await handlers.salesperson_changed(uow, config_pb2.Salesperson(user=user, display_name=display_name))
    for day in range(DAYS):
        morning = datetime.datetime.combine(today - datetime.timedelta(days=DAYS - day), datetime.time(9),
                                            handlers.zone)
        # A day in one unit of work: the seeding takes a minute, not ten.
        async with handlers.database.unit_of_work() as uow:
            for number in range(ORDERS_A_DAY):
                code = chance.choice(["", "", "", "", "WINTER10"])
                order = _order(f"orders/bench-{day}-{number}", chance.choice(CARS)[0],
                               Decimal(chance.randrange(1_200_000, 6_000_000)), code,
                               Decimal(chance.randrange(10_000, 90_000)) if code else Decimal(0))
                at = morning + datetime.timedelta(minutes=number * 20)
                handed_over = chance.random() < 0.8
                steps = [domain.CREATED, domain.CONFIRMED, domain.PAID, domain.COMPLETED] if handed_over else \
                    [domain.CREATED, domain.CONFIRMED][:chance.randint(1, 2)] + [domain.CANCELLED]
                if not handed_over:
                    order.cancel_reason = chance.choice(["customer changed their mind", "reservation expired"])
                for index, step in enumerate(steps):
                    actor = chance.choice(SELLERS)[0] if step == domain.COMPLETED else "users/bench-buyer"
                    await handlers.order_changed(uow, step, order, actor, at + datetime.timedelta(hours=index))
    return DAYS * ORDERS_A_DAY


async def inside(rounds: int) -> dict:
    config = settings.load()
    database = Database(config.database_url("reporting"), "reporting", store.outbox, store.ReportingRepository)
    handlers = ReportingHandlers(database, settings.load(SERVICE.settings).time_zone)
    today = datetime.datetime.now(handlers.zone).date()
    start, end = (today - datetime.timedelta(days=DAYS)).isoformat(), today.isoformat()
    try:
        started = time.monotonic()
        orders = await seed(handlers, today)
        seeding = time.monotonic() - started
        figures = {"orders_in_the_year": orders, "seeding_seconds": round(seeding, 1)}
        for label, call in (
                ("sales_by_month_and_model", lambda: handlers.sales_report(start, end, domain.MONTH, domain.MODEL,
                                                                           "", "")),
                ("funnel", lambda: handlers.funnel_report(start, end))):
            await call()  # a warm pool
            timings = []
            for _ in range(rounds):
                began = time.perf_counter()
                await call()
                timings.append((time.perf_counter() - began) * 1000)
            timings.sort()
            figures[label] = {"calls": rounds, "p50_ms": round(statistics.median(timings), 2),
                              "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
                              "max_ms": round(timings[-1], 2), "budget_ms": 20}
        return figures, start, end
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    figures, start, end = asyncio.run(inside(args.rounds))
    config = settings.load()
    with httpx.Client(base_url=f"http://{EDGE}", timeout=30) as edge:
        token = edge.post("/auth/login", json={"email": config.admin_email,
                                               "password": config.admin_password}).json()["access_token"]
    auth = {"authorization": f"Bearer {token}"}
    query = urllib.parse.urlencode({"start_date": start, "end_date": end, "period": "PERIOD_MONTH",
                                    "split_by": "DIMENSION_MODEL"})
    results = {
        "inside reporting": figures,
        **beside_references("GET /reports/sales, a year by month and model (REST)", f"/reports/sales?{query}", auth,
                            auth, args.seconds, args.connections),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
