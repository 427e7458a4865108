"""What the partner clients' smoke programs (sdk/*/examples) must do against the live mesh,
shared by their tests: given a vehicle in stock, sign a new customer up and in, list the
catalogue and create a draft order for them, printing {"user", "models", "order"} as JSON; a
refused call exits non-zero printing its gRPC code, and the reason and field violations its
status's details carry, read by the client's own error helper, as {"error": {"code", "name",
"message", "reason", "violations"}} on stderr."""
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


def refusal(command: list[str], vehicle_id: str) -> dict:
    """What the program prints of the refusal of an order for `vehicle_id`."""
    ran = run(command, vehicle_id)
    assert ran.returncode == 1, ran.stdout
    return json.loads(ran.stderr.strip().splitlines()[-1])["error"]


def check_refusal(command: list[str]) -> None:
    """An order for a vehicle that does not exist: sales refuses it with NOT_FOUND, the
    ErrorInfo's reason NOT_FOUND, and no field at fault."""
    error = refusal(command, f"vehicles/{uuid.uuid4()}")
    assert error["code"] == 5, error
    assert "does not exist" in error["message"]
    assert error["reason"] == "NOT_FOUND", error
    assert error["violations"] == [], error


def check_bad_input(command: list[str]) -> None:
    """An order for a malformed vehicle name: INVALID_ARGUMENT, with BadRequest's violation of
    vehicle_id and its own reason."""
    error = refusal(command, "vehicles/not-a-uuid")
    assert error["code"] == 3, error
    assert error["reason"] == "INVALID_ARGUMENT", error
    assert [(v["field"], v["reason"]) for v in error["violations"]] == [("vehicle_id", "INVALID_FORMAT")], error
    assert error["violations"][0]["description"], error
