"""pricing's rules: discount validation and the breakdown, with properties checked by hypothesis."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kit import errors
from services.pricing import domain

NOW = datetime.datetime(2026, 11, 24, 12, tzinfo=datetime.timezone.utc)
VESTA = domain.Vehicle("Lada", "m-vesta", "t-comfort", Decimal("1359900.00"), Decimal("100000.00"))


def discount(id="d", kind=domain.PERCENTAGE, value="10", stackable=True, automatic=True, code="",
             scope=domain.Scope(), valid_from=None, valid_until=None) -> domain.Discount:
    return domain.Discount(id=id, title=f"Offer {id}", kind=kind, value=Decimal(value),
                           valid_from=valid_from, valid_until=valid_until, scope=scope,
                           stackable=stackable, automatic=automatic, code=code)


def test_breakdown_adds_up():
    options = [domain.Option("winter tyres", Decimal("60000.00"))]
    result = domain.quote(VESTA, options, [discount(value="5")], NOW)
    assert result.subtotal == Decimal("1519900.00")
    assert result.discount_total == Decimal("75995.00")
    assert result.total == Decimal("1443905.00")
    assert sum(line.amount for line in result.lines) == result.total
    assert [line.label for line in result.lines] == [
        "base price", "trim", "option: winter tyres", "discount: Offer d"]


def test_percentages_round_half_up_to_kopecks():
    vehicle = domain.Vehicle("Lada", "m", "t", Decimal("100.05"), Decimal("0"))
    assert domain.quote(vehicle, [], [discount(value="10")], NOW).discount_total == Decimal("10.01")


def test_stackable_discounts_combine_and_a_better_lone_one_wins():
    small = [discount("a", value="3"), discount("b", kind=domain.FIXED, value="20000")]
    together = domain.quote(VESTA, [], small, NOW)
    assert set(together.applied) == {"a", "b"}
    lone = discount("c", value="10", stackable=False)
    best = domain.quote(VESTA, [], small + [lone], NOW)
    assert best.applied == ("c",)
    weak_lone = discount("w", kind=domain.FIXED, value="1000", stackable=False)
    assert set(domain.quote(VESTA, [], small + [weak_lone], NOW).applied) == {"a", "b"}


def test_scope_and_validity_window():
    haval_only = discount("h", scope=domain.Scope(brands=("Haval",)))
    expensive_only = discount("e", scope=domain.Scope(min_price=Decimal("2000000")))
    this_trim = discount("t", scope=domain.Scope(trim_ids=("t-comfort",)))
    expired = discount("x", valid_until=NOW - datetime.timedelta(days=1))
    future = discount("f", valid_from=NOW + datetime.timedelta(days=1))
    result = domain.quote(VESTA, [], [haval_only, expensive_only, this_trim, expired, future], NOW)
    assert result.applied == ("t",)


def test_fixed_discount_never_takes_the_price_below_zero():
    vehicle = domain.Vehicle("Lada", "m", "t", Decimal("1000.00"), Decimal("0"))
    result = domain.quote(vehicle, [], [discount(kind=domain.FIXED, value="5000")], NOW)
    assert result.total == Decimal("0.00") and result.discount_total == Decimal("1000.00")


money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
discounts = st.builds(
    discount,
    id=st.text("abcdef", min_size=1, max_size=3),
    kind=st.sampled_from([domain.PERCENTAGE, domain.FIXED]),
    value=st.decimals(min_value="0.01", max_value=100, places=2).map(str),
    stackable=st.booleans(),
)


@given(base=money, delta=money, option_prices=st.lists(money, max_size=4),
       candidates=st.lists(discounts, max_size=6))
def test_total_is_never_negative_nor_above_base_plus_trim_plus_options(base, delta, option_prices, candidates):
    vehicle = domain.Vehicle("Lada", "m", "t", base, delta)
    options = [domain.Option(f"o{i}", price) for i, price in enumerate(option_prices)]
    result = domain.quote(vehicle, options, candidates, NOW)
    assert Decimal("0") <= result.total <= base + delta + sum(option_prices, Decimal("0"))
    assert result.total == result.subtotal - result.discount_total
    assert result.total == result.total.quantize(domain.KOPECK)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "bogus"}, "discount.kind"),
        ({"value": "0"}, "discount.value"),
        ({"value": "150"}, "discount.value"),
        ({"kind": domain.FIXED, "value": "-5"}, "discount.value"),
        ({"automatic": False, "code": ""}, "discount.code"),
        ({"automatic": True, "code": "WINTER"}, "discount.code"),
        ({"automatic": False, "code": "bad code!"}, "discount.code"),
        ({"valid_from": NOW, "valid_until": NOW}, "discount.valid_until"),
    ],
)
def test_discount_validation(change, field):
    with pytest.raises(errors.InvalidArgument) as error:
        domain.validate_discount(discount(**change))
    assert field in {name for name, _ in error.value.violations}


def test_codes_are_case_insensitive():
    checked = domain.validate_discount(discount(automatic=False, code=" winter-25 "))
    assert checked.code == "WINTER-25"


def test_updates_change_only_masked_editable_fields():
    current = domain.validate_discount(discount(automatic=False, code="WINTER"))
    changes = discount(value="15", automatic=True, code="", kind=domain.FIXED)
    updated = domain.merge_update(current, changes, ["value"])
    assert (updated.value, updated.kind, updated.code) == (Decimal("15"), domain.PERCENTAGE, "WINTER")
    for mask in ([], ["code"], ["kind"], ["automatic"]):
        with pytest.raises(errors.InvalidArgument):
            domain.merge_update(current, changes, mask)
    with pytest.raises(errors.InvalidArgument):
        domain.merge_update(current, discount(value="150"), ["value"])


def test_a_vehicle_with_its_own_price_is_quoted_at_that_price():
    used = domain.Vehicle("Lada", "m-vesta", "t-comfort", Decimal("1359900.00"), Decimal("100000.00"),
                          own_price=Decimal("990000.00"))
    result = domain.quote(used, [domain.Option("mats", Decimal("5000.00"))], [discount(value="10")], NOW)
    assert [line.label for line in result.lines] == ["vehicle price", "option: mats", "discount: Offer d"]
    assert result.subtotal == Decimal("995000.00")
    assert result.total == Decimal("895500.00")


def test_options_are_priced_from_what_the_trim_offers():
    offered = [domain.Option("Winter tyres", Decimal("60000")), domain.Option("tow bar", Decimal("35000"))]
    assert domain.priced_options([" winter TYRES ", "tow bar"], offered) == offered
    assert domain.priced_options([], offered) == []
    with pytest.raises(errors.InvalidArgument) as refused:
        domain.priced_options(["gold plating", "tow bar", "Tow Bar", ""], offered)
    assert [field for field, _ in refused.value.violations] == ["options[0].name", "options[2].name", "options[3].name"]
    assert "it offers: Winter tyres, tow bar" in refused.value.violations[0][1]
