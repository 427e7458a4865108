"""inventory's rules: VIN vectors, vehicle fields, and the reservation state machine."""
import datetime
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.inventory import domain, handlers
from services.kit import errors, vin


@pytest.mark.parametrize(
    "value, year",
    [
        ("1M8GDM9AXKP042788", 1989),  # the ISO 3779 textbook example: check digit X
        ("1HGCM82633A004352", 2003),  # North America, check digit 3
        ("5YJ3E1EA2KF317000", 2019),  # North America, letter in position 7: 2010 cycle
        ("LVVDB11B8PD000001", 2023),  # China (L): checked
    ],
)
def test_valid_checked_vins(value, year):
    facts = vin.decode(value, today=datetime.date(2026, 11, 24))
    assert facts.check_digit_valid and facts.warning == ""
    assert facts.model_year == year


@pytest.mark.parametrize("value", ["1M8GDM9A1KP042788", "1HGCM82643A004352", "LVVDB11B0PD000001"])
def test_wrong_check_digit_is_rejected_where_it_is_required(value):
    with pytest.raises(errors.InvalidArgument) as error:
        vin.decode(value)
    assert error.value.violations[0][0] == "vin" and "check digit" in error.value.violations[0][1]


def test_wrong_check_digit_elsewhere_is_accepted_but_reported():
    facts = vin.decode("XTA21099043576182")
    assert not facts.check_digit_valid
    assert "8 expected" in facts.warning
    assert (facts.region, facts.country, facts.manufacturer) == ("Europe", "Russia", "AvtoVAZ (Lada)")


@pytest.mark.parametrize(
    "value, words",
    [
        ("1M8GDM9AXKP04278", "17 characters, not 16"),
        ("1M8GDM9AXKP0427888", "17 characters, not 18"),
        ("1M8GDM9AXKP0427O8", "must not contain O"),
        ("IM8GDM9AXKP042788", "must not contain I"),
        ("QM8GDM9AXKP042788", "must not contain Q"),
        ("1M8GDM9AXKP04278-", "only digits and letters"),
    ],
)
def test_malformed_vins(value, words):
    with pytest.raises(errors.InvalidArgument) as error:
        vin.decode(value)
    assert words in error.value.violations[0][1]


def test_vins_are_read_case_insensitively():
    assert vin.decode(" 1m8gdm9axkp042788 ").manufacturer_code == "1M8"


def test_with_check_digit_makes_valid_vins():
    assert vin.with_check_digit("1M8GDM9A0KP042788") == "1M8GDM9AXKP042788"


def test_example_vins_are_valid_and_do_not_repeat():
    examples = {vin.example("XTAGFL110S") for _ in range(2000)}
    assert len(examples) == 2000
    for example in list(examples)[:200]:
        assert example.startswith("XTAGFL11") and vin.decode(example).check_digit_valid


GOOD = domain.VehicleFields("white", 10, "new", "Moscow", None)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"colour": " "}, "vehicle.colour"),
        ({"branch": ""}, "vehicle.branch"),
        ({"condition": None}, "vehicle.condition"),
        ({"mileage_km": -1}, "vehicle.mileage_km"),
        ({"mileage_km": 5000}, "vehicle.mileage_km"),  # too much for a new car
        ({"price_override": Decimal("0")}, "vehicle.price_override"),
    ],
)
def test_vehicle_fields(change, field):
    with pytest.raises(errors.InvalidArgument) as error:
        domain.validate_vehicle(domain.VehicleFields(**{**GOOD.__dict__, **change}))
    assert field in {name for name, _ in error.value.violations}


def test_a_used_car_may_have_mileage():
    domain.validate_vehicle(domain.VehicleFields(**{**GOOD.__dict__, "condition": "used", "mileage_km": 50_000}))


def test_reservation_state_machine():
    assert domain.reservation_outcome("available", None, "o1") is True
    assert domain.reservation_outcome("reserved", "o1", "o1") is False
    for status, holder in (("reserved", "o2"), ("sold", "o2"), ("sold", "o1")):
        with pytest.raises(errors.FailedPrecondition):
            domain.reservation_outcome(status, holder, "o1")
    assert domain.release_outcome("reserved", "o1", "o1") is True
    assert domain.release_outcome("available", None, "o1") is False
    for status, holder in (("reserved", "o2"), ("sold", "o1")):
        with pytest.raises(errors.FailedPrecondition):
            domain.release_outcome(status, holder, "o1")
    assert domain.sale_outcome("reserved", "o1", "o1") is True
    assert domain.sale_outcome("sold", "o1", "o1") is False
    for status, holder in (("available", None), ("reserved", "o2"), ("sold", "o2")):
        with pytest.raises(errors.FailedPrecondition):
            domain.sale_outcome(status, holder, "o1")


@pytest.mark.parametrize("start, outcome", [
    (domain.RESERVE_FROM, domain.reservation_outcome),
    (domain.RELEASE_FROM, domain.release_outcome),
    (domain.SALE_FROM, domain.sale_outcome),
])
def test_each_change_starts_from_the_state_its_outcome_allows(start, outcome):
    """The database applies a change only from `start`; the outcome explains anything else."""
    status, held = start
    for current in (domain.AVAILABLE, domain.RESERVED, domain.SOLD):
        for holder in (None, "o1", "o2"):
            expected = current == status and (not held or holder == "o1")
            try:
                allowed = outcome(current, holder, "o1")
            except errors.FailedPrecondition:
                allowed = False
            assert allowed == expected, (current, holder)


def test_refusals_say_the_state():
    with pytest.raises(errors.FailedPrecondition, match="vehicle is sold for another order"):
        domain.reservation_outcome("sold", "o2", "o1")


def test_hold_time_bounds():
    assert domain.hold_seconds(0) == domain.DEFAULT_HOLD_SECONDS
    assert domain.hold_seconds(120) == 120
    for bad in (1, 10**7):
        with pytest.raises(errors.InvalidArgument):
            domain.hold_seconds(bad)


class _Vehicles:
    """A repository whose vehicle was not in the change's starting state when the one-statement
    change ran, and is `current` when read under its lock."""

    def __init__(self, current):
        self.current = current
        self.transitions = 0

    async def transition(self, vehicle_id, start, order_id, values):
        self.transitions += 1
        return None if self.transitions == 1 else SimpleNamespace(**values)

    async def vehicle(self, vehicle_id, for_update=False):
        assert for_update
        return self.current


async def _reserve(vehicles: _Vehicles):
    return await handlers._change_for_order(vehicles, uuid.uuid4(), "o1", domain.RESERVE_FROM,
                                            domain.reservation_outcome, {"status": domain.RESERVED})


async def test_a_change_that_did_not_apply_is_decided_again_under_the_vehicles_lock():
    freed_meanwhile = _Vehicles(SimpleNamespace(status=domain.AVAILABLE, order_id=None))
    row, changed = await _reserve(freed_meanwhile)
    assert (row.status, changed, freed_meanwhile.transitions) == (domain.RESERVED, True, 2)

    already_ours = _Vehicles(SimpleNamespace(status=domain.RESERVED, order_id="o1"))
    row, changed = await _reserve(already_ours)
    assert (row, changed, already_ours.transitions) == (already_ours.current, False, 1)

    with pytest.raises(errors.FailedPrecondition, match="another order"):
        await _reserve(_Vehicles(SimpleNamespace(status=domain.RESERVED, order_id="o2")))
    with pytest.raises(errors.NotFound):
        await _reserve(_Vehicles(None))
