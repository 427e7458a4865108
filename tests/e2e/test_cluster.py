"""The mesh as a cluster of three nodes on loopback (./scripts/up --cluster): purchases go on
while one NATS server and one Consul server are killed, and after they come back (bench.cluster
runs the rounds and the reckoning). It runs in a folder of its own, on the same ports as the
tests' mesh, which it stops first (AUTOSALON_KEEP_MESH=1 or not): so it runs last."""
import json
import os
import subprocess
import sys

import pytest

from services.kit.settings import REPO_ROOT

CLUSTER_RUN_DIR = REPO_ROOT / ".run-test-cluster"


def _mesh(command: str, environment: dict, *options: str) -> None:
    subprocess.run([sys.executable, "-m", "scripts.mesh", command, *options], cwd=REPO_ROOT, env=environment,
                   check=True, capture_output=True, timeout=600)


@pytest.fixture()
def cluster():
    """The cluster up, in .run-test-cluster, the tests' mesh stopped; the cluster stopped after
    (deleted too in CI, whose checkout is thrown away)."""
    _mesh("down", dict(os.environ))
    environment = {**os.environ, "AUTOSALON_RUN_DIR": str(CLUSTER_RUN_DIR), "AUTOSALON_CLUSTER_NODES": "3"}
    try:
        _mesh("up", environment)
        yield environment
    finally:
        _mesh("down", environment, *(["--purge"] if os.environ.get("CI") else []))


# A fresh cluster's start (its own databases made and migrated) and three rounds: longer than
# the suite's 300 s a test on a slower machine.
@pytest.mark.timeout(900)
@pytest.mark.own_mesh
def test_purchases_complete_or_compensate_with_a_nats_and_a_consul_server_down(cluster, show_figure):
    run = subprocess.run([sys.executable, "-m", "bench.cluster", "--purchases", "16", "--concurrency", "4"],
                         cwd=REPO_ROOT, env=cluster, capture_output=True, text=True, timeout=900)
    assert run.stdout.strip(), run.stderr[-4000:]
    result = json.loads(run.stdout)
    shown = json.dumps(result, indent=2)
    assert run.returncode == 0, shown
    show_figure("cluster of 3 nodes, purchases/s: " + ", ".join(
        f"{round_} {result[round_]['purchases_per_second']}" for round_ in ("all nodes up", "one node down", "node back"))
        + f"; the first purchase after the kill took {result['first_purchase_after_the_kill_seconds']} s (killed "
        f"{' and '.join(result['killed'])}, whose NATS server led {result['streams_its_nats_server_led']} streams; "
        "./bench/run cluster for the figures beside /health and /auth/me)")
    # One node's NATS server and Consul server, the Consul one leading the Raft peers.
    assert sorted(program.rsplit("-", 1)[0] for program in result["killed"]) == ["consul-server", "nats"]
    assert len({program.rsplit("-", 1)[1] for program in result["killed"]}) == 1, shown
    assert [result[round_]["purchases"] for round_ in ("all nodes up", "one node down", "node back")] == [16, 15, 16]
    assert result["buyers_failed"] == 0 and result["behind_after_the_run"] == [], shown
    assert all(check["ok"] for check in result["checks"].values()), shown
    assert result["events_exactly_once"]["ok"] and result["events_exactly_once"]["per_service"]["sales"]["outbox"] > 0
    assert result["instances_healthy_in_consul"]["ok"], shown
