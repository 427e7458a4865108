"""catalog's domain rules: model and trim validation, spec filters, ordering."""
from decimal import Decimal

import pytest

from services.catalog import domain
from services.kit.masks import masked_fields
from services.kit import errors

SPECS = {
    "engine_type": "petrol", "engine_volume_l": "1.6", "power_hp": 106, "transmission": "manual",
    "drive": "front", "fuel_consumption_l_100km": "7.2", "seats": 5, "doors": 4,
    "length_mm": 4496, "ground_clearance_mm": 178, "trunk_volume_l": 480, "range_km": 0,
}
VESTA = domain.ModelFields("Lada", "Vesta", 2025, "sedan", Decimal("1359900"), SPECS, "")


def _fields(error: pytest.ExceptionInfo) -> set[str]:
    return {field for field, _ in error.value.violations}


def test_a_good_model_passes_trimmed():
    model = domain.validate_model(domain.ModelFields(
        " Lada ", " Vesta ", 2025, "sedan", Decimal("1359900"), SPECS, " Family car "))
    assert (model.brand, model.model, model.description) == ("Lada", "Vesta", "Family car")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"brand": " "}, "model.brand"),
        ({"year": 1949}, "model.year"),
        ({"year": domain.last_model_year() + 1}, "model.year"),
        ({"body_type": "spaceship"}, "model.body_type"),
        ({"body_type": None}, "model.body_type"),
        ({"base_price": Decimal("0")}, "model.base_price"),
        ({"base_price": Decimal("-1")}, "model.base_price"),
        ({"specifications": {**SPECS, "power_hp": 0}}, "model.specifications.power_hp"),
        ({"specifications": {**SPECS, "seats": 12}}, "model.specifications.seats"),
        ({"specifications": {**SPECS, "engine_type": None}}, "model.specifications.engine_type"),
        ({"specifications": {**SPECS, "engine_volume_l": ""}}, "model.specifications.engine_volume_l"),
        ({"specifications": {**SPECS, "engine_volume_l": "big"}}, "model.specifications.engine_volume_l"),
    ],
)
def test_each_bad_field_is_named(change, field):
    with pytest.raises(errors.InvalidArgument) as error:
        domain.validate_model(domain.ModelFields(**{**VESTA.__dict__, **change}))
    assert field in _fields(error)


def test_an_electric_car_needs_no_engine_volume():
    specs = {**SPECS, "engine_type": "electric", "engine_volume_l": "", "fuel_consumption_l_100km": "",
             "transmission": "single_speed", "range_km": 410}
    domain.validate_model(domain.ModelFields(**{**VESTA.__dict__, "specifications": specs}))


def test_trim_rules():
    trim = domain.validate_trim(domain.TrimFields(" Comfort ", Decimal("0"), [" heated seats "]))
    assert trim.display_name == "Comfort" and trim.features == ["heated seats"]
    with pytest.raises(errors.InvalidArgument) as error:
        domain.validate_trim(domain.TrimFields("", Decimal("-5"), ["ok", " "]))
    assert _fields(error) == {"trim.display_name", "trim.price_delta", "trim.features[1]"}


def test_spec_filter_reads_numbers_ranges_and_enums():
    conditions = domain.parse_spec_filter("power_hp >= 150 AND engine_type = ENGINE_TYPE_PETROL and seats<7")
    assert conditions == [
        domain.SpecCondition("power_hp", ">=", 150),
        domain.SpecCondition("engine_type", "=", "petrol"),
        domain.SpecCondition("seats", "<", 7),
    ]
    assert domain.parse_spec_filter("engine_volume_l <= 1.6")[0].value == Decimal("1.6")
    assert domain.parse_spec_filter("") == []


@pytest.mark.parametrize(
    "text, words",
    [
        ("horsepower > 1", "unknown field"),
        ("power_hp >= lots", "needs a number"),
        ("engine_type > ENGINE_TYPE_PETROL", "= or != only"),
        ("drive = DRIVE_SIDEWAYS", "is not a drive"),
        ("power_hp", "cannot read"),
    ],
)
def test_spec_filter_errors_say_what_is_wrong(text, words):
    with pytest.raises(errors.InvalidArgument) as error:
        domain.parse_spec_filter(text)
    assert error.value.violations[0][0] == "filter" and words in error.value.violations[0][1]


def test_order_by():
    assert domain.parse_order_by("") == ("name", False)
    assert domain.parse_order_by("price desc") == ("price", True)
    assert domain.parse_order_by("YEAR") == ("year", False)
    for bad in ("colour", "price sideways", "price desc now"):
        with pytest.raises(errors.InvalidArgument):
            domain.parse_order_by(bad)


def test_search_bounds_are_checked():
    with pytest.raises(errors.InvalidArgument) as error:
        domain.build_search("", "", 2025, 2020, "2000000", "1000000", None, "", "")
    assert _fields(error) == {"year_max", "price_max"}
    with pytest.raises(errors.InvalidArgument):
        domain.build_search("", "", 0, 0, "12.345", "", None, "", "")


def test_update_masks():
    assert masked_fields(["base_price", "specifications.power_hp"], domain.MODEL_MASK) == {
        "base_price", "specifications"}
    for mask in ([], ["id"], ["audit"]):
        with pytest.raises(errors.InvalidArgument):
            masked_fields(mask, domain.MODEL_MASK)


def test_a_trims_options_are_named_once_and_priced_zero_or_more():
    trim = domain.validate_trim(domain.TrimFields("Comfort", Decimal("0"), [],
                                                  ((" tow bar ", Decimal("35000")), ("mats", Decimal("0")))))
    assert trim.options == (("tow bar", Decimal("35000")), ("mats", Decimal("0")))
    with pytest.raises(errors.InvalidArgument) as refused:
        domain.validate_trim(domain.TrimFields("Comfort", Decimal("0"), [],
                                               (("tow bar", Decimal("-1")), ("Tow Bar", Decimal("1")), ("", Decimal("1")))))
    assert {field for field, _ in refused.value.violations} == {
        "trim.options[0].price", "trim.options[1].name", "trim.options[2].name"}
