"""A short chaos run (bench/chaos.py) against the test mesh: purchases while instances are
killed and NATS and PostgreSQL restarted, then every order reckoned across the services."""
import json
import subprocess
import sys

import pytest

from services.kit.settings import REPO_ROOT


@pytest.mark.disruptive
def test_purchases_through_killed_instances_and_restarts_leave_every_order_consistent(mesh):
    run = subprocess.run([sys.executable, "-m", "bench.chaos", "--purchases", "60", "--concurrency", "6",
                          "--kill-every", "1"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=420)
    result = json.loads(run.stdout)
    assert run.returncode == 0, json.dumps(result, indent=2)
    assert {"restarted nats", "restarted postgres"} <= set(result["faults"]), result["faults"]
    assert all(check["ok"] for check in result["checks"].values()) and result["behind_after_the_run"] == []
    # Everything back and healthy for the tests after this one.
    subprocess.run([sys.executable, "-m", "scripts.mesh", "up"], cwd=REPO_ROOT, check=True, capture_output=True)
