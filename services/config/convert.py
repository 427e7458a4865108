"""config's conversions between protobuf messages, the domain and rows."""
from autosalon.config.v1 import config_pb2
from services.kit.protos import audit, timestamp

from . import domain

VALUE_TYPE = {domain.STRING: config_pb2.VALUE_TYPE_STRING, domain.INT: config_pb2.VALUE_TYPE_INT,
              domain.DECIMAL: config_pb2.VALUE_TYPE_DECIMAL, domain.DURATION: config_pb2.VALUE_TYPE_DURATION,
              domain.BOOL: config_pb2.VALUE_TYPE_BOOL, domain.JSON: config_pb2.VALUE_TYPE_JSON}
VALUE_TYPE_NAME = {value: key for key, value in VALUE_TYPE.items()}
WEEKDAY = {name: number for number, name in enumerate(domain.WEEKDAYS, start=1)}
WEEKDAY_NAME = {number: name for name, number in WEEKDAY.items()}


def setting_to_proto(row) -> config_pb2.Setting:
    return config_pb2.Setting(
        name=f"settings/{row.key}", value_type=VALUE_TYPE[row.value_type], value=row.value,
        default_value=row.default_value, category=row.category, description=row.description, minimum=row.minimum,
        maximum=row.maximum, choices=row.choices, json_schema=row.json_schema, service=row.service,
        revision=row.revision, etag=str(row.revision), audit=audit(row))


def change_to_proto(row) -> config_pb2.SettingChange:
    return config_pb2.SettingChange(revision=row.revision, value_before=row.value_before, value_after=row.value_after,
                                    changed_by=row.changed_by, change_time=timestamp(row.changed_at))


def definition_of(row) -> domain.Definition:
    return domain.Definition(row.value_type, row.minimum, row.maximum, tuple(row.choices), row.json_schema)


def openings_from(hours) -> list[domain.Opening]:
    return [domain.Opening(WEEKDAY_NAME.get(opening.weekday, ""), opening.opens, opening.closes)
            for opening in hours]


def openings_json(openings: list[domain.Opening]) -> list[dict]:
    return [{"weekday": opening.weekday, "opens": opening.opens, "closes": opening.closes} for opening in openings]


def branch_to_proto(row) -> config_pb2.Branch:
    return config_pb2.Branch(
        name=f"branches/{row.id}", display_name=row.display_name, address=row.address, time_zone=row.time_zone,
        hours=[config_pb2.OpeningHours(weekday=WEEKDAY[opening["weekday"]], opens=opening["opens"],
                                       closes=opening["closes"]) for opening in row.hours],
        days_off=row.days_off, active=row.active, etag=str(row.version), audit=audit(row))


def salesperson_to_proto(row) -> config_pb2.Salesperson:
    return config_pb2.Salesperson(
        name=f"salespeople/{row.id}", user=f"users/{row.id}", display_name=row.display_name,
        branch=f"branches/{row.branch_id}", active=row.active, etag=str(row.version), audit=audit(row))
