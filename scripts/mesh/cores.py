"""Which CPU core each service instance runs on.

grpc.aio hands every call back and forth between the thread that polls gRPC's completion
queue and the event loop's thread. On one core those hand-offs are much cheaper than across
two: measured on GET /auth/me, two alternating pairs, 5,000-5,500 against 6,700-7,000
requests/s and p99 27-29 against 17-19 ms; the purchase saga 67 against 71 purchases/s. A
Python process runs on one core at a time anyway, so each service instance is given one:
the busiest services first, each on the least loaded core its service is not on yet.
PostgreSQL, NATS, Envoy, Consul and the emulators stay free to go where there is room, and
CPU-heavy worker threads (password hashing) are let out onto every core (kit.cores).
"""
import os

from .layout import SERVICES

# CPU each service spends per purchase in the saga bench (ms; its manifest's core_weight): the
# load that decides which services share a core.
LOAD_PER_PURCHASE = {name: service.core_weight for name, service in SERVICES.items()}


def available() -> list[int]:
    """The cores this machine lets the mesh use."""
    return sorted(os.sched_getaffinity(0))


def placement(instances: dict[str, int], cores: list[int]) -> dict[str, list[int]]:
    """service -> the core of each of its instances; empty with fewer than two cores."""
    if len(cores) < 2:
        return {}
    load = dict.fromkeys(cores, 0.0)
    placed: dict[str, list[int]] = {service: [] for service in instances}
    queue = sorted(((service, index) for service, count in instances.items() for index in range(count)),
                   key=lambda entry: (-LOAD_PER_PURCHASE.get(entry[0], 0.0), entry))
    for service, _ in queue:
        unused = [core for core in cores if core not in placed[service]] or cores
        core = min(unused, key=lambda candidate: (load[candidate], candidate))
        placed[service].append(core)
        load[core] += LOAD_PER_PURCHASE.get(service, 0.0)
    return placed
