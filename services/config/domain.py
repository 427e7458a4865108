"""config's rules: setting keys and typed values, branches' ids, time zones and opening hours.
Pure functions of their inputs; every problem is an InvalidArgument naming its field.

A value travels as text in its type's one form, which is also how it is stored and published:
- int "1800" (an optional minus, digits); decimal "12.5" (plain digits and one point, never an
  exponent: no float rounding on the way); bool "true" / "false"; string as given (within its
  choices, when it has some); duration "900s" / "0.5s" (seconds, as protobuf's JSON writes one);
  json a document that satisfies the setting's JSON schema (draft 2020-12), kept as given.
- "" is no value: the service that applies the setting uses its own.
- Bounds are inclusive and compare numbers exactly (a duration by its seconds).
"""
import datetime
import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import jsonschema
import referencing.exceptions

from services.kit.errors import InvalidArgument
from services.kit import texts
from services.kit.protos import SLUG, dates_from

STRING, INT, DECIMAL, DURATION, BOOL, JSON = "string", "int", "decimal", "duration", "bool", "json"
VALUE_TYPES = (STRING, INT, DECIMAL, DURATION, BOOL, JSON)
NUMERIC = (INT, DECIMAL, DURATION)
# The dealership's own settings go here unless they name another category.
OWN_CATEGORY = "dealership"

# Why config refuses a change (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
NOT_A_MANAGER = "NOT_A_MANAGER"
BRANCH_CLOSED = "BRANCH_CLOSED"

KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
KEY_LONGEST = 100
CATEGORY = re.compile(r"[a-z][a-z0-9_]{0,39}")
TEXT_LONGEST = 2000
VALUE_LONGEST = 20000
_INT = re.compile(r"-?[0-9]{1,18}")
_DECIMAL = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,12})?")
_DURATION = re.compile(r"([0-9]{1,12}(\.[0-9]{1,9})?)s")

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
NAME_LONGEST = 200
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Definition:
    """What a setting's values must be."""
    value_type: str
    minimum: str = ""
    maximum: str = ""
    choices: tuple[str, ...] = ()
    json_schema: str = ""


def check_key(key: str, field: str = "setting_id") -> str:
    if len(key) > KEY_LONGEST or not KEY.fullmatch(key):
        raise InvalidArgument({field: "must be lower-case words of letters, digits and '_' joined by '.', "
                                      f"at least two, at most {KEY_LONGEST} characters, e.g. dealership.banner"})
    return key


def check_category(category: str, field: str = "setting.category") -> str:
    if not CATEGORY.fullmatch(category):
        raise InvalidArgument({field: "must be a lower-case word of letters, digits and '_', at most 40 characters"})
    return category


def check_text(text: str, field: str, longest: int = TEXT_LONGEST) -> str:
    if len(text) > longest:
        raise InvalidArgument({field: f"must be at most {longest} characters"})
    return text


def number(value_type: str, text: str) -> Decimal | None:
    """The number a valid INT, DECIMAL or DURATION text stands for (a duration's seconds)."""
    if value_type == INT and _INT.fullmatch(text):
        return Decimal(text)
    if value_type == DECIMAL and _DECIMAL.fullmatch(text):
        return Decimal(text)
    if value_type == DURATION and (match := _DURATION.fullmatch(text)):
        return Decimal(match.group(1))
    return None


_FORMS = {INT: "a whole number like 1800", DECIMAL: "a decimal number like 12.5",
          DURATION: "seconds with the unit, like 900s or 0.5s", BOOL: "true or false"}


def definition(value_type: str, minimum: str, maximum: str, choices: tuple[str, ...], json_schema: str,
               prefix: str = "setting.") -> Definition:
    """A new setting's definition, checked: bounds for numbers only, in the type's form, the
    lower not above the upper; choices for strings only; a valid schema for JSON, required."""
    if value_type not in VALUE_TYPES:
        raise InvalidArgument({f"{prefix}value_type": f"must be one of {', '.join(VALUE_TYPES)}"})
    problems = []
    for field, bound in (("minimum", minimum), ("maximum", maximum)):
        if bound and value_type not in NUMERIC:
            problems.append((f"{prefix}{field}", "applies only to int, decimal and duration settings"))
        elif bound and number(value_type, bound) is None:
            problems.append((f"{prefix}{field}", f"must be {_FORMS[value_type]}"))
    if not problems and minimum and maximum and number(value_type, minimum) > number(value_type, maximum):
        problems.append((f"{prefix}maximum", "must not be below the minimum"))
    if choices and value_type != STRING:
        problems.append((f"{prefix}choices", "apply only to string settings"))
    if len(set(choices)) != len(choices) or "" in choices:
        problems.append((f"{prefix}choices", "must be distinct and not empty"))
    if value_type == JSON:
        problems.extend(_schema_problems(json_schema, f"{prefix}json_schema"))
    elif json_schema:
        problems.append((f"{prefix}json_schema", "applies only to json settings"))
    if problems:
        raise InvalidArgument(problems)
    return Definition(value_type, minimum, maximum, tuple(choices), json_schema)


def _schema_problems(json_schema: str, field: str) -> list[tuple[str, str]]:
    if not json_schema:
        return [(field, "is required for a json setting")]
    try:
        schema = json.loads(json_schema)
        jsonschema.Draft202012Validator.check_schema(schema)
    except ValueError as error:
        return [(field, f"is not JSON: {error}")]
    except RecursionError:
        return [(field, "is nested too deeply")]
    except jsonschema.SchemaError as error:
        return [(field, f"is not a valid JSON schema: {error.message}")]
    if _has_patterns(schema):
        # A regular expression checked against a value runs without a time limit on config's
        # event loop: one slow pattern would stall the service for everyone.
        return [(field, "must not use pattern or patternProperties: regular expressions are not supported")]
    return []


def _has_patterns(schema) -> bool:
    if isinstance(schema, dict):
        return "pattern" in schema or "patternProperties" in schema or any(
            _has_patterns(part) for part in schema.values())
    if isinstance(schema, list):
        return any(_has_patterns(part) for part in schema)
    return False


def check_value(text: str, rules: Definition, field: str = "setting.value") -> str:
    """`text` as the setting stores it (a bool's case and a number's surrounding blanks aside,
    exactly as given), or InvalidArgument on `field` saying what it must be. "" is no value."""
    if text == "":
        return text
    if len(text) > VALUE_LONGEST:
        raise InvalidArgument({field: f"must be at most {VALUE_LONGEST} characters"})
    kind = rules.value_type
    if kind in NUMERIC:
        text = text.strip()
        value = number(kind, text)
        if value is None:
            raise InvalidArgument({field: f"must be {_FORMS[kind]}, not {text[:40]!r}"})
        low = number(kind, rules.minimum) if rules.minimum else None
        high = number(kind, rules.maximum) if rules.maximum else None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = (f"from {rules.minimum} to {rules.maximum}" if low is not None and high is not None
                      else f"at least {rules.minimum}" if low is not None else f"at most {rules.maximum}")
            raise InvalidArgument({field: f"must be {bounds}"})
        return text
    if kind == BOOL:
        if text.strip().lower() not in ("true", "false"):
            raise InvalidArgument({field: f"must be true or false, not {text[:40]!r}"})
        return text.strip().lower()
    if kind == STRING:
        if rules.choices and text not in rules.choices:
            raise InvalidArgument({field: f"must be one of {', '.join(rules.choices)}"})
        return text
    return _json_value(text, rules.json_schema, field)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is too large a number")
    return number


def _json_value(text: str, json_schema: str, field: str) -> str:
    try:
        # NaN and Infinity, which Python's json reads, are not JSON: other readers refuse them.
        document = json.loads(text, parse_constant=_not_json, parse_float=_finite)
        problem = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(json.loads(json_schema)).iter_errors(document))
    except ValueError as error:
        raise InvalidArgument({field: f"is not JSON: {error}"}) from None
    except RecursionError:
        raise InvalidArgument({field: "is nested too deeply"}) from None
    except referencing.exceptions.Unresolvable as error:
        raise InvalidArgument({field: f"cannot be checked: its schema refers to {error.ref!r}, "
                                      "which it does not hold"}) from None
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path) or "the document"
        raise InvalidArgument({field: f"does not fit its schema at {where}: {problem.message}"})
    return text


# Branches.

@dataclass(frozen=True)
class Opening:
    weekday: str
    opens: str
    closes: str


def check_branch_id(branch_id: str) -> str:
    if not SLUG.fullmatch(branch_id):
        raise InvalidArgument({"branch_id": "must be 2 to 40 lower-case letters, digits and '-', "
                                            "not starting or ending with '-', e.g. moscow-north"})
    return branch_id


def check_time_zone(zone: str, field: str = "branch.time_zone") -> str:
    if zone not in _known_zones():
        raise InvalidArgument({field: f"must be an IANA time zone like Europe/Moscow, not {zone[:60]!r}"})
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument({field: f"{zone!r} is not known on this server"}) from None
    return zone


@functools.cache
def _known_zones() -> set[str]:
    return available_timezones()


def check_hours(hours: list[Opening], field: str = "branch.hours") -> list[Opening]:
    """Opening intervals, each HH:MM to a later HH:MM the same day, none overlapping or touching
    another of its day (09:00-13:00 and 13:00-18:00 are one interval: write it so); returned by
    weekday and time."""
    problems = []
    for index, opening in enumerate(hours):
        where = f"{field}[{index}]"
        if opening.weekday not in WEEKDAYS:
            problems.append((f"{where}.weekday", "must be a day of the week"))
        for part in ("opens", "closes"):
            if not _CLOCK.fullmatch(getattr(opening, part)):
                problems.append((f"{where}.{part}", "must be a time of day as HH:MM, 00:00 to 23:59"))
        if not problems and opening.closes <= opening.opens:
            problems.append((f"{where}.closes", "must be after opens"))
    if problems:
        raise InvalidArgument(problems)
    ordered = sorted(hours, key=lambda opening: (WEEKDAYS.index(opening.weekday), opening.opens))
    for before, after in zip(ordered, ordered[1:]):
        if before.weekday == after.weekday and after.opens <= before.closes:
            raise InvalidArgument({field: f"{after.weekday}'s {after.opens}-{after.closes} overlaps or touches "
                                          f"{before.opens}-{before.closes}"})
    return ordered


def check_days_off(days: list[str], field: str = "branch.days_off") -> list[datetime.date]:
    return dates_from(days, field)


def check_name(text: str, field: str) -> str:
    """A name or an address: trimmed, required, at most NAME_LONGEST characters."""
    return texts.check_text(text, field, NAME_LONGEST, required=True)
