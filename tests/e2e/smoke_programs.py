"""What the partner clients' smoke programs (sdk/*/examples) must do against the live mesh,
shared by their tests: given a vehicle in stock, sign a new customer up and in, list the
catalogue and create a draft order for them, printing {"user", "models", "order"} as JSON; a
refused call exits non-zero printing its gRPC code as {"error": {"code", "name", "message"}}
on stderr."""
import json
import subprocess
import uuid

import httpx

from .conftest import bearer
from .purchase import new_vehicle


def run(command: list[str], vehicle_id: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command, vehicle_id], capture_output=True, text=True, timeout=120)


def check_purchase(command: list[str], edge: httpx.Client, manager: dict) -> None:
    vehicle = new_vehicle(edge, manager)
    ran = run(command, vehicle["name"])
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    catalogue = edge.get("/catalog/models", params={"page_size": 5}).json()["models"]
    assert [model["name"] for model in result["models"]["models"]] == [model["name"] for model in catalogue]
    order = result["order"]
    assert order["status"] == "ORDER_STATUS_DRAFT"
    assert order["vehicle"] == vehicle["name"]
    assert order["customer"] == result["user"]["name"]
    assert result["user"]["role"] == "ROLE_CLIENT"
    # The order is sales' own, as staff see it.
    stored = edge.get(f"/sales/{order['name']}", headers=bearer(manager))
    assert stored.status_code == 200, stored.text
    assert stored.json()["customer"] == result["user"]["name"]


def check_refusal(command: list[str]) -> None:
    """An order for a vehicle that does not exist: sales refuses it with NOT_FOUND."""
    ran = run(command, f"vehicles/{uuid.uuid4()}")
    assert ran.returncode == 1, ran.stdout
    error = json.loads(ran.stderr.strip().splitlines()[-1])["error"]
    assert error["code"] == 5, error
    assert "does not exist" in error["message"]
