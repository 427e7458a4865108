"""catalog's rows <-> protobuf messages."""
import uuid
from decimal import Decimal

from autosalon.catalog.v1 import catalog_pb2
from services.kit import money
from services.kit.protos import audit, resource_id, resource_ids
from services.kit.statements import Row

from . import domain

BODY_TO_PROTO = {name: catalog_pb2.BodyType.Value(f"BODY_TYPE_{name.upper()}") for name in domain.BODY_TYPES}
ENUMS = {
    "engine_type": catalog_pb2.EngineType,
    "transmission": catalog_pb2.Transmission,
    "drive": catalog_pb2.Drive,
}


def body_type_from_proto(value: int) -> str | None:
    """None for unspecified; the validation says what is missing."""
    return next((name for name, number in BODY_TO_PROTO.items() if number == value), None)


def specifications_from_proto(specs: catalog_pb2.Specifications) -> dict:
    values = {}
    for field, kind in domain.SPEC_FIELDS.items():
        raw = getattr(specs, field)
        if kind == "enum":
            enum = ENUMS[field]
            name = enum.Name(raw) if raw in enum.values() else ""
            values[field] = name.lower().removeprefix(f"{field}_") if raw else None
        else:
            values[field] = raw
    return values


def specifications_to_proto(values: dict) -> catalog_pb2.Specifications:
    fields = {}
    for field, kind in domain.SPEC_FIELDS.items():
        value = values.get(field)
        if kind == "enum":
            fields[field] = ENUMS[field].Value(f"{field.upper()}_{value.upper()}") if value else 0
        elif value:
            fields[field] = value
    return catalog_pb2.Specifications(**fields)


def model_id(name: str, field: str = "name") -> uuid.UUID:
    return resource_id(name, "models", field)


def trim_ids(name: str, field: str = "name") -> tuple[uuid.UUID, uuid.UUID]:
    """(model id, trim id) of "models/{uuid}/trims/{uuid}"."""
    return resource_ids(name, "models", "trims", field=field)


def trim_to_proto(row: Row, base_price) -> catalog_pb2.Trim:
    return catalog_pb2.Trim(
        name=f"models/{row.model_id}/trims/{row.id}",
        display_name=row.display_name,
        price_delta=money.to_proto(row.price_delta),
        price=money.to_proto(base_price + row.price_delta),
        features=row.features,
        audit=audit(row),
        options=[catalog_pb2.TrimOption(name=option["name"], price=money.to_proto(Decimal(option["price"])))
                 for option in row.options],
    )


def trim_fields_of(row: Row) -> domain.TrimFields:
    """A stored trim's fields, as the domain has them."""
    return domain.TrimFields(row.display_name, row.price_delta, row.features,
                             tuple((option["name"], Decimal(option["price"])) for option in row.options))


def trim_row(fields: domain.TrimFields) -> dict:
    """The trims table's values for `fields` (options as JSON, prices as exact text)."""
    return {"display_name": fields.display_name, "price_delta": fields.price_delta, "features": fields.features,
            "options": [{"name": name, "price": str(price)} for name, price in fields.options]}


def model_to_proto(row: Row, trims: list[Row]) -> catalog_pb2.VehicleModel:
    return catalog_pb2.VehicleModel(
        name=f"models/{row.id}",
        brand=row.brand,
        model=row.model,
        year=row.year,
        body_type=BODY_TO_PROTO[row.body_type],
        base_price=money.to_proto(row.base_price),
        specifications=specifications_to_proto(row.specifications),
        description=row.description,
        trims=[trim_to_proto(trim, row.base_price) for trim in trims],
        audit=audit(row),
    )
