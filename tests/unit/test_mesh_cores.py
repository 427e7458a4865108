"""Each service instance on one core: spread by load, instances of one service apart, and the
kit moving every thread of the process there (worker threads for heavy work excepted)."""
import json
import os
import subprocess
import sys

import pytest

from scripts.mesh import cores, supervisor
from services.kit.credentials import Credentials
from services.kit.settings import REPO_ROOT

MESH = {"auth": 2, "catalog": 2, "inventory": 1, "customer": 1, "pricing": 1, "sales": 1, "payment": 1}


def test_one_core_pins_nothing():
    assert cores.placement(MESH, [0]) == {}


def test_instances_of_one_service_run_on_different_cores():
    placed = cores.placement(MESH, [0, 1])
    assert sorted(placed["auth"]) == sorted(placed["catalog"]) == [0, 1]
    assert all(len(placed[service]) == count for service, count in MESH.items())


def test_the_busiest_service_shares_its_core_with_the_least_load():
    placed = cores.placement(MESH, [0, 1])
    load = {0: 0.0, 1: 0.0}
    for service, instance_cores in placed.items():
        for core in instance_cores:
            load[core] += cores.LOAD_PER_PURCHASE[service]
    busiest = max(cores.LOAD_PER_PURCHASE, key=cores.LOAD_PER_PURCHASE.get)
    assert all(placed[other] != placed[busiest] for other in ("payment", "inventory")), placed
    assert abs(load[0] - load[1]) <= max(cores.LOAD_PER_PURCHASE.values()) / 2, load


def test_more_instances_than_cores_share_them():
    assert sorted(cores.placement({"auth": 3}, [0, 1])["auth"]) == [0, 0, 1]


def test_services_are_told_their_cores_and_nothing_else_is(monkeypatch):
    monkeypatch.setattr(cores, "available", lambda: [0, 1])
    config = supervisor.config("/opt/consul", "/opt/mailpit", Credentials.generated(list(supervisor.SERVICES)))
    sections = config.split("\n[program:")
    for section in sections[1:]:
        name = section.split("]", 1)[0]
        told = "AUTOSALON_CORE=" in section
        service, _, instance = name.rpartition("-")
        assert told == (service in supervisor.SERVICES and instance.isdigit()), name
    placed = cores.placement({service: supervisor.instances(service) for service in supervisor.SERVICES}, [0, 1])
    told = {section.split("]", 1)[0]: section for section in sections[1:]}
    for index, core in enumerate(placed["auth"]):
        assert f'AUTOSALON_CORE="{core}"' in told[f"auth-{index}"]


_PROBE = """
import json, os, threading
from concurrent.futures import ThreadPoolExecutor
from services.kit import cores
waiting = threading.Event()
early = threading.Thread(target=waiting.wait)
early.start()
cores.pin_from_environment()
found = {"early": sorted(os.sched_getaffinity(early.native_id))}
waiting.set(); early.join()
thread = threading.Thread(target=lambda: found.update(later=sorted(os.sched_getaffinity(0))))
thread.start(); thread.join()
with ThreadPoolExecutor(1, initializer=cores.anywhere) as pool:
    found["worker"] = pool.submit(lambda: sorted(os.sched_getaffinity(0))).result()
found["main"] = sorted(os.sched_getaffinity(0))
print(json.dumps(found))
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to pin to one")
def test_the_kit_moves_every_thread_onto_the_instances_core_and_lets_workers_out():
    every = sorted(os.sched_getaffinity(0))
    environment = {**os.environ, "AUTOSALON_CORE": str(every[1])}
    found = json.loads(subprocess.run([sys.executable, "-c", _PROBE], env=environment, cwd=REPO_ROOT,
                                      check=True, capture_output=True, text=True).stdout)
    assert found["main"] == found["early"] == found["later"] == [every[1]]
    assert found["worker"] == every
    unpinned = {**os.environ}
    unpinned.pop("AUTOSALON_CORE", None)
    free = json.loads(subprocess.run([sys.executable, "-c", _PROBE], env=unpinned, cwd=REPO_ROOT,
                                     check=True, capture_output=True, text=True).stdout)
    assert free["main"] == every
