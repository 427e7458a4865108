"""insurance's pricing and policy rules: the reference's test vectors exactly, the tariff version in
force, every refusal with its field, and properties checked by hypothesis."""
import dataclasses
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.insurance import tariffs
from services.peers import insurance as numbers
from services.kit import errors

Driver = tariffs.Driver
LATEST = tariffs.OSAGO_TARIFFS[-1]
IN_2024, IN_2026 = date(2024, 6, 1), date(2026, 2, 1)


def refused_fields(call) -> set[str]:
    with pytest.raises(errors.InvalidArgument) as raised:
        call()
    return {field for field, _ in raised.value.violations}


def factors(tb, kt, kbm, kvs, ko, km, ks, kn, kpr="1") -> dict[str, Decimal]:
    values = (tb, kt, kbm, kvs, ko, km, ks, kn, kpr)
    return dict(zip(("TB", "KT", "KBM", "KVS", "KO", "KM", "KS", "KN", "KPr"), map(Decimal, values)))


def osago_request(**changes) -> tariffs.OsagoRequest:
    fields = dict(conclusion_date=IN_2024, vehicle_category="B", territory="moscow", base_rate=Decimal("7535"),
                  power_hp=Decimal("150"), drivers=(Driver(45, 20, "10"),))
    return tariffs.OsagoRequest(**{**fields, **changes})


def osago(versions=tariffs.OSAGO_TARIFFS, **changes) -> tariffs.OsagoQuote:
    return tariffs.quote_osago(osago_request(**changes), versions)


# OSAGO (§1.8, §5)

@pytest.mark.parametrize("coefficients, premium, unrounded, capped", [
    (factors(7535, "1.8", "0.63", "0.91", 1, "1.4", 1, 1), "10885.94", "10885.93506", False),  # O1
    (factors(8665, "1.64", "1.17", "2.27", 1, "1.2", 1, 1), "42631.80", "45290.319048", True),  # O2
    (factors(6000, "1.48", "0.83", 1, "2.32", "1.1", "0.7", "1.5"), "19749.72", "19749.72384", False),  # O3
    (factors(1399, 1, "0.46", "0.83", 1, "0.6", "0.5", 1), "160.24", "160.24146", False),  # O4
    (factors(5000, "1.8", "3.92", "1.00", 1, "1.6", 1, 1), "27000.00", "56448", True),  # O5
    (factors(8665, "3.12", "1.00", "0.96", 1, "1.1", 1, 1), "28548.75", "28548.7488", False),  # O6
    (factors(8665, "1.8", "2.94", "1.88", 1, "1.6", 1, "1.5"), "77985.00", "206898.57216", True),  # O7, 5 × cap
    (factors(4000, 1, "1.17", "1.65", 1, "1.0", 1, 1), "7722.00", "7722", False),  # O8
])
def test_the_osago_formula_gives_each_test_vector(coefficients, premium, unrounded, capped):
    quote = tariffs.osago_premium(coefficients, LATEST)
    assert quote.premium == Decimal(premium) and str(quote.premium) == premium
    assert quote.unrounded == Decimal(unrounded)
    assert quote.capped == capped
    assert quote.factors == coefficients


@pytest.mark.parametrize("changes, version, used, premium, cap, capped", [
    # E1 (O1): Moscow, class 10, 45 years old with 15+ years, 150 hp.
    ({}, "osago-2022-09-13", factors(7535, "1.80", "0.63", "0.91", 1, "1.4", 1, 1), "10885.94", "40689.00", False),
    # E2 (O2): St Petersburg, a new driver of 20, 110 hp, the 2025 corridor's top.
    (dict(conclusion_date=IN_2026, territory="saint_petersburg", base_rate=Decimal("8665"), power_hp=Decimal("110"),
          drivers=(Driver(20, 0, "3"),)),
     "osago-2025-12-09", factors(8665, "1.64", "1.17", "2.27", 1, "1.2", 1, 1), "42631.80", "42631.80", True),
    # E3 (O3): Tomsk (old KT), unlimited, the owner in class 6, 90 hp, 6 months, KN: no KVS, a 5 × cap.
    (dict(territory="tomsk", base_rate=Decimal("6000"), power_hp=Decimal("90"), drivers=(), unlimited_drivers=True,
          owner_kbm_class="6", months_of_use=6, gross_breach=True),
     "osago-2022-09-13", factors(6000, "1.48", "0.83", 1, "2.32", "1.1", "0.7", "1.5"), "19749.72", "44400.00", False),
    # O5: class M, 37 years old with 4 years, 200 hp.
    (dict(base_rate=Decimal("5000"), power_hp=Decimal("200"), drivers=(Driver(37, 4, "M"),)),
     "osago-2022-09-13", factors(5000, "1.8", "3.92", "1.00", 1, "1.6", 1, 1), "27000.00", "27000.00", True),
    # O6: Novosibirsk from 09.12.2025 (the press's 3.12), class 4, 45 with 3 years, 100 hp.
    (dict(conclusion_date=IN_2026, territory="novosibirsk", base_rate=Decimal("8665"), power_hp=Decimal("100"),
          drivers=(Driver(45, 3, "4"),)),
     "osago-2025-12-09", factors(8665, "3.12", "1.00", "0.96", 1, "1.1", 1, 1), "28548.75", "81104.40", False),
    # O7: class 0, 23 with no experience, 151 hp, KN.
    (dict(conclusion_date=IN_2026, base_rate=Decimal("8665"), power_hp=Decimal("151"), drivers=(Driver(23, 0, "0"),),
          gross_breach=True),
     "osago-2025-12-09", factors(8665, "1.8", "2.94", "1.88", 1, "1.6", 1, "1.5"), "77985.00", "77985.00", True),
])
def test_an_osago_quote_prices_the_worked_examples_and_shows_every_factor(changes, version, used, premium, cap, capped):
    quote = osago(**changes)
    assert quote.tariff_version == version
    assert quote.factors == used
    assert list(quote.factors) == ["TB", "KT", "KBM", "KVS", "KO", "KM", "KS", "KN", "KPr"]
    assert (quote.premium, quote.cap, quote.capped) == (Decimal(premium), Decimal(cap), capped)


def test_the_reference_lookup_checks():
    assert osago(drivers=(Driver(21, 5),)).factors["KVS"] == Decimal("1.62")
    assert refused_fields(lambda: osago(drivers=(Driver(21, 7),))) == {"drivers[0].experience_years"}
    assert osago(power_hp=Decimal("150")).factors["KM"] == Decimal("1.4")
    assert osago(power_hp=Decimal("151")).factors["KM"] == Decimal("1.6")
    assert tariffs.next_kbm_class("3", 1) == "1"
    assert LATEST.bonus_malus["1"] == Decimal("2.25")


def test_a_version_may_know_no_kvs_where_the_age_rule_allows_one():
    row = LATEST.age_experience[22]
    gap = dataclasses.replace(LATEST, age_experience={**LATEST.age_experience, 22: (*row[:4], None, *row[5:])})
    assert refused_fields(lambda: osago([gap], conclusion_date=IN_2026, drivers=(Driver(24, 5),))) == {
        "drivers[0].experience_years"}


@pytest.mark.parametrize("hp, km", [("50", "0.6"), ("50.5", "1.0"), ("70", "1.0"), ("100", "1.1"), ("120", "1.2"),
                                    ("120.01", "1.4"), ("400", "1.6")])
def test_each_power_band_includes_its_upper_bound(hp, km):
    assert osago(power_hp=Decimal(hp)).factors["KM"] == Decimal(km)


def test_kilowatts_become_horsepower():
    assert tariffs.horsepower(Decimal("110")) == Decimal("149.60")


@pytest.mark.parametrize("current, payouts, after", [
    ("M", 0, "0"), ("3", 0, "4"), ("13", 0, "13"), ("13", 1, "7"), ("9", 3, "1"), ("12", 4, "M"), ("12", 9, "M"),
])
def test_the_bonus_malus_class_moves_by_the_matrix(current, payouts, after):
    assert tariffs.next_kbm_class(current, payouts) == after


def test_a_named_list_takes_its_worst_kbm_and_its_worst_kvs():
    quote = osago(drivers=(Driver(45, 20, "M"), Driver(20, 1, "13")))
    assert (quote.factors["KBM"], quote.factors["KVS"], quote.factors["KO"]) == (
        Decimal("3.92"), Decimal("1.92"), Decimal("1.00"))


def test_a_policy_for_any_driver_of_a_company():
    quote = osago(drivers=(), unlimited_drivers=True, owner=tariffs.LEGAL_ENTITY, base_rate=Decimal("5000"))
    assert (quote.factors["KO"], quote.factors["KVS"], quote.factors["KBM"]) == (
        Decimal("1.97"), Decimal("1"), Decimal("1.17"))


def test_a_trailer_factor_applies_only_where_a_version_sets_one():
    assert osago(with_trailer=True).factors["KPr"] == Decimal("1")
    with_trailer = dataclasses.replace(LATEST, trailer=Decimal("1.16"))
    quote = osago([with_trailer], conclusion_date=IN_2026, with_trailer=True)
    assert quote.factors["KPr"] == Decimal("1.16")
    assert quote.premium == Decimal("12627.68")  # 10 885.93506 × 1.16, rounded once


def test_a_quote_uses_the_tariff_in_force_on_its_conclusion_date():
    later = dataclasses.replace(LATEST, id="osago-2027-01-01", effective_from=date(2027, 1, 1),
                                territory={**LATEST.territory, "moscow": Decimal("2.00")})
    versions = [later, *tariffs.OSAGO_TARIFFS]  # in any order
    day_before = osago(versions, conclusion_date=date(2026, 12, 31))
    on_the_day = osago(versions, conclusion_date=date(2027, 1, 1))
    assert (day_before.tariff_version, day_before.factors["KT"], day_before.premium) == (
        "osago-2025-12-09", Decimal("1.80"), Decimal("10885.94"))
    assert (on_the_day.tariff_version, on_the_day.factors["KT"], on_the_day.premium) == (
        "osago-2027-01-01", Decimal("2.00"), Decimal("12095.48"))
    assert osago(versions, conclusion_date=date(2025, 12, 8)).tariff_version == "osago-2022-09-13"
    assert tariffs.tariff_in_force(versions, date(2025, 12, 9)) is LATEST


def test_no_tariff_before_the_first_version():
    with pytest.raises(errors.InvalidArgument) as raised:
        osago(conclusion_date=date(2022, 9, 12))
    assert raised.value.violations == [
        ("conclusion_date", "no OSAGO tariff is in force on 2022-09-12; the earliest takes effect 2022-09-13")]


@pytest.mark.parametrize("changes, fields", [
    (dict(vehicle_category="C"), {"vehicle_category"}),
    (dict(owner="company"), {"owner"}),
    (dict(conclusion_date=IN_2026, owner=tariffs.LEGAL_ENTITY, base_rate=Decimal("5000")), {"vehicle_category"}),
    (dict(base_rate=Decimal("7536")), {"base_rate"}),
    (dict(conclusion_date=IN_2026, base_rate=Decimal("1398")), {"base_rate"}),
    (dict(base_rate=Decimal("-1")), {"base_rate"}),
    (dict(base_rate=Decimal("2000.001")), {"base_rate"}),
    (dict(territory="atlantis"), {"territory"}),
    (dict(conclusion_date=IN_2026, territory="tomsk"), {"territory"}),
    (dict(power_hp=Decimal("0")), {"power_hp"}),
    (dict(months_of_use=2), {"months_of_use"}),
    (dict(months_of_use=13), {"months_of_use"}),
    (dict(drivers=(Driver(17, 0),)), {"drivers[0].age"}),
    (dict(drivers=(Driver(45, 20), Driver(30, 15))), {"drivers[1].experience_years"}),
    (dict(drivers=(Driver(30, -1),)), {"drivers[0].experience_years"}),
    (dict(drivers=(Driver(45, 20, "14"),)), {"drivers[0].kbm_class"}),
    (dict(drivers=()), {"drivers"}),
    (dict(unlimited_drivers=True), {"drivers"}),
    (dict(drivers=(), unlimited_drivers=True, owner_kbm_class="X"), {"owner_kbm_class"}),
    (dict(territory="atlantis", power_hp=Decimal("-5"), drivers=(Driver(16, 0),)),
     {"territory", "power_hp", "drivers[0].age"}),
])
def test_bad_osago_input_is_refused_with_its_fields(changes, fields):
    assert refused_fields(lambda: osago(**changes)) == fields


def test_bad_bonus_malus_input_is_refused():
    assert refused_fields(lambda: tariffs.next_kbm_class("14", -1)) == {"kbm_class", "at_fault_payouts"}


# KASKO (§2)

def kasko(**changes) -> tariffs.KaskoQuote:
    fields = dict(vehicle_value=Decimal("3000000"), vehicle_age_years=0, anti_theft="gps_tracker", region="moscow",
                  drivers=(Driver(40, 20),), deductible=Decimal("30000"))
    return tariffs.quote_kasko(tariffs.KaskoRequest(**{**fields, **changes}))


def test_kasko_example_k1():
    quote = kasko()
    assert quote.premium == Decimal("113578.20") and str(quote.premium) == "113578.20"
    assert quote.sum_insured == Decimal("3000000")
    assert quote.factors == {"BaseRate": Decimal("0.045"), "K_driver": Decimal("1.00"), "K_deductible": Decimal("0.82"),
                             "K_antitheft": Decimal("0.90"), "K_region": Decimal("1.20"), "K_claims": Decimal("0.95")}
    assert quote.tariff == "kasko-illustrative-2026"


def test_kasko_example_k2():
    quote = kasko(vehicle_value=Decimal("1800000"), vehicle_age_years=3, anti_theft="alarm", region="other",
                  drivers=(Driver(22, 2),), deductible=Decimal("0"), claims_last_year=1)
    assert quote.premium == Decimal("152460.00") and str(quote.premium) == "152460.00"
    assert quote.factors == {"BaseRate": Decimal("0.055"), "K_driver": Decimal("1.40"), "K_deductible": Decimal("1.00"),
                             "K_antitheft": Decimal("1.00"), "K_region": Decimal("1.00"), "K_claims": Decimal("1.10")}


@pytest.mark.parametrize("age, make_group, rate", [
    (0, tariffs.MASS_MARKET, "0.045"), (1, tariffs.MASS_MARKET, "0.045"), (2, tariffs.MASS_MARKET, "0.055"),
    (4, tariffs.MASS_MARKET, "0.065"), (7, tariffs.MASS_MARKET, "0.065"),
    (1, tariffs.PREMIUM_MAKE, "0.060"), (3, tariffs.PREMIUM_MAKE, "0.070"), (7, tariffs.PREMIUM_MAKE, "0.080"),
])
def test_the_kasko_base_rate_by_age_and_make(age, make_group, rate):
    assert kasko(vehicle_age_years=age, make_group=make_group).factors["BaseRate"] == Decimal(rate)


@pytest.mark.parametrize("drivers, unlimited, factor", [
    ((Driver(22, 4),), False, "1.40"), ((Driver(35, 2),), False, "1.40"), ((Driver(23, 3),), False, "1.10"),
    ((Driver(29, 13),), False, "1.10"), ((Driver(30, 5),), False, "1.00"), ((Driver(59, 40),), False, "1.00"),
    ((Driver(45, 4),), False, "1.10"), ((Driver(60, 40),), False, "1.10"),
    ((Driver(40, 20), Driver(19, 1)), False, "1.40"), ((), True, "1.30"),
])
def test_the_kasko_driver_factor_is_the_riskiest_drivers(drivers, unlimited, factor):
    assert kasko(drivers=drivers, unlimited_drivers=unlimited).factors["K_driver"] == Decimal(factor)


@pytest.mark.parametrize("deductible, factor", [
    ("0", "1.00"), ("14999.99", "1.00"), ("15000", "0.90"), ("20000", "0.90"), ("50000", "0.75"), ("250000", "0.65"),
])
def test_a_deductible_between_steps_takes_the_step_below(deductible, factor):
    assert kasko(deductible=Decimal(deductible)).factors["K_deductible"] == Decimal(factor)


@pytest.mark.parametrize("changes, fields", [
    (dict(vehicle_value=Decimal("-1")), {"vehicle_value"}),
    (dict(vehicle_value=Decimal("0"), deductible=Decimal("0")), {"vehicle_value"}),
    (dict(vehicle_age_years=8), {"vehicle_age_years"}),
    (dict(vehicle_age_years=-1), {"vehicle_age_years"}),
    (dict(make_group="exotic"), {"make_group"}),
    (dict(deductible=Decimal("3000000")), {"deductible"}),
    (dict(deductible=Decimal("-100")), {"deductible"}),
    (dict(anti_theft="dog"), {"anti_theft"}),
    (dict(region="mars"), {"region"}),
    (dict(claims_last_year=3), {"claims_last_year"}),
    (dict(claims_last_year=-1), {"claims_last_year"}),
    (dict(drivers=(Driver(17, 1),)), {"drivers[0].age"}),
    (dict(drivers=(Driver(30, 15),)), {"drivers[0].experience_years"}),
    (dict(drivers=()), {"drivers"}),
])
def test_bad_kasko_input_is_refused_with_its_fields(changes, fields):
    assert refused_fields(lambda: kasko(**changes)) == fields


def test_an_old_car_or_a_claims_record_is_referred_to_an_underwriter():
    with pytest.raises(errors.InvalidArgument) as raised:
        kasko(vehicle_age_years=8, claims_last_year=3)
    assert raised.value.violations == [("vehicle_age_years", "over 7 years: refer to an underwriter"),
                                       ("claims_last_year", "3 or more: refer to an underwriter")]


# Life and health with a car loan (§4)

def test_loan_cover_is_the_loan_times_the_annual_rate_times_the_years():
    life = tariffs.quote_loan_cover(tariffs.LIFE, Decimal("1000000"), 36)
    assert (life.sum_insured, life.annual_rate, life.term_months, life.premium) == (
        Decimal("1000000"), Decimal("0.010"), 36, Decimal("30000.00"))
    assert tariffs.quote_loan_cover(tariffs.HEALTH, Decimal("1000000"), 7).premium == Decimal("2916.67")
    rates = tariffs.LoanCoverRates(life=Decimal("0.003"))
    assert tariffs.quote_loan_cover(tariffs.LIFE, Decimal("1234567.89"), 60, rates).premium == Decimal("18518.52")


def test_bad_loan_cover_input_is_refused_with_its_fields():
    assert refused_fields(lambda: tariffs.quote_loan_cover("pet", Decimal("0"), 0)) == {
        "product", "loan_amount", "term_months"}


# Claims (§3)

KASKO_COVER = tariffs.Cover(sum_insured=Decimal("3000000"), deductible=Decimal("30000"))


@pytest.mark.parametrize("cover, loss, before, approved", [
    (KASKO_COVER, "120000", "0", "90000.00"),  # C1
    (KASKO_COVER, "20000", "0", "0.00"),  # C2
    (tariffs.Cover(Decimal("3000000"), Decimal("10000"), tariffs.CONDITIONAL), "25000", "0", "25000.00"),  # C3
    (tariffs.Cover(Decimal("3000000"), Decimal("15000")), "80000", "2950000", "35000.00"),  # C4: 50 000 left
    (tariffs.Cover(Decimal("3000000"), Decimal("10000"), tariffs.CONDITIONAL), "10000", "0", "0"),
    (tariffs.Cover(Decimal("100000"), Decimal("10000"), tariffs.CONDITIONAL), "200000", "0", "90000"),
    (tariffs.Cover(Decimal("100000"), Decimal("10000"), tariffs.CONDITIONAL), "200000", "95000", "5000"),
])
def test_claim_vectors(cover, loss, before, approved):
    assert tariffs.approved_amount(cover, Decimal(loss), Decimal(before)) == Decimal(approved)


def test_osago_limits_are_per_victim_and_event_with_no_deductible():
    property_cover = tariffs.osago_cover("property")
    assert tariffs.approved_amount(property_cover, Decimal("450000"), Decimal("400000")) == Decimal("400000")
    assert tariffs.approved_amount(tariffs.osago_cover("life_health"), Decimal("700000")) == Decimal("500000")
    assert refused_fields(lambda: tariffs.osago_cover("pride")) == {"harm"}


@pytest.mark.parametrize("cover, loss, fields", [
    (tariffs.Cover(Decimal("0")), "1", {"sum_insured"}),
    (tariffs.Cover(Decimal("100000"), Decimal("100000")), "1", {"deductible"}),
    (tariffs.Cover(Decimal("100000"), Decimal("-1")), "1", {"deductible"}),
    (tariffs.Cover(Decimal("100000"), deductible_kind="partial"), "1", {"deductible_kind"}),
    (KASKO_COVER, "-5", {"claimed_amount"}),
    (KASKO_COVER, "5.005", {"claimed_amount"}),
])
def test_bad_claim_input_is_refused_with_its_fields(cover, loss, fields):
    assert refused_fields(lambda: tariffs.approved_amount(cover, Decimal(loss))) == fields


YEAR_2026 = tariffs.PolicyPeriod(date(2026, 1, 1), date(2026, 12, 31))


def test_an_incident_falls_inside_the_policy_period():
    tariffs.check_incident_date(YEAR_2026, date(2026, 1, 1))
    tariffs.check_incident_date(YEAR_2026, date(2026, 12, 31))
    with pytest.raises(errors.InvalidArgument) as raised:
        tariffs.check_incident_date(YEAR_2026, date(2027, 1, 1))
    assert raised.value.violations == [
        ("incident_date", "2027-01-01 is outside the policy period 2026-01-01 to 2026-12-31")]
    assert refused_fields(lambda: tariffs.check_incident_date(YEAR_2026, date(2025, 12, 31))) == {"incident_date"}


# Refunds (§3, §4)

def refund(cancelled_on, rules, premium="10885.94", concluded_on=date(2025, 12, 20), insured_event=False):
    return tariffs.cancellation_refund(Decimal(premium), YEAR_2026, concluded_on, cancelled_on, rules, insured_event)


def test_osago_early_termination_refunds_the_unexpired_days_r1():
    result = refund(date(2026, 6, 15), tariffs.OSAGO_EARLY_TERMINATION)  # 200 of 365 days left
    assert (result.amount, result.unexpired_days, result.term_days, result.cooling_off) == (
        Decimal("5964.90"), 200, 365, False)
    assert refund(date(2026, 6, 15), tariffs.OSAGO_EARLY_TERMINATION, insured_event=True).amount == Decimal("5964.90")
    with_retention = dataclasses.replace(tariffs.OSAGO_EARLY_TERMINATION, retention=Decimal("0.23"))
    assert refund(date(2026, 6, 15), with_retention).amount == Decimal("4592.97")


def test_voluntary_cover_refunds_in_full_within_the_cooling_off_period_only():
    concluded = date(2025, 12, 25)
    before_start = refund(date(2025, 12, 30), tariffs.KASKO_REFUSAL, concluded_on=concluded)
    assert (before_start.amount, before_start.cooling_off) == (Decimal("10885.94"), True)
    elapsed = refund(date(2026, 1, 8), tariffs.KASKO_REFUSAL, concluded_on=concluded)  # the 14th day, 7 days used
    assert (elapsed.amount, elapsed.unexpired_days) == (Decimal("10677.17"), 358)
    assert refund(date(2026, 1, 9), tariffs.KASKO_REFUSAL, concluded_on=concluded).amount == Decimal("0.00")
    assert refund(date(2025, 12, 30), tariffs.KASKO_REFUSAL, concluded_on=concluded, insured_event=True).amount == 0


def test_loan_cover_refunds_after_early_repayment_but_not_on_a_late_refusal():
    concluded = date(2025, 12, 31)
    assert refund(date(2026, 1, 30), tariffs.LOAN_COVER_REFUSAL, "36000.00", concluded).amount == Decimal("33139.73")
    assert refund(date(2026, 1, 31), tariffs.LOAN_COVER_REFUSAL, "36000.00", concluded).amount == Decimal("0.00")
    repaid = refund(date(2026, 7, 1), tariffs.LOAN_COVER_EARLY_REPAYMENT, "36000.00", concluded)
    assert (repaid.amount, repaid.unexpired_days) == (Decimal("18147.95"), 184)
    assert refund(date(2026, 7, 1), tariffs.LOAN_COVER_EARLY_REPAYMENT, "36000.00", concluded, True).amount == 0


def test_nothing_is_left_to_refund_after_the_period():
    assert refund(date(2027, 1, 1), tariffs.OSAGO_EARLY_TERMINATION).amount == Decimal("0.00")


def test_bad_refund_input_is_refused_with_its_fields():
    backwards = tariffs.PolicyPeriod(date(2026, 2, 1), date(2026, 1, 1))
    assert refused_fields(lambda: tariffs.cancellation_refund(
        Decimal("-1"), backwards, date(2026, 1, 10), date(2026, 1, 9), tariffs.KASKO_REFUSAL)) == {
        "premium", "ends_on", "cancelled_on"}


# Numbers (§3)

def test_osago_numbers_are_a_series_and_ten_digits():
    assert numbers.osago_policy_number(42) == "ХХХ0000000042"
    assert numbers.osago_policy_number(9_999_999_999) == "ХХХ9999999999"
    # Latin look-alikes, lower case and a space are how people type it.
    assert numbers.normalize_osago_policy_number("xxx 0123456789") == "ХХХ0123456789"
    assert numbers.normalize_osago_policy_number("ттт0123456789") == "ТТТ0123456789"
    for typed in ("ХХХ012345678", "ЖЖЖ0123456789", "ХХ0123456789", "ХХХ012345678９"):
        assert refused_fields(lambda: numbers.normalize_osago_policy_number(typed)) == {"policy_number"}
    with pytest.raises(errors.InvalidArgument) as raised:
        numbers.normalize_osago_policy_number("ААА0123456789")
    assert raised.value.violations == [
        ("policy_number", "series ААА is not in use; it is one of РРР, ННН, ХХХ, ТТТ, ААВ, ААМ, ААК")]
    with pytest.raises(ValueError):
        numbers.osago_policy_number(10 ** 10)


def test_other_policies_and_claims_are_numbered_by_product_year_and_sequence():
    assert numbers.policy_number(tariffs.KASKO, 2026, 42) == "KASKO-2026-00000042"
    assert numbers.policy_number(tariffs.LIFE, 2026, 1) == "LIFE-2026-00000001"
    assert numbers.policy_number(tariffs.HEALTH, 2027, 99_999_999) == "HEALTH-2027-99999999"
    assert numbers.claim_number(2026, 7) == "CLM-2026-00000007"
    for bad in (lambda: numbers.policy_number(tariffs.OSAGO, 2026, 1), lambda: numbers.claim_number(2026, 0),
                lambda: numbers.policy_number(tariffs.KASKO, 2026, 10 ** 8)):
        with pytest.raises(ValueError):
            bad()


# Properties

money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def drivers(draw) -> Driver:
    age = draw(st.integers(tariffs.MIN_DRIVER_AGE, 95))
    return Driver(age, draw(st.integers(0, age - tariffs.FIRST_LICENCE_AGE)),
                  draw(st.sampled_from(sorted(LATEST.bonus_malus))))


@st.composite
def osago_requests(draw) -> tariffs.OsagoRequest:
    tariff = draw(st.sampled_from(tariffs.OSAGO_TARIFFS))
    low, high = tariff.base_rates[("B", "individual")]
    unlimited = draw(st.booleans())
    return tariffs.OsagoRequest(
        conclusion_date=tariff.effective_from + timedelta(days=draw(st.integers(0, 365))),
        vehicle_category="B", territory=draw(st.sampled_from(sorted(tariff.territory))),
        base_rate=draw(st.decimals(min_value=low, max_value=high, places=2)),
        power_hp=draw(st.decimals(min_value="0.1", max_value=1000, places=1)),
        drivers=() if unlimited else tuple(draw(st.lists(drivers(), min_size=1, max_size=4))),
        unlimited_drivers=unlimited, owner_kbm_class=draw(st.sampled_from(sorted(LATEST.bonus_malus))),
        months_of_use=draw(st.integers(3, 12)), gross_breach=draw(st.booleans()), with_trailer=draw(st.booleans()),
    )


@given(osago_requests())
def test_an_osago_premium_is_never_negative_nor_above_its_cap(request):
    quote = tariffs.quote_osago(request)
    assert Decimal(0) < quote.premium <= quote.cap
    assert quote.premium == min(quote.unrounded, quote.cap).quantize(tariffs.KOPECK, rounding=ROUND_HALF_UP)
    multiplier = 5 if request.gross_breach else 3
    cap = multiplier * quote.factors["TB"] * quote.factors["KT"]
    assert quote.cap == cap.quantize(tariffs.KOPECK, rounding=ROUND_HALF_UP)


@given(value=st.decimals(min_value=100_000, max_value=50_000_000, places=2), age=st.integers(0, 7),
       make_group=st.sampled_from([tariffs.MASS_MARKET, tariffs.PREMIUM_MAKE]),
       listed=st.lists(drivers(), max_size=3), anti_theft=st.sampled_from(["none", "alarm", "gps_tracker"]),
       region=st.sampled_from(["moscow", "saint_petersburg", "million_city", "other"]),
       deductible=st.decimals(min_value=0, max_value=99_999, places=2), claims=st.integers(0, 2))
def test_a_kasko_premium_is_positive_and_below_the_value(value, age, make_group, listed, anti_theft, region,
                                                         deductible, claims):
    quote = tariffs.quote_kasko(tariffs.KaskoRequest(
        vehicle_value=value, vehicle_age_years=age, anti_theft=anti_theft, region=region, drivers=tuple(listed),
        unlimited_drivers=not listed, make_group=make_group, deductible=deductible, claims_last_year=claims))
    assert Decimal(0) < quote.premium < value


@given(sum_insured=st.decimals(min_value=1, max_value=5_000_000, places=2), deductible_percent=st.integers(0, 99),
       kind=st.sampled_from([tariffs.UNCONDITIONAL, tariffs.CONDITIONAL]), losses=st.lists(money, max_size=12))
def test_approved_claims_never_exceed_the_cover(sum_insured, deductible_percent, kind, losses):
    deductible = (sum_insured * deductible_percent / 100).quantize(tariffs.KOPECK, rounding=ROUND_DOWN)
    cover = tariffs.Cover(sum_insured, deductible, kind)
    total = Decimal(0)
    for loss in losses:
        approved = tariffs.approved_amount(cover, loss, total)
        assert Decimal(0) <= approved <= min(loss, cover.sum_insured - cover.deductible)
        total += approved
        assert total <= cover.sum_insured


refund_rules = st.one_of(
    st.sampled_from([tariffs.OSAGO_EARLY_TERMINATION, tariffs.KASKO_REFUSAL, tariffs.LOAN_COVER_REFUSAL,
                     tariffs.LOAN_COVER_EARLY_REPAYMENT]),
    st.builds(tariffs.RefundRules, cooling_off_days=st.integers(0, 30),
              retention=st.decimals(min_value=0, max_value=1, places=2), refund_after_insured_event=st.booleans()),
)


@given(premium=money, concluded=st.dates(date(2024, 1, 1), date(2027, 1, 1)), starts_after=st.integers(0, 60),
       term=st.integers(1, 400), first=st.integers(0, 500), later_by=st.integers(0, 500), rules=refund_rules,
       insured_event=st.booleans())
def test_refunds_stay_within_the_premium_and_shrink_as_cancellation_moves_later(
        premium, concluded, starts_after, term, first, later_by, rules, insured_event):
    starts_on = concluded + timedelta(days=starts_after)
    period = tariffs.PolicyPeriod(starts_on, starts_on + timedelta(days=term - 1))
    earlier, later = (tariffs.cancellation_refund(premium, period, concluded, concluded + timedelta(days=offset),
                                                  rules, insured_event)
                      for offset in (first, first + later_by))
    assert Decimal(0) <= later.amount <= earlier.amount <= premium


@given(st.integers(1, 10 ** 10 - 1))
def test_an_issued_osago_number_reads_back_as_itself(sequence):
    number = numbers.osago_policy_number(sequence)
    assert numbers.normalize_osago_policy_number(f"{number[:3]} {number[3:]}") == number


def test_a_version_held_back_is_not_priced_with_whatever_its_date():
    assert tariffs.versions_up_to("") == tariffs.OSAGO_TARIFFS
    held_back = tariffs.versions_up_to("osago-2022-09-13")
    assert [version.id for version in held_back] == ["osago-2022-09-13"]
    assert osago(held_back, conclusion_date=IN_2026, base_rate=Decimal("7535")).tariff_version == "osago-2022-09-13"
    assert osago(conclusion_date=IN_2026, base_rate=Decimal("7535")).tariff_version == "osago-2025-12-09"
