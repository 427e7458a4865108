"""A partner's first purchase through the edge with autosalon-client: signs a new customer up
and in, lists the catalogue and creates a draft order for the vehicle its argument names
("vehicles/{uuid}"). Prints {"user", "models", "order"} as JSON (the protos' field names) on
stdout; a refused call exits 1 with {"error": {"code", "name", "message", "reason",
"violations"}} on stderr.

The edge is 127.0.0.1:$AUTOSALON_EDGE_PORT (8080 by default).

    python smoke.py vehicles/0b9d...
"""
import json
import os
import sys
import uuid
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from autosalon.auth.v1 import auth_pb2
from autosalon.catalog.v1 import catalog_pb2
from autosalon.sales.v1 import sales_pb2
from autosalon_client import Client, errors

PASSWORD = "Correct-Horse-42"


def as_json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def main(vehicle: str) -> None:
    email = f"python.smoke.{uuid.uuid4().hex[:12]}@example.ru"
    with Client(f"127.0.0.1:{os.environ.get('AUTOSALON_EDGE_PORT', '8080')}") as client:
        user = client.auth.Register(auth_pb2.RegisterRequest(
            email=email, password=PASSWORD, confirm_password=PASSWORD, full_name="Ivan Petrov"))
        client.sign_in(email, PASSWORD)
        models = client.catalog.ListModels(catalog_pb2.ListModelsRequest(page_size=5))
        order = client.sales.CreateOrder(sales_pb2.CreateOrderRequest(vehicle_id=vehicle))
    print(json.dumps({"user": as_json(user), "models": as_json(models), "order": as_json(order)}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: smoke.py <vehicle id>")
    try:
        main(sys.argv[1])
    except errors.AutosalonError as refusal:
        print(json.dumps({"error": {
            "code": refusal.code.value[0], "name": refusal.code.name, "message": refusal.message,
            "reason": refusal.reason,
            "violations": [{"field": v.field, "description": v.description, "reason": v.reason}
                           for v in refusal.violations],
        }}), file=sys.stderr)
        sys.exit(1)
