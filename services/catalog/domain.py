"""catalog's rules: what a valid model, trim and specification is; how searches are read."""
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from services.kit.errors import InvalidArgument
from services.kit.money import parse_amount

BODY_TYPES = ("sedan", "hatchback", "liftback", "wagon", "crossover", "suv", "coupe",
              "convertible", "minivan", "pickup", "van")
ENGINE_TYPES = ("petrol", "diesel", "hybrid", "plug_in_hybrid", "electric")
TRANSMISSIONS = ("manual", "automatic", "robotic", "cvt", "dct", "single_speed")
DRIVES = ("front", "rear", "all")
FIRST_YEAR = 1950
# A model's trims come whole in one answer (and inside the model), so their number is bounded.
MAX_TRIMS_PER_MODEL = 50

# Specification field -> its kind, for validation and for search filters.
SPEC_FIELDS: dict[str, str] = {
    "engine_type": "enum",
    "engine_volume_l": "decimal",
    "power_hp": "int",
    "transmission": "enum",
    "drive": "enum",
    "fuel_consumption_l_100km": "decimal",
    "seats": "int",
    "doors": "int",
    "length_mm": "int",
    "ground_clearance_mm": "int",
    "trunk_volume_l": "int",
    "range_km": "int",
}
ENUM_VALUES = {"engine_type": ENGINE_TYPES, "transmission": TRANSMISSIONS, "drive": DRIVES}
INT_BOUNDS = {
    "power_hp": (1, 2000), "seats": (1, 9), "doors": (0, 6), "length_mm": (0, 8000),
    "ground_clearance_mm": (0, 600), "trunk_volume_l": (0, 20000), "range_km": (0, 2000),
}


def last_model_year(today: datetime.date | None = None) -> int:
    return (today or datetime.date.today()).year + 1


@dataclass(frozen=True)
class ModelFields:
    brand: str
    model: str
    year: int
    body_type: str
    base_price: Decimal
    specifications: dict
    description: str


def _text_problem(value: str, longest: int) -> str | None:
    if not value.strip():
        return "is required"
    if len(value.strip()) > longest:
        return f"must be at most {longest} characters"
    return None


def validate_specifications(specs: dict, field: str = "specifications") -> list[tuple[str, str]]:
    problems = []
    for name, values in ENUM_VALUES.items():
        if specs.get(name) not in values:
            problems.append((f"{field}.{name}", f"is required: one of {', '.join(values)}"))
    for name, (low, high) in INT_BOUNDS.items():
        value = specs.get(name, 0)
        required = name in ("power_hp", "seats")
        if (required or value) and not low <= value <= high:
            problems.append((f"{field}.{name}", f"must be from {low} to {high}"))
    electric = specs.get("engine_type") == "electric"
    for name in ("engine_volume_l", "fuel_consumption_l_100km"):
        raw = specs.get(name) or ""
        if not raw:
            if not electric and name == "engine_volume_l":
                problems.append((f"{field}.{name}", "is required for a combustion engine"))
            continue
        amount = Decimal(raw) if _SPEC_DECIMAL.fullmatch(raw.strip()) else Decimal(-1)
        if not Decimal("0") < amount < Decimal("100"):
            problems.append((f"{field}.{name}", "must be a decimal number above 0, like 1.6"))
    return problems


def validate_model(fields: ModelFields, prefix: str = "model") -> ModelFields:
    """The model with text trimmed, or InvalidArgument naming every bad field."""
    problems = []
    for name, longest in (("brand", 60), ("model", 80)):
        if problem := _text_problem(getattr(fields, name), longest):
            problems.append((f"{prefix}.{name}", problem))
    if not FIRST_YEAR <= fields.year <= last_model_year():
        problems.append((f"{prefix}.year", f"must be from {FIRST_YEAR} to {last_model_year()}"))
    if fields.body_type not in BODY_TYPES:
        problems.append((f"{prefix}.body_type", f"is required: one of {', '.join(BODY_TYPES)}"))
    if fields.base_price <= 0:
        problems.append((f"{prefix}.base_price", "must be more than zero"))
    if len(fields.description) > 2000:
        problems.append((f"{prefix}.description", "must be at most 2000 characters"))
    problems += validate_specifications(fields.specifications, f"{prefix}.specifications")
    if problems:
        raise InvalidArgument(problems, "vehicle model has invalid fields")
    return ModelFields(
        brand=fields.brand.strip(), model=fields.model.strip(), year=fields.year,
        body_type=fields.body_type, base_price=fields.base_price,
        specifications=fields.specifications, description=fields.description.strip(),
    )


@dataclass(frozen=True)
class TrimFields:
    display_name: str
    price_delta: Decimal
    features: list[str]
    # (name, price) of each extra the trim offers.
    options: tuple[tuple[str, Decimal], ...] = ()


def validate_trim(fields: TrimFields, prefix: str = "trim") -> TrimFields:
    problems = []
    if problem := _text_problem(fields.display_name, 80):
        problems.append((f"{prefix}.display_name", problem))
    if fields.price_delta < 0:
        problems.append((f"{prefix}.price_delta", "must be zero or more"))
    if len(fields.features) > 100:
        problems.append((f"{prefix}.features", "at most 100 features"))
    for index, feature in enumerate(fields.features):
        if problem := _text_problem(feature, 120):
            problems.append((f"{prefix}.features[{index}]", problem))
    if len(fields.options) > MAX_OPTIONS_PER_TRIM:
        problems.append((f"{prefix}.options", f"at most {MAX_OPTIONS_PER_TRIM} options"))
    seen = set()
    for index, (name, price) in enumerate(fields.options):
        if problem := _text_problem(name, 120):
            problems.append((f"{prefix}.options[{index}].name", problem))
        elif name.strip().casefold() in seen:
            problems.append((f"{prefix}.options[{index}].name", "is offered twice"))
        seen.add(name.strip().casefold())
        if price < 0:
            problems.append((f"{prefix}.options[{index}].price", "must be zero or more"))
    if problems:
        raise InvalidArgument(problems, "trim has invalid fields")
    return TrimFields(
        display_name=fields.display_name.strip(), price_delta=fields.price_delta,
        features=[feature.strip() for feature in fields.features],
        options=tuple((name.strip(), price) for name, price in fields.options),
    )


MODEL_MASK = {"brand", "model", "year", "body_type", "base_price", "specifications", "description"}
TRIM_MASK = {"display_name", "price_delta", "features", "options"}
MAX_OPTIONS_PER_TRIM = 50


@dataclass(frozen=True)
class SpecCondition:
    field: str
    operator: str
    value: object


# Numbers as written in specifications and filters: plain digits, so that no exponent (1e400)
# or NaN reaches a comparison or PostgreSQL's numeric type.
_SPEC_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?", re.ASCII)
_FILTER_NUMBER = {
    "int": re.compile(r"-?[0-9]{1,9}", re.ASCII),
    "decimal": re.compile(r"-?[0-9]{1,6}(\.[0-9]{1,6})?", re.ASCII),
}
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|!=|=|<|>)\s*(\S+)\s*$")


def parse_spec_filter(text: str) -> list[SpecCondition]:
    """`power_hp >= 150 AND engine_type = ENGINE_TYPE_PETROL` -> conditions, or a clear 400."""
    if not text.strip():
        return []
    conditions = []
    for part in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE):
        match = _CONDITION.match(part)
        if not match:
            raise InvalidArgument({"filter": f"cannot read {part.strip()!r}: use field op value, e.g. power_hp >= 150"})
        field, operator, raw = match.groups()
        kind = SPEC_FIELDS.get(field)
        if kind is None:
            raise InvalidArgument({"filter": f"unknown field {field!r}; known: {', '.join(SPEC_FIELDS)}"})
        if kind == "enum":
            if operator not in ("=", "!="):
                raise InvalidArgument({"filter": f"{field} takes = or != only"})
            value = raw.lower().removeprefix(f"{field}_")
            if value not in ENUM_VALUES[field]:
                raise InvalidArgument({"filter": f"{raw!r} is not a {field}"})
        elif _FILTER_NUMBER[kind].fullmatch(raw):
            value = int(raw) if kind == "int" else Decimal(raw)
        else:
            example = "150" if kind == "int" else "1.6"
            raise InvalidArgument({"filter": f"{field} needs a number like {example}, not {raw[:40]!r}"})
        conditions.append(SpecCondition(field, operator, value))
    return conditions


ORDERINGS = {"name", "price", "year"}


def parse_order_by(text: str) -> tuple[str, bool]:
    """("price" | "year" | "name", descending)."""
    words = text.strip().lower().split()
    if not words:
        return "name", False
    if words[0] not in ORDERINGS or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise InvalidArgument({"order_by": "must be price, year or name, optionally followed by desc"})
    return words[0], len(words) == 2 and words[1] == "desc"


@dataclass(frozen=True)
class ModelSearch:
    brand: str
    model_text: str
    year_min: int
    year_max: int
    price_min: Decimal | None
    price_max: Decimal | None
    body_type: str | None
    conditions: list[SpecCondition]
    order: str
    descending: bool

    def key(self) -> dict:
        """What a page token is bound to."""
        return {
            "brand": self.brand, "model": self.model_text, "years": [self.year_min, self.year_max],
            "prices": [str(self.price_min), str(self.price_max)], "body": self.body_type,
            "filter": [[c.field, c.operator, str(c.value)] for c in self.conditions],
            "order": [self.order, self.descending],
        }


def build_search(
    brand: str, model_text: str, year_min: int, year_max: int, price_min: str, price_max: str,
    body_type: str | None, spec_filter: str, order_by: str,
) -> ModelSearch:
    problems = []
    low = parse_amount(price_min, "price_min") if price_min else None
    high = parse_amount(price_max, "price_max") if price_max else None
    if low is not None and high is not None and low > high:
        problems.append(("price_max", "must not be below price_min"))
    if year_min and year_max and year_min > year_max:
        problems.append(("year_max", "must not be below year_min"))
    if problems:
        raise InvalidArgument(problems)
    order, descending = parse_order_by(order_by)
    return ModelSearch(
        brand=brand.strip().lower(), model_text=model_text.strip().lower(), year_min=year_min,
        year_max=year_max, price_min=low, price_max=high, body_type=body_type,
        conditions=parse_spec_filter(spec_filter), order=order, descending=descending,
    )
