"""The workshop's free slots: a week of them for a branch with 10 mechanics and 300 bookings.

Makes the branch (through the config service), its mechanics and bookings once (through the
edge, as the initial admin; kept for later runs), then prints one JSON document:
- inside the service: booking's own slots use case (its PostgreSQL reads and the schedule's
  arithmetic) called in this process against the running mesh's database, p50 / p99 / max ms
  over repeated calls (the issue's budget: 20 ms);
- through the edge: GET /service/slots for the week under load (wrk), printed beside GET /health
  and GET /auth/me from the same run, with its share of /auth/me's requests/s.
"""
import argparse
import asyncio
import datetime
import json
import random
import statistics
import time
from zoneinfo import ZoneInfo

import httpx

from autosalon.config.v1 import config_pb2
from bench.edge import EDGE, beside_references
from google.protobuf import json_format
from services.booking import SERVICE, store
from services.booking.handlers import BookingHandlers, Branches
from services.kit import settings, vin
from services.kit.db import Database

BRANCH = "bench-workshop"
ZONE = ZoneInfo("Europe/Moscow")
MECHANICS, BOOKINGS = 10, 300
JOB_TYPE = "oil-change"
HOURS = [{"weekday": weekday, "opens": "08:00", "closes": "20:00"}
         for weekday in ("WEEKDAY_MONDAY", "WEEKDAY_TUESDAY", "WEEKDAY_WEDNESDAY", "WEEKDAY_THURSDAY",
                         "WEEKDAY_FRIDAY", "WEEKDAY_SATURDAY")]


def _ok(answer: httpx.Response, what: str) -> dict:
    if answer.status_code != 200:
        raise SystemExit(f"{what}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def week_window() -> tuple[datetime.datetime, datetime.datetime]:
    """From the next local midnight, seven days."""
    start = datetime.datetime.combine(datetime.datetime.now(ZONE).date() + datetime.timedelta(days=1),
                                      datetime.time(0), ZONE)
    return start, start + datetime.timedelta(days=7)


def prepare(edge: httpx.Client, auth: dict, start: datetime.datetime) -> int:
    """The branch, its mechanics and its bookings in the week from `start`, made unless there;
    returns how many bookings the week has."""
    if edge.get(f"/admin/branches/{BRANCH}").status_code == 404:
        _ok(edge.post("/admin/branches", params={"branch_id": BRANCH}, headers=auth, json={
            "display_name": "Bench workshop", "address": "Moscow, bench", "time_zone": ZONE.key, "hours": HOURS}),
            "creating the branch")
    mechanics = _ok(edge.get("/service/mechanics", params={"branch": f"branches/{BRANCH}", "page_size": 100},
                             headers=auth), "listing mechanics")["mechanics"]
    for number in range(len(mechanics), MECHANICS):
        _ok(edge.post("/service/mechanics", headers=auth, json={
            "display_name": f"Bench mechanic {number + 1}", "branch": f"branches/{BRANCH}",
            "skills": ["SKILL_MAINTENANCE", "SKILL_REPAIR", "SKILL_DIAGNOSTICS", "SKILL_TYRES"]}), "adding a mechanic")
    window = {"branch": f"branches/{BRANCH}", "start_time": start.isoformat(),
              "end_time": (start + datetime.timedelta(days=7)).isoformat(), "page_size": 500}
    booked = len(_ok(edge.get("/service/bookings", params=window, headers=auth), "listing bookings")["bookings"])
    chooser = random.Random(300)
    while booked < BOOKINGS:
        free = _ok(edge.get("/service/slots", params={
            "branch": f"branches/{BRANCH}", "job_type": f"job-types/{JOB_TYPE}", "start_time": window["start_time"],
            "end_time": window["end_time"]}), "listing slots")["slots"]
        slot = chooser.choice(free)
        answer = edge.post("/service/bookings", headers=auth, json={
            "vin": vin.example("XTA21099" + str(chooser.randrange(10, 99))), "job_type": f"job-types/{JOB_TYPE}",
            "branch": f"branches/{BRANCH}", "start_time": slot["start_time"], "mechanic": slot["mechanic"]})
        if answer.status_code == 200:
            booked += 1
        elif answer.status_code != 409:  # 409: someone took it between the two calls
            raise SystemExit(f"booking: {answer.status_code} {answer.text[:300]}")
    return booked


async def inside(branch: config_pb2.Branch, start: datetime.datetime, end: datetime.datetime,
                 rounds: int) -> dict:
    """The slots use case in this process: booking's reads and arithmetic, no gRPC around them."""
    config = settings.load()
    database = Database(config.database_url("booking"), "booking", store.outbox, store.BookingRepository)
    branches = Branches(peers=None, ttl_seconds=3600)
    branches.cache.put(BRANCH, branch)
    handlers = BookingHandlers(database, None, branches, settings.load(SERVICE.settings))
    try:
        await handlers.slots(BRANCH, JOB_TYPE, start, end)  # a warm pool
        timings, count = [], 0
        for _ in range(rounds):
            began = time.perf_counter()
            answer = await handlers.slots(BRANCH, JOB_TYPE, start, end)
            timings.append((time.perf_counter() - began) * 1000)
            count = len(answer.slots)
    finally:
        await database.close()
    timings.sort()
    return {"slots_in_the_week": count, "calls": rounds, "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2), "max_ms": round(timings[-1], 2),
            "budget_ms": 20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    config = settings.load()
    start, end = week_window()
    with httpx.Client(base_url=f"http://{EDGE}", timeout=30) as edge:
        token = _ok(edge.post("/auth/login", json={"email": config.admin_email, "password": config.admin_password}),
                    "logging in")["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        booked = prepare(edge, auth, start)
        branch = json_format.ParseDict(_ok(edge.get(f"/admin/branches/{BRANCH}"), "reading the branch"),
                                       config_pb2.Branch(), ignore_unknown_fields=True)
    query = (f"/service/slots?branch=branches/{BRANCH}&job_type=job-types/{JOB_TYPE}"
             f"&start_time={start.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}"
             f"&end_time={end.astimezone(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}")
    results = {
        "branch": f"branches/{BRANCH}", "mechanics": MECHANICS, "bookings_in_the_week": booked,
        "inside_the_service": asyncio.run(inside(branch, start, end, args.rounds)),
        **beside_references("GET /service/slots, a week (REST)", query, {}, auth, args.seconds, args.connections),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
