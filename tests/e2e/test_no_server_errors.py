"""Odd but well-formed input to every API method, through the edge over REST, as the admin.

Bad input gets a clear error, never a server error: no answer is a 5xx (a 503 neither, the mesh
being up), every 4xx is a JSON google.rpc.Status with an integer `code` and a `message`, no
answer carries a traceback (but monitoring's, which shows the errors the services logged), and no service logs an error for any request of the sweep (each
request carries its own x-request-id, which the services log as the trace id).

Like test_edge_access's sweep, the methods, their request messages and which fields the path,
the body and the query carry all come from the compiled descriptor set, so a new method or
field is swept the day it is added. What each method gets:

- a body (POST, PATCH): a plausible body of the method (a valid one where it is known, below),
  then each string field of the body message, and of its message fields one level down, set
  to each odd string in turn, one request each; output-only string fields all at once per odd
  string; and one request per odd value of every other kind (integers, bools, enums, Money,
  timestamps, repeated strings, Struct) setting every field of that kind at once. A PATCH
  names the fields it sets in `update_mask`, and gets a few odd masks of its own;
- a query (GET, DELETE): the same odd values as query parameters, one request per string
  field and odd string (and one whose percent-encoded bytes are no UTF-8), one per odd value
  of the other kinds; fields with a syntax of their own (a filter) get a few odd values in it;
- the path: the sweep's own resources where the method reads or changes one (so the odd
  values reach the handlers and the database, not just a NOT_FOUND), a victim of its own for
  a DELETE, random uuids otherwise, and then ids that are no uuid at all, nor UTF-8.

The strict methods (Register, Login, the password's and the address's) share a strict
per-address budget: two requests each (with the admin's sign-in and the sweep's own user, three). A 429 is accepted everywhere. Where an odd value is
valid, the call succeeds and writes a row; unique keys in the plausible bodies keep that to a
few hundred rows, all on the sweep's own brand, customer, vehicles and codes.
"""
import datetime
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from scripts.mesh.layout import LOGS, SERVICES
from scripts.mesh.tools import DESCRIPTORS
from services.edge.api import Api, Method
from services.kit import vin
from services.kit.settings import REPO_ROOT

from .conftest import bearer, new_email
from .test_edge_access import _concrete

EDGE_SETTINGS = yaml.safe_load((REPO_ROOT / "envoy" / "edge.yaml").read_text())
STRICT = set(EDGE_SETTINGS["rate_limits"]["strict"]["methods"])
# About 4,000 since config and booking (config alone: ~630, its settings having many string fields).
MAX_REQUESTS = 4500


# ---------------------------------------------------------------------------------------------
# The odd values.

STRINGS = {
    "empty": "",
    "5000 chars": "x" * 5000,
    "unicode": "Кириллица 🚗 עברית \u202eRTL\u202c العربية",
    "backslash and quotes": "\\ \" ' \\",
    "whitespace": " \t\n\u00a0 ",
    "path traversal": "../../etc/passwd",
    "sql": "' OR 1=1 --",
    "NUL": "a\u0000b",
    # A number no decimal context holds: where a string is read as a decimal (a price bound,
    # a discount's value, an engine volume), Python's Decimal overflows on it.
    "huge exponent": "1e1000000",
}
INTS = {"0": 0, "-1": -1, "int32 max": 2147483647, "int32 min": -2147483648}
MONEY = {
    **{f"amount {amount}": {"amount": amount, "currency_code": "RUB"} for amount in (
        "0", "-1", "1e400", "1e1000000", "0.001", "999999999999999", "NaN", "Infinity", "1_000",
        "\u0663")},
    "currency XXX": {"amount": "1", "currency_code": "XXX"},
}
TIMESTAMPS = {"year 1": "0001-01-01T00:00:00Z", "year 9999": "9999-12-31T23:59:59Z",
              "epoch": "1970-01-01T00:00:00Z"}


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


STRUCTS = {"depth 50": _nested(50), "empty object": {}}
# Ids in the path that are no uuid (already escaped for the URL). A well-formed URL may carry
# bytes that are no UTF-8, which a proto string field cannot hold.
INVALID_UTF8 = "%FF%FE"
ODD_IDS = {"x": "x", "%20": "%20", "300 chars": "a" * 300, "emoji": "%F0%9F%9A%97",
           "sql": "%27%20OR%201%3D1%20--", "NUL": "%00", "invalid UTF-8": INVALID_UTF8}
ODD_MASKS = ["", "no_such_field", "name", "audit.create_time", "x" * 300, "full_name,full_name"]
ODD_IDEMPOTENCY_KEYS = {"5000 chars": "k" * 5000, "sql": "' OR 1=1 --"}
# Methods whose answers are the errors the services logged, tracebacks included: monitoring's
# purpose (admins only), not a leak of the request's own failure.
SHOWS_LOGGED_ERRORS = {"autosalon.monitoring.v1.MonitoringService/ListLogRecords",
                       "autosalon.monitoring.v1.MonitoringService/GetTrace"}
# The two requests each of the strict methods (edge.yaml's rate_limits.strict) may spend.
STRICT_KINDS = ("5000 chars", "sql")

MONEY_TYPE = ".autosalon.common.v1.Money"
STRUCT_TYPE = ".google.protobuf.Struct"
TIMESTAMP_TYPE = ".google.protobuf.Timestamp"
INT_TYPES = {
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32, descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32, descriptor_pb2.FieldDescriptorProto.TYPE_UINT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32, descriptor_pb2.FieldDescriptorProto.TYPE_SINT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32, descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64,
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32, descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64,
}
REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
OUTPUT_ONLY = field_behavior_pb2.OUTPUT_ONLY


# ---------------------------------------------------------------------------------------------
# The API, from the descriptor set.


API = Api.load(DESCRIPTORS.read_bytes())
MESSAGES, ENUMS, METHODS = API.messages, API.enums, API.methods


def _body_message(method: Method) -> str:
    """The message the body of `method` is: the request, or the request field it names."""
    if method.body == "*":
        return method.request
    return next(f.type_name for f in MESSAGES[method.request].field if f.name == method.body)


def _path_bound_in_body(method: Method) -> set[str]:
    """Fields of the body message that the path fills."""
    if method.body == "*":
        return {path for path in method.bound if "." not in path}
    prefix = f"{method.body}."
    return {path.removeprefix(prefix) for path in method.bound if path.startswith(prefix)}


# ---------------------------------------------------------------------------------------------
# Where a value goes in a message: a field, or a field of a message field (one level down).


@dataclass(frozen=True)
class Slot:
    steps: tuple          # ((name, repeated message?), ...) down to the field
    kind: str             # string, repeated_string, int, bool, enum, money, timestamp, struct
    output_only: bool
    enum: str = ""        # the enum's full name, for kind enum
    repeated: bool = False

    @property
    def top(self) -> str:
        return self.steps[0][0]

    @property
    def dotted(self) -> str:
        return ".".join(name for name, _ in self.steps)


def _kind(fld: descriptor_pb2.FieldDescriptorProto) -> str | None:
    repeated = fld.label == REPEATED
    if fld.type == fld.TYPE_STRING:
        return "repeated_string" if repeated else "string"
    if fld.type in INT_TYPES:
        return None if repeated else "int"
    if fld.type == fld.TYPE_BOOL:
        return None if repeated else "bool"
    if fld.type == fld.TYPE_ENUM:
        return "enum"
    if fld.type == fld.TYPE_MESSAGE:
        return {MONEY_TYPE: "money", TIMESTAMP_TYPE: "timestamp", STRUCT_TYPE: "struct"}.get(fld.type_name)
    return None


def _output_only(fld) -> bool:
    return OUTPUT_ONLY in fld.options.Extensions[field_behavior_pb2.field_behavior]


def slots(message: str, skip: set[str] = frozenset(), depth: int = 1) -> list[Slot]:
    found = []
    for fld in MESSAGES[message].field:
        if fld.name in skip:
            continue
        kind = _kind(fld)
        if kind:
            found.append(Slot(((fld.name, False),), kind, _output_only(fld), fld.type_name
                              if kind == "enum" else "", fld.label == REPEATED))
        elif fld.type == fld.TYPE_MESSAGE and depth > 0 and fld.type_name in MESSAGES \
                and fld.type_name.startswith(".autosalon."):
            step = (fld.name, fld.label == REPEATED)
            for inner in slots(fld.type_name, depth=depth - 1):
                found.append(Slot((step, *inner.steps), inner.kind, inner.output_only or _output_only(fld),
                                  inner.enum, inner.repeated))
    return found


def _enum_values(enum: str) -> dict:
    values = sorted(ENUMS[enum].value, key=lambda value: value.number)
    # proto3 enums are open: JSON may name a number no value has.
    return {"zero": values[0].name, "highest": values[-1].name, "unknown number": values[-1].number + 90}


def _put(body: dict, slot: Slot, value) -> None:
    target = body
    for name, repeated in slot.steps[:-1]:
        if repeated:
            items = target.get(name) or [{}]
            target[name] = items
            target = items[0]
        else:
            target = target.setdefault(name, {})
    if slot.repeated and slot.kind not in ("repeated_string",):
        value = [value]
    target[slot.steps[-1][0]] = value


# Odd values of the kinds set all at once: kind -> {label: value for a slot}.
def _combined(slot: Slot) -> dict:
    if slot.kind == "int":
        return INTS
    if slot.kind == "bool":
        return {"true": True}
    if slot.kind == "enum":
        return _enum_values(slot.enum)
    if slot.kind == "money":
        return MONEY
    if slot.kind == "timestamp":
        return TIMESTAMPS
    if slot.kind == "struct":
        return STRUCTS
    if slot.kind == "repeated_string":
        return {"1000 empty strings": [""] * 1000}
    return {}


# ---------------------------------------------------------------------------------------------
# The sweep's own resources, which the paths name so that the odd values reach the handlers.

# A resource pattern in a path template -> the kind of own resource that fills it.
OWN_PATTERNS = {
    "models/*": "model", "models/*/trims/*": "trim", "vehicles/*": "vehicle",
    "customers/*": "customer", "users/*": "user", "discounts/*": "discount", "orders/*": "order",
    "payments/*": "payment", "settings/*": "setting", "branches/*": "branch",
    "job-types/*": "job_type", "mechanics/*": "mechanic", "bookings/*": "booking", "test-drives/*": "test_drive",
    "": "code",  # {code}: a plain field, the promo code itself
}
# What a DELETE may take: a victim of its own, made for it (users are not: Register's budget).
VICTIMS = {"model", "trim", "discount", "order"}
BRAND = "Sweepmobil"


def _fresh() -> str:
    return uuid.uuid4().hex[:8]


class Own:
    """The sweep's own resources, each made through the API on first use: a model with a trim,
    vehicles of it (one for the inventory methods, one for drafts, one for the order the sweep
    confirms and cancels, two for orders ready to pay), a walk-in customer, a user (when the
    register budget allows), two promo codes, a draft order, a pending bank-transfer
    payment, a setting of the dealership's own and a branch, and a job type, a mechanic, a booking
    and a test drive there; and victims for the DELETE methods, one each."""

    def __init__(self, edge: httpx.Client | None, admin: dict | None):
        self.edge, self.admin = edge, admin
        self.made: dict[str, str | None] = {}

    def get(self, kind: str) -> str | None:
        """Resource name (for a code: the code) or None when it could not be made."""
        if kind not in self.made:
            self.made[kind] = getattr(self, f"_make_{kind}")()
        return self.made[kind]

    def victim(self, kind: str) -> str:
        """A new resource for a DELETE to take."""
        return getattr(self, f"_make_{kind}_victim", getattr(self, f"_make_{kind}"))()

    def buyer(self) -> str:
        """Staff name the buyer of an order: the sweep's own user, else the admin."""
        return self.get("user") or self.admin["user"]["name"]

    def _post(self, path: str, body: dict, **headers) -> dict:
        response = self.edge.post(path, json=body, headers={**bearer(self.admin), **headers})
        assert response.status_code == 200, f"the sweep's own resource at {path}: {response.text}"
        return response.json()

    def _make_model(self) -> str:
        return self._post("/catalog/models", model_body())["name"]

    def _make_trim(self) -> str:
        return self._post(f"/catalog/{self.get('model')}/trims", trim_body())["name"]

    def _make_vehicle(self) -> str:
        return self._post("/inventory/vehicles", vehicle_body(self))["name"]

    _make_draft_vehicle = _make_order_vehicle = _make_drive_vehicle = _make_vehicle

    def _make_customer(self) -> str:
        return self._post("/customers", {"full_name": "Sweep Walkin", "email": new_email("sweep")})["name"]

    def _make_user(self) -> str | None:
        # Register is on the strict budget: one try, no retry; a 429 leaves random ids.
        password = f"Sweep-{uuid.uuid4().hex[:12]}-Aa1"  # nobody needs to sign in as it
        response = self.edge.post("/auth/register", json={
            "email": new_email("sweep"), "password": password, "confirm_password": password,
            "full_name": "Свип Тестович 🚗", "phone": "+79161234567"})
        if response.status_code == 429:
            return None
        assert response.status_code == 200, f"the sweep's own user: {response.text}"
        return response.json()["name"]

    def _make_discount(self) -> str:
        return self._post("/pricing/discounts", discount_body())["name"]

    def _make_code(self) -> str:
        return self._post("/pricing/discounts", discount_body())["code"]

    def _order(self, vehicle: str) -> str:
        body = {"vehicle_id": vehicle.removeprefix("vehicles/"), "customer": self.buyer()}
        return self._post("/sales/orders", body, **{"Idempotency-Key": uuid.uuid4().hex})["name"]

    def _make_order(self) -> str:
        # A vehicle to itself: the sweep of ConfirmOrder confirms this order.
        return self._order(self.get("order_vehicle"))

    def _make_order_victim(self) -> str:
        return self._order(self.get("draft_vehicle"))

    def _ready_order(self) -> str:
        """A confirmed order of a vehicle of its own, the car held: ready to be paid."""
        order = self._order(self._make_vehicle())
        self._post(f"/sales/{order}:confirm", {})
        deadline = time.monotonic() + 20
        while True:
            state = self.edge.get(f"/sales/{order}", headers=bearer(self.admin)).json()
            if state.get("ready_for_payment"):
                return order
            assert state.get("status") == "ORDER_STATUS_CONFIRMED" and time.monotonic() < deadline, (
                f"the sweep's order ready to pay: {state}")
            time.sleep(0.1)

    _make_ready_order = _ready_order

    def _make_setting(self) -> str:
        """A setting of the dealership's own: never a service's, whose values the services apply."""
        return self._post(f"/admin/settings?setting_id={_setting_id()}", setting_body())["name"]

    def _make_branch(self) -> str:
        return self._post(f"/admin/branches?branch_id={_branch_id()}", branch_body())["name"]

    def _make_job_type(self) -> str:
        return self._post(f"/service/job-types?job_type_id={_job_type_id()}", job_type_body())["name"]

    def _make_mechanic(self) -> str:
        return self._post("/service/mechanics", mechanic_body(self))["name"]

    # The bookings' own: the sweep of UpdateJobType and UpdateMechanic changes the others.
    _make_booking_job_type, _make_booking_mechanic = _make_job_type, _make_mechanic

    def _make_booking(self) -> str:
        """A booking at the sweep's branch, with its mechanic, for its buyer."""
        return self._post("/service/bookings", {**booking_body(self), "start_time": _sweep_time("10:00")})["name"]

    def _make_test_drive(self) -> str:
        """A drive of a car of its own (the inventory methods' car gets reserved and sold)."""
        return self._post("/service/test-drives", drive_body(self, self._make_vehicle()))["name"]

    def _make_payment(self) -> str:
        """A bank transfer: it stays pending until staff move it."""
        return self._post("/payments", {"order_id": self._ready_order(),
                                        "method": "PAYMENT_METHOD_BANK_TRANSFER"},
                          **{"Idempotency-Key": uuid.uuid4().hex})["name"]


class StubOwn(Own):
    """Names for planning without a mesh (test_the_sweep_is_bounded_and_covers_the_api)."""

    def get(self, kind: str) -> str:
        return "SWEEPCODE" if kind == "code" else f"{kind}s/{uuid.uuid4()}"

    def victim(self, kind: str) -> str:
        return self.get(kind)

    def buyer(self) -> str:
        return self.get("user")


# ---------------------------------------------------------------------------------------------
# Plausible bodies: valid where the method is known, so that one odd value is all that is wrong.

def money(amount: str) -> dict:
    return {"amount": amount, "currency_code": "RUB"}


def model_body() -> dict:
    return {
        "brand": BRAND, "model": f"Sweep-{_fresh()}", "year": 2025, "body_type": "BODY_TYPE_CROSSOVER",
        "base_price": money("2500000.00"), "description": "A model of the no-server-errors sweep.",
        "specifications": {
            "engine_type": "ENGINE_TYPE_PETROL", "engine_volume_l": "1.5", "power_hp": 150,
            "transmission": "TRANSMISSION_CVT", "drive": "DRIVE_FRONT", "seats": 5, "doors": 5,
            "fuel_consumption_l_100km": "7.4", "length_mm": 4500, "ground_clearance_mm": 180,
            "trunk_volume_l": 480,
        },
    }


def trim_body() -> dict:
    return {"display_name": f"Sweep {_fresh()}", "price_delta": money("100000"), "features": ["heated seats"]}


def vehicle_body(own: Own) -> dict:
    return {"vin": vin.example("XTAGFL110S"), "model": own.get("model"), "trim": own.get("trim"),
            "colour": "white", "mileage_km": 3, "condition": "CONDITION_NEW",
            "branch": "Moscow, Leningradsky prospekt 39", "price_override": money("2600000")}


def discount_body() -> dict:
    return {"title": "Sweep", "kind": "DISCOUNT_KIND_FIXED", "value": "1000", "code": f"SWEEP{_fresh().upper()}",
            "scope": {"brands": [BRAND]}, "stackable": True}


def _customer_body() -> dict:
    return {"full_name": "Sweep Walkin", "email": "sweep.walkin@example.ru", "phone": "+79161234567",
            "address": {"city": "Kazan", "street": "Baumana 1", "postal_code": "420111"},
            "preferences": {"channels": ["CHANNEL_SMS"], "preferred_brands": ["Lada"],
                            "budget": money("2000000")},
            "tags": ["sweep"]}


def _setting_id() -> str:
    return f"dealership.sweep_{_fresh()}"


def _branch_id() -> str:
    return f"sweep-{_fresh()}"


def setting_body() -> dict:
    return {"value_type": "VALUE_TYPE_STRING", "value": "sweep", "category": "sweep", "description": "Sweep"}


def branch_body() -> dict:
    return {"display_name": "Sweep Branch", "address": "Kazan, Baumana 1", "time_zone": "Europe/Moscow",
            "hours": [{"weekday": "WEEKDAY_MONDAY", "opens": "09:00", "closes": "18:00"}],
            "days_off": ["2027-01-01"], "active": True}


def _job_type_id() -> str:
    return f"sweep-{_fresh()}"


def _sweep_time(clock: str) -> str:
    """`clock` in Moscow on a Monday (the sweep's branch opens on Mondays) a week or two ahead."""
    day = datetime.date.today() + datetime.timedelta(days=8)
    day += datetime.timedelta(days=-day.weekday() % 7)
    moment = datetime.datetime.combine(day, datetime.time.fromisoformat(clock), ZoneInfo("Europe/Moscow"))
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_type_body() -> dict:
    return {"display_name": "Sweep job", "duration_minutes": 60, "skill": "SKILL_MAINTENANCE", "active": True}


def mechanic_body(own: Own) -> dict:
    return {"display_name": "Sweep Mechanic", "branch": own.get("branch"), "skills": ["SKILL_MAINTENANCE"],
            "hours": [{"weekday": 1, "start": "09:00", "end": "18:00"}], "days_off": ["2027-01-01"], "active": True}


def booking_body(own: Own) -> dict:
    own.get("booking_mechanic")
    return {"customer": own.buyer(), "vin": vin.example("XTAGFL110S"), "job_type": own.get("booking_job_type"),
            "branch": own.get("branch"), "start_time": _sweep_time("14:00"), "notes": "sweep"}


def drive_body(own: Own, vehicle: str) -> dict:
    return {"customer": own.buyer(), "vehicle": vehicle, "branch": own.get("branch"),
            "start_time": _sweep_time("11:00"), "duration_minutes": 30}


def _options() -> list:
    return [{"name": "winter tyres", "price": money("60000")}]


# Method name (without the package) -> the body message's plausible value.
BASELINES = {
    "AuthService/UpdateUser": lambda own: {"full_name": "Sweep User", "phone": "+79161234567",
                                           "role": "ROLE_CLIENT", "active": True},
    "CatalogService/CreateModel": lambda own: model_body(),
    "CatalogService/UpdateModel": lambda own: model_body(),
    "CatalogService/CreateTrim": lambda own: trim_body(),
    "CatalogService/UpdateTrim": lambda own: trim_body(),
    "CustomerService/CreateCustomer": lambda own: _customer_body(),
    "CustomerService/UpdateCustomer": lambda own: _customer_body(),
    "CustomerService/CreateInteraction": lambda own: {"type": "INTERACTION_TYPE_CALL",
                                                      "note": "Sweep call"},
    "InventoryService/CreateVehicle": vehicle_body,
    "InventoryService/UpdateVehicle": lambda own: {"colour": "red", "mileage_km": 10,
                                                   "condition": "CONDITION_USED", "branch": "Kazan",
                                                   "price_override": money("2400000")},
    "InventoryService/ReserveVehicle": lambda own: {"order_id": "sweep-order", "ttl_seconds": 120},
    "InventoryService/ReleaseVehicle": lambda own: {"order_id": "sweep-order"},
    "InventoryService/MarkVehicleSold": lambda own: {"order_id": "sweep-order"},
    "PaymentService/CreatePayment": lambda own: {"order_id": own.get("ready_order"),
                                                 "method": "PAYMENT_METHOD_CARD",
                                                 "card_number": "4111 1111 1111 1111"},
    "PaymentService/UpdatePaymentStatus": lambda own: {"status": "PAYMENT_STATUS_CANCELLED",
                                                       "reason": "sweep", "bank_reference": "REF-1"},
    "PricingService/CreateDiscount": lambda own: discount_body(),
    "PricingService/UpdateDiscount": lambda own: discount_body(),
    "PricingService/CreateQuote": lambda own: {"trim": own.get("trim"), "options": _options()},
    "PricingService/RedeemPromoCode": lambda own: {"order_id": f"sweep-{_fresh()}",
                                                   "customer": "customers/sweep"},
    "SalesService/CreateOrder": lambda own: {
        "vehicle_id": own.get("draft_vehicle").removeprefix("vehicles/"), "trim_id": own.get("trim"),
        "options": _options(), "notes": "sweep", "customer": own.buyer()},
    "SalesService/UpdateOrder": lambda own: {"promo_code": "", "options": _options(), "notes": "sweep"},
    "SalesService/CancelOrder": lambda own: {"reason": "sweep"},
    "ConfigService/CreateSetting": lambda own: setting_body(),
    "ConfigService/UpdateSetting": lambda own: {"value": "sweep", "category": "sweep", "description": "Sweep"},
    "ConfigService/CreateBranch": lambda own: branch_body(),
    "ConfigService/UpdateBranch": lambda own: branch_body(),
    "ConfigService/CreateSalesperson": lambda own: {"user": own.buyer(), "display_name": "Sweep Seller",
                                                    "branch": own.get("branch")},
    "ConfigService/UpdateSalesperson": lambda own: {"display_name": "Sweep Seller", "branch": own.get("branch"),
                                                    "active": True},
    "BookingService/CreateJobType": lambda own: job_type_body(),
    "BookingService/UpdateJobType": lambda own: job_type_body(),
    "BookingService/CreateMechanic": mechanic_body,
    "BookingService/UpdateMechanic": mechanic_body,
    "BookingService/CreateBooking": booking_body,
    "BookingService/RescheduleBooking": lambda own: {"start_time": _sweep_time("16:00")},
    "BookingService/CancelBooking": lambda own: {"reason": "sweep"},
    "BookingService/CompleteBooking": lambda own: {"parts": money("4500.50"), "labour": money("3000"),
                                                   "work_done": "sweep"},
    "BookingService/CreateTestDrive": lambda own: drive_body(own, own.get("drive_vehicle")),
    "BookingService/CancelTestDrive": lambda own: {"reason": "sweep"},
}

# Query fields a method with a body needs besides it (a new resource's id): fresh each request.
BASELINE_QUERIES = {
    "ConfigService/CreateSetting": lambda own: {"setting_id": _setting_id()},
    "ConfigService/CreateBranch": lambda own: {"branch_id": _branch_id()},
    "BookingService/CreateJobType": lambda own: {"job_type_id": _job_type_id()},
}


# Query fields with a syntax of their own, which the descriptors do not tell: odd values in it.
EXTRA_QUERIES = {
    "CatalogService/ListModels": [
        {"filter": "power_hp >= 99999999999999999999"}, {"filter": "seats = -99999999999"},
        {"filter": "engine_volume_l >= 1e1000000"}, {"filter": "engine_volume_l >= 1e-1000000"},
        {"filter": "fuel_consumption_l_100km < 1e999999"}, {"filter": "engine_volume_l >= NaN"},
        {"filter": "engine_type = 99"}, {"filter": " AND ".join(["seats = 5"] * 200)},
        {"order_by": "price desc desc"}, {"order_by": "PRICE DESC"},
        {"price_min": "1e-1000000", "price_max": "-1e1000000"},
    ],
    "InventoryService/ListVehicles": [{"price_min": "1e-1000000", "price_max": "-1e1000000"}],
}


def baseline(method: Method, own: Own) -> dict:
    make = BASELINES.get(method.full_name.rpartition(".")[2])
    body = make(own) if make else {}
    skip = _path_bound_in_body(method)
    return {key: value for key, value in body.items() if key not in skip}


# ---------------------------------------------------------------------------------------------
# The requests.


@dataclass
class Probe:
    verb: str
    path: str
    label: str
    body: dict | None = None
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def _fill(template: str, value) -> str:
    """The template with each variable replaced by value(pattern), or a random uuid path."""
    def one(match: re.Match) -> str:
        pattern = match.group(1).partition("=")[2]
        filled = value(pattern)
        return filled if filled is not None else _concrete("{" + match.group(1) + "}")
    return re.sub(r"\{([^}]*)\}", one, template)


def _odd_id_path(template: str, odd: str) -> str:
    return _fill(template, lambda pattern: (pattern or "*").replace("**", odd).replace("*", odd))


def plan(method: Method, own: Own) -> list[Probe]:
    verb = method.verb
    kinds = [OWN_PATTERNS.get(variable.partition("=")[2])
             for variable in re.findall(r"\{([^}]*)\}", method.template)]
    if verb == "DELETE":  # a victim of its own, never a resource the other methods use
        owned = len(kinds) == 1 and kinds[0] in VICTIMS
        main = _fill(method.template, lambda pattern: own.victim(kinds[0]) if owned else None)
    else:
        owned = bool(kinds) and all(kind and own.get(kind) for kind in kinds)
        main = _fill(method.template, lambda pattern: own.get(OWN_PATTERNS[pattern]) if owned else None)
    probes: list[Probe] = []

    if method.body:
        message = _body_message(method)
        base = baseline(method, own)
        body_slots = slots(message, _path_bound_in_body(method))

        def body_probe(label: str, changes: list[tuple[Slot, object]], path: str = main, mask=None) -> Probe:
            body = baseline(method, own)  # afresh: new unique keys (VIN, code, name) each time
            for slot, value in changes:
                _put(body, slot, value)
            make_query = BASELINE_QUERIES.get(method.full_name.rpartition(".")[2])
            params = make_query(own) if make_query else {}
            if verb == "PATCH":
                # The fields the request changes; output-only ones only when nothing else is.
                tops = [slot.top for slot, _ in changes if not slot.output_only] or [
                    slot.top for slot, _ in changes]
                params["update_mask"] = mask if mask is not None else (
                    ",".join(dict.fromkeys(tops)) or next(iter(base), ""))
            return Probe(verb, path, label, body, params)

        inputs = [slot for slot in body_slots if slot.kind == "string" and not slot.output_only]
        outputs = [slot for slot in body_slots if slot.kind == "string" and slot.output_only]
        if method.full_name in STRICT:
            return [body_probe(f"every string {kind}", [(slot, STRINGS[kind]) for slot in inputs])
                    for kind in STRICT_KINDS]
        for slot in inputs:
            for kind, value in STRINGS.items():
                probes.append(body_probe(f"{slot.dotted} = {kind}", [(slot, value)]))
        if outputs:
            for kind, value in STRINGS.items():
                probes.append(body_probe(f"output-only strings = {kind}", [(slot, value) for slot in outputs]))
        for kind in ("int", "bool", "enum", "money", "timestamp", "struct", "repeated_string"):
            chosen = [slot for slot in body_slots if slot.kind == kind]
            if not chosen:
                continue
            labels = list(_combined(chosen[0]))  # enums differ in values but not in labels
            for label in labels:
                probes.append(body_probe(f"every {kind} = {label}",
                                         [(slot, _combined(slot)[label]) for slot in chosen]))
        if verb == "PATCH":
            for mask in ODD_MASKS + [",".join(f.name for f in MESSAGES[message].field)]:
                probes.append(body_probe(f"update_mask = {mask[:40]!r}", [], mask=mask))
        if verb == "POST":
            for kind, key in ODD_IDEMPOTENCY_KEYS.items():
                probe = body_probe(f"Idempotency-Key {kind}", [])
                probe.headers["Idempotency-Key"] = key
                probes.append(probe)
        variants = [(f"path {kind}", _odd_id_path(method.template, odd)) for kind, odd in ODD_IDS.items()]
        if owned:
            variants.append(("random ids", _concrete(method.template)))
        if method.bound:
            probes += [body_probe(label, [], path=path) for label, path in variants]
        return probes

    bound = {path.partition(".")[0] for path in method.bound}
    query_slots = [slot for slot in slots(method.request, bound) if slot.kind != "struct"]

    def query_probe(label: str, changes: list[tuple[Slot, object]], path: str = main) -> Probe:
        params = {}
        for slot, value in changes:
            if isinstance(value, bool):
                value = str(value).lower()
            params[slot.dotted] = value
        return Probe(verb, path, label, None, params)

    # A DELETE without odd values, or with a blank one, takes its victim: those come last.
    strings = sorted(STRINGS.items(), key=lambda item: verb == "DELETE" and item[0] in ("empty", "whitespace"))
    for slot in query_slots:
        if slot.kind == "string":
            for kind, value in strings:
                probes.append(query_probe(f"{slot.dotted} = {kind}", [(slot, value)]))
            probes.append(Probe(verb, f"{main}?{slot.dotted}={INVALID_UTF8}", f"{slot.dotted} = invalid UTF-8"))
    for params in EXTRA_QUERIES.get(method.full_name.rpartition(".")[2], []):
        probes.append(Probe(verb, main, f"{', '.join(params)} with a syntax of its own", None, dict(params)))
    for kind in ("int", "bool", "enum", "timestamp", "repeated_string"):
        chosen = [slot for slot in query_slots if slot.kind == kind]
        if chosen:
            for label in _combined(chosen[0]):
                probes.append(query_probe(f"every {kind} = {label}",
                                          [(slot, _combined(slot)[label]) for slot in chosen]))
    for kind, odd in ODD_IDS.items():
        if method.bound:
            probes.append(query_probe(f"path {kind}", [], path=_odd_id_path(method.template, odd)))
    if owned:
        probes.append(query_probe("random ids", [], path=_concrete(method.template)))
    probes.append(query_probe("nothing odd", []))
    return probes


# ---------------------------------------------------------------------------------------------
# What the services logged about the sweep's requests.


def _service_logs() -> list[Path]:
    return sorted(path for service in SERVICES for path in LOGS.glob(f"{service}-*.log"))


def _log_offsets() -> dict[Path, int]:
    return {path: path.stat().st_size for path in _service_logs()}


def _last_frames(traceback: str) -> str:
    """A logged traceback's last frames in our code and the exception it ended with."""
    lines = traceback.strip().splitlines()
    files = [index for index, line in enumerate(lines) if line.startswith('  File "')]
    if not files:
        return "\n".join(lines[-6:])
    ours = [index for index in files if "/services/" in lines[index]][-3:] or files[-3:]
    exception = next((line for line in lines[files[-1] + 1:] if not line.startswith(" ")), "")
    return "\n".join([lines[index] for index in ours] + [exception])


# Log lines a test reported already (the late check at the end reports only the others).
REPORTED: set[str] = set()


def _logged_errors(since: dict[Path, int], traces: dict[str, str], method: str = "") -> list[str]:
    """Error lines logged since `since` under one of `traces` (trace id -> what was sent), and
    those without a trace id that name `method` (gRPC's own, e.g. a request it cannot decode)."""
    found = []
    for path in _service_logs():
        start = since.get(path, 0)
        if path.stat().st_size < start:  # rotated meanwhile
            start = 0
        with path.open("rb") as log:
            log.seek(start)
            lines = log.read().decode(errors="replace").splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") not in ("error", "critical"):
                continue
            trace, message = entry.get("trace_id", ""), str(entry.get("message", ""))
            if line not in REPORTED and (trace in traces or (not trace and method and f"/{method}]" in message)):
                REPORTED.add(line)
                frames = _last_frames(str(entry.get("error", "")))
                found.append(f"{path.name}: {message} [{traces.get(trace, 'no trace id')}]\n{frames}")
    return found


# ---------------------------------------------------------------------------------------------
# The tests.


@pytest.fixture(scope="module")
def own(edge, admin_session) -> Own:
    return Own(edge, admin_session)


# Every request of the sweep, by its x-request-id, for the late-error check at the end.
SENT: dict[str, str] = {}
SWEEP_START: dict[Path, int] = {}


def _ok_error_body(response: httpx.Response) -> bool:
    try:
        status = response.json()
    except ValueError:
        return False
    return (isinstance(status, dict) and type(status.get("code")) is int
            and isinstance(status.get("message"), str))


def _summary(probe: Probe) -> str:
    shown = json.dumps(probe.body, ensure_ascii=False) if probe.body is not None else ""
    params = json.dumps(probe.params, ensure_ascii=False) if probe.params else ""
    return f"[{probe.label}] body={shown[:200]} params={params[:200]}"


def test_the_sweep_is_bounded_and_covers_the_api():
    plans = {method.full_name: plan(method, StubOwn(None, None)) for method in METHODS}
    assert len(plans) > 40
    assert all(plans.values())
    assert sum(map(len, plans.values())) <= MAX_REQUESTS
    for name in STRICT:
        assert len(plans[name]) <= 2, name


@pytest.mark.parametrize("method", METHODS, ids=[method.full_name for method in METHODS])
def test_odd_input_is_never_a_server_error(edge, admin_session, own, method):
    if not SWEEP_START:
        SWEEP_START.update(_log_offsets())
    since = _log_offsets()
    probes = plan(method, own)
    failures, traces = [], {}
    for probe in probes:
        trace = f"sweep-{uuid.uuid4()}"
        headers = {**bearer(admin_session), "x-request-id": trace, **probe.headers}
        if probe.verb == "POST":
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        where = f"{probe.verb} {probe.path[:150]} {_summary(probe)}"
        traces[trace] = where
        try:
            response = edge.request(probe.verb, probe.path, params=probe.params or None,
                                    json=probe.body, headers=headers)
        except httpx.HTTPError as error:
            failures.append(f"{where} -> no answer: {error!r}")
            continue
        status, text = response.status_code, response.text
        if status >= 500:
            failures.append(f"{where} -> {status} {text[:300]}")
        elif 400 <= status < 500 and not _ok_error_body(response):
            failures.append(f"{where} -> {status} is no JSON google.rpc.Status: {text[:300]}")
        elif status >= 300 and not 400 <= status < 500:
            failures.append(f"{where} -> unexpected {status} {text[:300]}")
        elif "Traceback (most recent call last)" in text and method.full_name not in SHOWS_LOGGED_ERRORS:
            failures.append(f"{where} -> {status} with a traceback: {text[:300]}")
    SENT.update(traces)
    time.sleep(0.3)  # supervisord copies the services' output into the log files
    failures += [f"logged: {line}" for line in _logged_errors(since, traces, method.full_name)]
    if failures:
        pytest.fail(f"{len(failures)} of {len(probes)} requests went wrong:\n" + "\n".join(failures), pytrace=False)


def test_no_late_errors_in_the_logs():
    """What the services did after answering (consumers of the events the sweep caused) is
    logged under the same trace ids."""
    if not SENT:
        pytest.skip("no sweep ran")
    time.sleep(2)
    errors = _logged_errors(SWEEP_START, SENT)
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)
