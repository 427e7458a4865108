"""config's rules (services/config/domain.py): setting keys, typed values and their definitions,
branches' ids, time zones, opening hours, days off and names."""
import datetime
import json
import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.config import domain
from services.config.domain import Definition, Opening
from services.kit.errors import InvalidArgument
from services.kit.protos import slug_of

INT = Definition(domain.INT)
DECIMAL = Definition(domain.DECIMAL)
DURATION = Definition(domain.DURATION)
BOOL = Definition(domain.BOOL)
STRING = Definition(domain.STRING)
COLOURS = Definition(domain.STRING, choices=("red", "green"))
LIMITS = json.dumps({
    "type": "object", "required": ["limit"], "additionalProperties": False,
    "properties": {"limit": {"type": "integer", "minimum": 1}, "note": {"type": "string"}},
})
JSON = Definition(domain.JSON, json_schema=LIMITS)


def _fields(error: InvalidArgument) -> list[str]:
    return [field for field, _ in error.violations]


def _refused(text: str, rules: Definition, field: str = "setting.value") -> str:
    """The one message check_value gives `text`, on `field`."""
    with pytest.raises(InvalidArgument) as error:
        domain.check_value(text, rules, field)
    [(named, message)] = error.value.violations
    assert named == field
    return message


# Keys, categories, texts.

@pytest.mark.parametrize("key", ["dealership.banner", "inventory.saga_hold_seconds", "a.b.c", "x1.y_2"])
def test_a_key_is_lower_case_words_joined_by_dots(key):
    assert domain.check_key(key) == key


@pytest.mark.parametrize("key", ["banner", "Dealership.banner", "dealership..banner", "dealership.banner.",
                                 ".dealership.banner", "1x.banner", "dealership.1banner", "dealer-ship.banner",
                                 "dealership. banner", ""])
def test_a_malformed_key_is_refused_on_the_setting_id(key):
    with pytest.raises(InvalidArgument) as error:
        domain.check_key(key)
    [(field, message)] = error.value.violations
    assert field == "setting_id"
    assert "at least two" in message and "dealership.banner" in message


def test_a_key_is_at_most_100_characters_and_the_field_can_be_named():
    longest = "a." + "b" * 98
    assert domain.check_key(longest) == longest
    with pytest.raises(InvalidArgument) as error:
        domain.check_key(longest + "c", "setting.key")
    [(field, message)] = error.value.violations
    assert field == "setting.key"
    assert "at most 100 characters" in message


@pytest.mark.parametrize("category", ["tariffs", "dealership", "a", "a" * 40, "x_1"])
def test_a_category_is_one_lower_case_word(category):
    assert domain.check_category(category) == category


@pytest.mark.parametrize("category", ["", "Tariffs", "two words", "1tariffs", "tar-iffs", "a" * 41, "dealership.x"])
def test_a_malformed_category_is_refused(category):
    with pytest.raises(InvalidArgument) as error:
        domain.check_category(category)
    [(field, message)] = error.value.violations
    assert field == "setting.category"
    assert "at most 40 characters" in message


def test_a_text_is_at_most_its_longest():
    assert domain.check_text("x" * domain.TEXT_LONGEST, "setting.description") == "x" * domain.TEXT_LONGEST
    with pytest.raises(InvalidArgument) as error:
        domain.check_text("x" * (domain.TEXT_LONGEST + 1), "setting.description")
    assert error.value.violations == [("setting.description", "must be at most 2000 characters")]


# Values, type by type.

@pytest.mark.parametrize("text, kept", [("1800", "1800"), ("-5", "-5"), ("0", "0"), (" 42 ", "42"),
                                        ("9" * 18, "9" * 18)])
def test_an_int_is_an_optional_minus_and_digits(text, kept):
    assert domain.check_value(text, INT) == kept


@pytest.mark.parametrize("text", ["1e3", "12.5", "+5", "1_000", "1,000", "abc", "- 5", "0x10", "9" * 19,
                                  "\u0661\u0662"])
def test_anything_else_is_not_an_int(text):
    message = _refused(text, INT)
    assert "a whole number like 1800" in message
    assert repr(text.strip()) in message


@pytest.mark.parametrize("text", ["12.5", "-0.001", "7", "0.000000000001", "123456789012345678.123456789012"])
def test_a_decimal_is_plain_digits_and_one_point(text):
    assert domain.check_value(text, DECIMAL) == text


@pytest.mark.parametrize("text", ["1e5", "NaN", "Infinity", "12,5", "12.", ".5", "1.2.3", "12.5 EUR",
                                  "0.1234567890123"])
def test_an_exponent_a_comma_or_a_special_is_not_a_decimal(text):
    assert "a decimal number like 12.5" in _refused(text, DECIMAL)


@pytest.mark.parametrize("text", ["900s", "0.5s", "0s", "86400.000000001s"])
def test_a_duration_is_seconds_with_the_unit(text):
    assert domain.check_value(text, DURATION) == text


@pytest.mark.parametrize("text", ["15m", "900", "-5s", "0.5 s", "900S", "1h", "s", "1e3s"])
def test_another_unit_or_none_is_not_a_duration(text):
    assert "seconds with the unit, like 900s or 0.5s" in _refused(text, DURATION)


@pytest.mark.parametrize("text, kept", [("true", "true"), ("TRUE", "true"), (" False ", "false"), ("fAlSe", "false")])
def test_a_bool_is_true_or_false_in_any_case_stored_lower_case(text, kept):
    assert domain.check_value(text, BOOL) == kept


@pytest.mark.parametrize("text", ["yes", "1", "on", "t", "truth"])
def test_config_takes_no_other_spelling_of_a_bool(text):
    """The environment's yes/1/on are for kit.settings; config stores one form only."""
    assert "must be true or false" in _refused(text, BOOL)


def test_a_string_is_kept_exactly_as_given():
    assert domain.check_value("  Welcome, 10% off!  ", STRING) == "  Welcome, 10% off!  "


def test_a_string_with_choices_is_one_of_them_exactly():
    assert domain.check_value("green", COLOURS) == "green"
    assert _refused("Green", COLOURS) == "must be one of red, green"
    assert _refused("blue", COLOURS, "setting.default_value") == "must be one of red, green"


def test_a_json_value_that_fits_its_schema_is_kept_as_given():
    text = '{ "limit": 3,\n  "note": "per branch" }'
    assert domain.check_value(text, JSON) == text


@pytest.mark.parametrize("text, words", [
    ('{"limit": 0}', "at limit: 0 is less than the minimum of 1"),
    ('{"limit": "3"}', "at limit: '3' is not of type 'integer'"),
    ('{"note": "x"}', "at the document: 'limit' is a required property"),
    ('[1]', "at the document: [1] is not of type 'object'"),
    ('{"limit": 1, "extra": true}', "at the document: Additional properties are not allowed"),
])
def test_a_json_value_against_its_schema_names_where_it_does_not_fit(text, words):
    message = _refused(text, JSON)
    assert message.startswith("does not fit its schema")
    assert words in message


@pytest.mark.parametrize("text", ["{", "{'limit': 1}", '{"limit": 1,}', "limit: 1"])
def test_a_json_value_must_be_json(text):
    assert _refused(text, JSON).startswith("is not JSON")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"limit": 1, "ratio": NaN}'])
def test_nan_and_infinity_are_not_json_though_python_reads_them(text):
    """Every schema allows them here (true); other readers of the stored value would fail on them."""
    assert "is not JSON" in _refused(text, Definition(domain.JSON, json_schema="true"))


def test_a_json_value_nested_past_the_parser_is_refused_not_a_crash():
    deep = "[" * 5000 + "]" * 5000
    assert _refused(deep, Definition(domain.JSON, json_schema='{"type": "array"}')) == "is nested too deeply"


@pytest.mark.parametrize("ref, named", [("#/$defs/missing", "/$defs/missing"),
                                        ("https://schemas.example.com/limits.json", "https://schemas.example.com/")])
def test_a_schema_whose_reference_leads_nowhere_refuses_values_not_crashes(ref, named):
    """The schema is valid by the meta-schema, so the definition takes it; only a value meets
    the $ref (and nothing is fetched from elsewhere)."""
    rules = domain.definition(domain.JSON, "", "", (), json.dumps({"$ref": ref}))
    message = _refused('{"a": 1}', rules)
    assert message.startswith("cannot be checked: its schema refers to")
    assert named in message


def test_a_json_schema_may_use_its_own_definitions():
    schema = json.dumps({"$defs": {"rate": {"type": "number", "maximum": 1}},
                         "type": "array", "items": {"$ref": "#/$defs/rate"}})
    rules = domain.definition(domain.JSON, "", "", (), schema)
    assert domain.check_value("[0.1, 0.25]", rules) == "[0.1, 0.25]"
    assert "at 1: 2 is greater than the maximum of 1" in _refused("[0.1, 2]", rules)


@pytest.mark.parametrize("rules", [
    INT, Definition(domain.INT, minimum="10", maximum="20"), DECIMAL, DURATION, BOOL, STRING, COLOURS, JSON,
])
def test_the_empty_text_is_no_value_and_always_accepted(rules):
    assert domain.check_value("", rules) == ""


def test_a_value_is_at_most_20000_characters():
    assert domain.check_value("x" * domain.VALUE_LONGEST, STRING) == "x" * domain.VALUE_LONGEST
    assert _refused("x" * (domain.VALUE_LONGEST + 1), STRING) == "must be at most 20000 characters"


# Bounds.

HOLD = Definition(domain.INT, minimum="60", maximum="3600")


@pytest.mark.parametrize("text", ["60", "61", "1800", "3600"])
def test_bounds_are_inclusive(text):
    assert domain.check_value(text, HOLD) == text


@pytest.mark.parametrize("text", ["59", "3601", "-60", "0"])
def test_a_value_outside_both_bounds_names_them(text):
    assert _refused(text, HOLD) == "must be from 60 to 3600"


def test_a_value_below_a_lone_minimum_or_above_a_lone_maximum_names_it():
    assert _refused("0.4s", Definition(domain.DURATION, minimum="0.5s")) == "must be at least 0.5s"
    assert _refused("10.01", Definition(domain.DECIMAL, maximum="10")) == "must be at most 10"
    assert domain.check_value("100000", Definition(domain.INT, minimum="1")) == "100000"
    assert domain.check_value("-100000", Definition(domain.INT, maximum="1")) == "-100000"


def test_bounds_compare_numbers_not_texts():
    """As texts, "99" sorts after "100" and "1.0s" differs from "1s"."""
    assert domain.check_value("99", Definition(domain.INT, maximum="100")) == "99"
    assert _refused("1000", Definition(domain.INT, maximum="100")) == "must be at most 100"
    assert domain.check_value("1.0s", Definition(domain.DURATION, maximum="1s")) == "1.0s"
    assert domain.check_value("0.100000000000", Definition(domain.DECIMAL, maximum="0.1")) == "0.100000000000"


def test_bounds_compare_exactly_where_floats_would_round():
    """Both sides of each pair are the same float."""
    assert _refused("999999999999999999", Definition(domain.INT, maximum="999999999999999990")) \
        == "must be at most 999999999999999990"
    assert _refused("100000000.000000000002", Definition(domain.DECIMAL, maximum="100000000.000000000001")) \
        == "must be at most 100000000.000000000001"


def test_a_bound_does_not_excuse_the_form():
    assert "a whole number like 1800" in _refused("1e2", HOLD)


@given(st.integers(min_value=-10**6, max_value=10**6), st.integers(min_value=0, max_value=10**6),
       st.integers(min_value=-10**7, max_value=10**7))
def test_any_int_within_the_bounds_is_kept_and_any_outside_refused_naming_them(low, span, value):
    rules = domain.definition(domain.INT, str(low), str(low + span), (), "")
    if low <= value <= low + span:
        assert domain.check_value(str(value), rules) == str(value)
    else:
        with pytest.raises(InvalidArgument) as error:
            domain.check_value(str(value), rules)
        assert error.value.violations == [("setting.value", f"must be from {low} to {low + span}")]


# number().

@pytest.mark.parametrize("value_type, text, expected", [
    (domain.INT, "1800", Decimal(1800)), (domain.INT, "-5", Decimal(-5)),
    (domain.DECIMAL, "12.50", Decimal("12.50")), (domain.DURATION, "0.5s", Decimal("0.5")),
    (domain.DURATION, "900s", Decimal(900)),
])
def test_number_reads_a_valid_numeric_text(value_type, text, expected):
    assert domain.number(value_type, text) == expected


@pytest.mark.parametrize("value_type, text", [
    (domain.INT, "12.5"), (domain.DECIMAL, "1e5"), (domain.DURATION, "900"), (domain.STRING, "5"),
    (domain.BOOL, "1"), (domain.JSON, "5"), (domain.INT, ""),
])
def test_number_is_none_for_what_is_not_a_number_of_its_type(value_type, text):
    assert domain.number(value_type, text) is None


# Definitions.

def test_a_definition_keeps_what_it_was_given():
    assert domain.definition(domain.INT, "60", "3600", (), "") == HOLD
    colours = domain.definition(domain.STRING, "", "", ["red", "green"], "")
    assert colours == COLOURS and colours.choices == ("red", "green")
    assert domain.definition(domain.JSON, "", "", (), LIMITS) == JSON


def test_an_unknown_value_type_is_refused():
    with pytest.raises(InvalidArgument) as error:
        domain.definition("float", "", "", (), "")
    assert error.value.violations == [
        ("setting.value_type", "must be one of string, int, decimal, duration, bool, json")]


@pytest.mark.parametrize("value_type", [domain.STRING, domain.BOOL, domain.JSON])
def test_bounds_apply_only_to_numbers(value_type):
    schema = "true" if value_type == domain.JSON else ""
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, "1", "2", (), schema)
    assert error.value.violations == [("setting.minimum", "applies only to int, decimal and duration settings"),
                                      ("setting.maximum", "applies only to int, decimal and duration settings")]


@pytest.mark.parametrize("value_type, bound, form", [
    (domain.INT, "1.5", "a whole number like 1800"), (domain.INT, "1e3", "a whole number like 1800"),
    (domain.DECIMAL, "1e3", "a decimal number like 12.5"), (domain.DECIMAL, "1,5", "a decimal number like 12.5"),
    (domain.DURATION, "60", "seconds with the unit, like 900s or 0.5s"),
    (domain.DURATION, "1m", "seconds with the unit, like 900s or 0.5s"),
])
def test_a_bound_is_in_its_types_form(value_type, bound, form):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, bound, "", (), "")
    assert error.value.violations == [("setting.minimum", f"must be {form}")]
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, "", bound, (), "")
    assert error.value.violations == [("setting.maximum", f"must be {form}")]


@pytest.mark.parametrize("value_type, low, high", [
    (domain.INT, "10", "9"), (domain.DECIMAL, "0.11", "0.1"), (domain.DURATION, "2s", "1.5s"),
])
def test_the_minimum_is_not_above_the_maximum(value_type, low, high):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, low, high, (), "")
    assert error.value.violations == [("setting.maximum", "must not be below the minimum")]


@pytest.mark.parametrize("value_type, low, high", [
    (domain.INT, "9", "10"), (domain.INT, "5", "5"), (domain.DURATION, "1s", "1.0s"), (domain.DECIMAL, "-1", "0.5"),
])
def test_bounds_in_order_as_numbers_or_equal_are_taken(value_type, low, high):
    assert domain.definition(value_type, low, high, (), "") == Definition(value_type, low, high)


@pytest.mark.parametrize("value_type", [domain.INT, domain.DECIMAL, domain.DURATION, domain.BOOL])
def test_choices_apply_only_to_strings(value_type):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, "", "", ("1", "2"), "")
    assert error.value.violations == [("setting.choices", "apply only to string settings")]


@pytest.mark.parametrize("choices", [("red", "red"), ("red", ""), ("",)])
def test_choices_are_distinct_and_not_empty(choices):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(domain.STRING, "", "", choices, "")
    assert error.value.violations == [("setting.choices", "must be distinct and not empty")]


def test_a_json_setting_needs_its_schema():
    with pytest.raises(InvalidArgument) as error:
        domain.definition(domain.JSON, "", "", (), "")
    assert error.value.violations == [("setting.json_schema", "is required for a json setting")]


@pytest.mark.parametrize("schema, words", [
    ("{type: object}", "is not JSON"),
    ('{"type": "nope"}', "is not a valid JSON schema"),
    ('{"type": "string", "pattern": "["}', "is not a valid JSON schema: '[' is not a 'regex'"),
    ("5", "is not a valid JSON schema: 5 is not of type 'object', 'boolean'"),
    ('{"minimum": "1"}', "is not a valid JSON schema"),
    ("[" * 5000 + "]" * 5000, "is nested too deeply"),
])
def test_a_json_schema_must_be_a_valid_schema(schema, words):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(domain.JSON, "", "", (), schema)
    [(field, message)] = error.value.violations
    assert field == "setting.json_schema"
    assert message.startswith(words)


@pytest.mark.parametrize("value_type", [domain.STRING, domain.INT, domain.BOOL])
def test_a_json_schema_applies_only_to_json_settings(value_type):
    with pytest.raises(InvalidArgument) as error:
        domain.definition(value_type, "", "", (), LIMITS)
    assert error.value.violations == [("setting.json_schema", "applies only to json settings")]


def test_every_problem_of_a_definition_is_named_at_once_under_its_prefix():
    with pytest.raises(InvalidArgument) as error:
        domain.definition(domain.STRING, "1", "", ("a", "a"), "true", prefix="")
    assert _fields(error.value) == ["minimum", "choices", "json_schema"]


# Branches.

@pytest.mark.parametrize("branch_id", ["moscow-north", "b2", "42", "a" * 40, "spb-1-nevsky"])
def test_a_branch_id_is_lower_case_letters_digits_and_dashes(branch_id):
    assert domain.check_branch_id(branch_id) == branch_id


@pytest.mark.parametrize("branch_id", ["a", "-north", "north-", "Moscow", "moscow_north", "moscow north",
                                       "a" * 41, "", "moscow/north"])
def test_a_malformed_branch_id_is_refused(branch_id):
    with pytest.raises(InvalidArgument) as error:
        domain.check_branch_id(branch_id)
    [(field, message)] = error.value.violations
    assert field == "branch_id"
    assert "2 to 40" in message


def test_a_branch_name_gives_its_id():
    assert slug_of("branches/moscow-north", "branches", "salesperson.branch") == "moscow-north"


@pytest.mark.parametrize("name", ["moscow-north", "branch/moscow-north", "branches/", "branches/Moscow",
                                  "branches/moscow-north/x", "salespeople/moscow-north", ""])
def test_anything_else_is_not_a_branch_name(name):
    with pytest.raises(InvalidArgument) as error:
        slug_of(name, "branches", "salesperson.branch")
    assert error.value.violations == [("salesperson.branch", "must look like branches/{id}")]


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Asia/Vladivostok", "UTC", "America/Argentina/Buenos_Aires"])
def test_a_time_zone_is_an_iana_name(zone):
    assert domain.check_time_zone(zone) == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/moscow", "MSK+3", "+03:00", "", "../../etc/passwd",
                                  "Europe/Moscow "])
def test_anything_else_is_not_a_time_zone(zone):
    with pytest.raises(InvalidArgument) as error:
        domain.check_time_zone(zone)
    [(field, message)] = error.value.violations
    assert field == "branch.time_zone"
    assert "IANA time zone like Europe/Moscow" in message and repr(zone) in message


def _hours_refused(hours: list[Opening]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as error:
        domain.check_hours(hours)
    return error.value.violations


def test_hours_come_back_by_weekday_and_time():
    hours = [Opening("saturday", "10:00", "16:00"), Opening("monday", "14:00", "20:00"),
             Opening("monday", "09:00", "13:00"), Opening("sunday", "00:00", "23:59")]
    assert domain.check_hours(hours) == [hours[2], hours[1], hours[0], hours[3]]
    assert domain.check_hours([]) == []


def test_the_same_hours_on_different_days_do_not_overlap():
    hours = [Opening(day, "09:00", "18:00") for day in reversed(domain.WEEKDAYS)]
    assert domain.check_hours(hours) == [Opening(day, "09:00", "18:00") for day in domain.WEEKDAYS]


@pytest.mark.parametrize("second", [Opening("monday", "12:00", "20:00"), Opening("monday", "10:00", "11:00"),
                                    Opening("monday", "08:00", "09:01"), Opening("monday", "09:00", "18:00")])
def test_intervals_of_a_day_must_not_overlap(second):
    violations = _hours_refused([Opening("monday", "09:00", "18:00"), second])
    [(field, message)] = violations
    assert field == "branch.hours"
    assert "overlaps" in message
    assert f"{second.opens}-{second.closes}" in message and "monday" in message


def test_intervals_of_a_day_must_not_touch():
    """09:00-13:00 and 13:00-18:00 are one interval and must be written so."""
    [(field, message)] = _hours_refused([Opening("friday", "13:00", "18:00"), Opening("friday", "09:00", "13:00")])
    assert field == "branch.hours"
    assert message == "friday's 13:00-18:00 overlaps or touches 09:00-13:00"


@pytest.mark.parametrize("opens, closes", [("18:00", "09:00"), ("09:00", "09:00")])
def test_an_interval_closes_after_it_opens(opens, closes):
    assert _hours_refused([Opening("tuesday", opens, closes)]) == [("branch.hours[0].closes", "must be after opens")]


@pytest.mark.parametrize("clock", ["9:00", "24:00", "12:60", "noon", "12:00:00", "", "25:00"])
def test_a_time_of_day_is_hh_mm_within_the_day(clock):
    violations = _hours_refused([Opening("monday", "08:00", "09:00"), Opening("monday", clock, "23:00")])
    assert violations == [("branch.hours[1].opens", "must be a time of day as HH:MM, 00:00 to 23:59")]


@pytest.mark.parametrize("weekday", ["Monday", "funday", "mon", ""])
def test_a_weekday_is_named_in_lower_case(weekday):
    assert _hours_refused([Opening(weekday, "09:00", "18:00")]) == [
        ("branch.hours[0].weekday", "must be a day of the week")]


def test_every_malformed_part_of_an_opening_is_named_at_once():
    violations = _hours_refused([Opening("someday", "9", "25:00")])
    assert [field for field, _ in violations] == [
        "branch.hours[0].weekday", "branch.hours[0].opens", "branch.hours[0].closes"]


MINUTES = st.lists(st.integers(min_value=0, max_value=23 * 60 + 59), unique=True, max_size=8)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@given(st.fixed_dictionaries({day: MINUTES for day in domain.WEEKDAYS}), st.randoms(use_true_random=False))
def test_any_separate_intervals_in_any_order_are_taken_and_sorted(points, shuffler: random.Random):
    """Distinct minutes of a day, sorted and paired, are intervals that neither overlap nor touch."""
    expected = []
    for day in domain.WEEKDAYS:
        ends = sorted(points[day])[: len(points[day]) // 2 * 2]
        expected += [Opening(day, _clock(opens), _clock(closes)) for opens, closes in zip(ends[::2], ends[1::2])]
    given_hours = list(expected)
    shuffler.shuffle(given_hours)
    assert domain.check_hours(given_hours) == expected


@given(st.integers(min_value=0, max_value=1438), st.integers(min_value=1, max_value=120),
       st.integers(min_value=0, max_value=1438), st.integers(min_value=1, max_value=120))
def test_two_intervals_of_a_day_sharing_a_minute_are_refused(opens, length, other_opens, other_length):
    first = (opens, min(opens + length, 1439))
    second = (other_opens, min(other_opens + other_length, 1439))
    hours = [Opening("wednesday", _clock(a), _clock(b)) for a, b in (first, second)]
    if max(first[0], second[0]) <= min(first[1], second[1]):
        [(field, message)] = _hours_refused(hours)
        assert field == "branch.hours" and "overlaps or touches" in message
    else:
        assert domain.check_hours(hours) == sorted(hours, key=lambda opening: opening.opens)


def test_days_off_come_back_as_dates_once_each_in_order():
    assert domain.check_days_off(["2027-01-07", "2027-01-01", "2027-01-07", "2026-12-31"]) == [
        datetime.date(2026, 12, 31), datetime.date(2027, 1, 1), datetime.date(2027, 1, 7)]
    assert domain.check_days_off([]) == []


@pytest.mark.parametrize("text", ["2027-02-30", "07.01.2027", "2027-1-7", "", "tomorrow"])
def test_a_day_off_that_is_not_a_date_is_named_by_its_index(text):
    with pytest.raises(InvalidArgument) as error:
        domain.check_days_off(["2027-01-01", text])
    [(field, message)] = error.value.violations
    assert field == "branch.days_off[1]" and message.startswith("must be a date like 2026-12-31")


def test_a_name_is_trimmed_required_and_at_most_200_characters():
    assert domain.check_name("  Autosalon North  ", "branch.display_name") == "Autosalon North"
    assert domain.check_name("x" * 200, "branch.display_name") == "x" * 200
    with pytest.raises(InvalidArgument) as error:
        domain.check_name(" \t ", "branch.display_name")
    assert error.value.violations == [("branch.display_name", "is required")]
    with pytest.raises(InvalidArgument) as error:
        domain.check_name("x" * 201, "salesperson.display_name")
    assert error.value.violations == [("salesperson.display_name", "must be at most 200 characters")]


@pytest.mark.parametrize("schema", [
    {"type": "string", "pattern": "(a+)+$"},
    {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
    {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]+$"}}}},
])
def test_a_schema_with_regular_expressions_is_refused(schema):
    """A slow pattern would stall the config service while it checked one value."""
    with pytest.raises(InvalidArgument) as refused:
        domain.definition(domain.JSON, "", "", (), json.dumps(schema))
    [(field, message)] = refused.value.violations
    assert field == "setting.json_schema" and "pattern" in message


def test_a_json_number_too_large_for_a_float_is_refused():
    rules = domain.definition(domain.JSON, "", "", (), json.dumps({"type": "number"}))
    assert domain.check_value("1e300", rules) == "1e300"
    with pytest.raises(InvalidArgument) as refused:
        domain.check_value("1e1000000", rules)
    assert refused.value.violations[0][0] == "setting.value"
