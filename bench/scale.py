"""Horizontal scale on one machine: the catalogue search and /auth/me at 1, 2 and 3 instances
of catalog and auth (AUTOSALON_CATALOG_INSTANCES, AUTOSALON_AUTH_INSTANCES), through the edge.

For each count the mesh is brought up again with it (every service restarts: their settings
changed), the edge is waited for until it balances over exactly that many instances of each,
and then wrk loads, in turn: the signed-in catalogue search (filters and paging, rotated over
many URLs; never from a cache, so catalog and PostgreSQL answer each), GET /auth/me and, as the
same-run reference of the machine itself, GET /health (the edge alone). Prints one JSON document:
requests/s, p50 and p99 per count, and each figure's ratio to one instance. The machine's cores
bound what more instances can give: the figures are what they are.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import httpx

from bench.edge import EDGE, ROTATE_SCRIPT, catalogue_searches, wrk
from scripts.mesh import probes
from services.kit import settings

SCALED = ("catalog", "auth")
SEARCH = "GET /catalog/models search with a filter, signed in (REST, no cache)"
AUTH_ME = "GET /auth/me (REST)"
HEALTH = "GET /health (REST, the edge alone)"


def _scaled_to(instances: int) -> None:
    """The mesh up with `instances` of each scaled service, the edge balancing over exactly them."""
    counts = {f"AUTOSALON_{service.upper()}_INSTANCES": str(instances) for service in SCALED}
    subprocess.run([sys.executable, "-m", "scripts.mesh", "up"], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, **counts})
    # `up` waits for at least that many; going down from more, the ones stopped must be gone too.
    deadline = time.monotonic() + 60
    while any(probes.passing(service) != instances or probes.edge_endpoints(service) != instances
              for service in SCALED):
        if time.monotonic() > deadline:
            sys.exit(f"the edge did not come to {instances} instance(s) of {', '.join(SCALED)}")
        time.sleep(0.5)


def _signed_in() -> dict:
    config = settings.load()
    answer = httpx.post(f"http://{EDGE}/auth/login", json={"email": config.admin_email,
                                                           "password": config.admin_password}, timeout=10)
    answer.raise_for_status()
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def measure(instances: int, seconds: int, connections: int) -> dict:
    _scaled_to(instances)
    auth = _signed_in()
    searches = [path for path in catalogue_searches() if "filter=" in path]
    rotation = ROTATE_SCRIPT % ", ".join(json.dumps(path) for path in searches)
    # A second of warm-up: each instance's connections and prepared statements, not the figure.
    wrk(searches[0], 1, connections, auth, rotation)
    return {SEARCH: wrk(searches[0], seconds, connections, auth, rotation),
            AUTH_ME: wrk("/auth/me", seconds, connections, auth),
            HEALTH: wrk("/health", seconds, connections, {})}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    # All the load comes from this one address: the per-address budget is lifted for the run.
    os.environ.setdefault("AUTOSALON_EDGE_DEFAULT_REQUESTS", "1000000")
    points = {count: measure(count, args.seconds, args.connections) for count in args.instances}
    first = points[args.instances[0]]
    results = {"cores": os.cpu_count(), "scaled_services": list(SCALED), "connections": args.connections,
               "seconds_each": args.seconds, "instances": {}}
    for count, figures in points.items():
        for name, figure in figures.items():
            figure[f"ratio_to_{args.instances[0]}_instance(s)"] = round(
                figure["requests_per_second"] / first[name]["requests_per_second"], 2)
        results["instances"][str(count)] = figures
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
