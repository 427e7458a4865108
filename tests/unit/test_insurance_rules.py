"""insurance's policy and claim rules (services/insurance/domain.py): their status machines, a
policy's period, its cover and what a claim may be approved for, an incident's date, and texts.
The tariffs themselves and the insurer's numbers are tested in test_insurance_tariffs.py."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.insurance import domain, tariffs
from services.kit.errors import FailedPrecondition, InvalidArgument
from services.kit.texts import check_text

TODAY = datetime.date(2026, 12, 2)
KASKO_COVER = domain.cover(tariffs.KASKO, Decimal("3000000.00"), Decimal("30000.00"))
YEAR_FROM_TODAY = tariffs.PolicyPeriod(TODAY, datetime.date(2027, 12, 1))


def _fields(error: InvalidArgument) -> list[str]:
    return [field for field, _ in error.violations]


# The status machines.

POLICY_LEGAL = [(current, wanted) for current, targets in domain.POLICY_MOVES.items() for wanted in targets]
CLAIM_LEGAL = [(current, wanted) for current, targets in domain.CLAIM_MOVES.items() for wanted in targets]


def test_the_policy_moves_are_the_documented_ones():
    assert sorted(POLICY_LEGAL) == sorted([
        (domain.DRAFT, domain.QUOTED),
        (domain.QUOTED, domain.PURCHASED), (domain.QUOTED, domain.CANCELLED),
        (domain.PURCHASED, domain.ACTIVE), (domain.PURCHASED, domain.CANCELLED),
        (domain.ACTIVE, domain.EXPIRED), (domain.ACTIVE, domain.CANCELLED), (domain.ACTIVE, domain.CLAIMED),
    ])
    ends = {status for status, targets in domain.POLICY_MOVES.items() if not targets}
    assert ends == {domain.EXPIRED, domain.CANCELLED, domain.CLAIMED}


def test_the_claim_moves_are_the_documented_ones():
    assert sorted(CLAIM_LEGAL) == sorted([
        (domain.SUBMITTED, domain.UNDER_REVIEW),
        (domain.UNDER_REVIEW, domain.APPROVED), (domain.UNDER_REVIEW, domain.REJECTED),
        (domain.APPROVED, domain.PAID),
    ])
    ends = {status for status, targets in domain.CLAIM_MOVES.items() if not targets}
    assert ends == {domain.REJECTED, domain.PAID}


@pytest.mark.parametrize("current, wanted", POLICY_LEGAL)
def test_every_allowed_policy_move_passes(current, wanted):
    domain.check_policy_move(current, wanted)


@pytest.mark.parametrize("current, wanted", CLAIM_LEGAL)
def test_every_allowed_claim_move_passes(current, wanted):
    domain.check_claim_move(current, wanted)


@given(st.sampled_from(list(domain.POLICY_MOVES)), st.sampled_from(list(domain.POLICY_MOVES)))
def test_only_the_documented_policy_moves_are_allowed(current, wanted):
    if (current, wanted) in POLICY_LEGAL:
        domain.check_policy_move(current, wanted)
    else:
        with pytest.raises(FailedPrecondition, match=f"^the policy is {current}; it cannot become {wanted}$"):
            domain.check_policy_move(current, wanted)


@given(st.sampled_from(list(domain.CLAIM_MOVES)), st.sampled_from(list(domain.CLAIM_MOVES)))
def test_only_the_documented_claim_moves_are_allowed(current, wanted):
    if (current, wanted) in CLAIM_LEGAL:
        domain.check_claim_move(current, wanted)
    else:
        with pytest.raises(FailedPrecondition, match=f"^the claim is {current}; it cannot become {wanted}$"):
            domain.check_claim_move(current, wanted)


@pytest.mark.parametrize("current", [domain.EXPIRED, domain.CANCELLED, domain.CLAIMED, domain.DRAFT])
def test_a_policy_is_cancelled_only_while_quoted_purchased_or_active(current):
    with pytest.raises(FailedPrecondition):
        domain.check_policy_move(current, domain.CANCELLED)


# A policy's period.

@pytest.mark.parametrize("product", [tariffs.OSAGO, tariffs.KASKO])
def test_a_policy_runs_a_year_less_a_day(product):
    period = domain.period(product, TODAY, TODAY)
    assert period == tariffs.PolicyPeriod(TODAY, datetime.date(2027, 12, 1))
    assert period.days == 365


def test_a_year_from_the_thirty_first_of_january_ends_on_the_thirtieth():
    starts_on = datetime.date(2027, 1, 31)
    period = domain.period(tariffs.KASKO, starts_on, datetime.date(2027, 1, 1))
    assert period.ends_on == datetime.date(2028, 1, 30)


def test_a_year_from_a_leap_day_ends_the_day_before_the_last_of_february():
    """The anniversary of 29 February is 28 February (the month's last day), the day before it
    the last covered: 365 days, as any year."""
    starts_on = datetime.date(2028, 2, 29)
    period = domain.period(tariffs.OSAGO, starts_on, datetime.date(2028, 2, 1))
    assert period.ends_on == datetime.date(2029, 2, 27)
    assert period.days == 365


def test_a_year_over_a_leap_day_covers_it():
    period = domain.period(tariffs.KASKO, datetime.date(2028, 1, 15), datetime.date(2028, 1, 1))
    assert period.ends_on == datetime.date(2029, 1, 14)
    assert period.days == 366
    assert period.covers(datetime.date(2028, 2, 29))


@pytest.mark.parametrize("product, starts_on, months, ends_on", [
    (tariffs.LIFE, datetime.date(2026, 12, 2), 36, datetime.date(2029, 12, 1)),
    (tariffs.HEALTH, datetime.date(2026, 12, 2), 1, datetime.date(2027, 1, 1)),
    (tariffs.LIFE, datetime.date(2026, 12, 31), 2, datetime.date(2027, 2, 27)),
    (tariffs.HEALTH, datetime.date(2026, 12, 2), 84, datetime.date(2033, 12, 1)),
], ids=["life-36-months", "health-1-month", "life-2-months-from-the-31st", "health-84-months"])
def test_loan_cover_runs_for_the_loans_months_less_a_day(product, starts_on, months, ends_on):
    assert domain.period(product, starts_on, TODAY, loan_months=months) == tariffs.PolicyPeriod(starts_on, ends_on)


@pytest.mark.parametrize("product", [tariffs.OSAGO, tariffs.KASKO])
def test_a_loan_term_does_not_change_a_years_cover(product):
    assert domain.period(product, TODAY, TODAY, loan_months=36).ends_on == datetime.date(2027, 12, 1)


@pytest.mark.parametrize("days_ahead", [0, 1, 59, 60])
def test_a_policy_starts_from_today_up_to_sixty_days_ahead(days_ahead):
    starts_on = TODAY + datetime.timedelta(days=days_ahead)
    assert domain.period(tariffs.KASKO, starts_on, TODAY).starts_on == starts_on


@pytest.mark.parametrize("days_ahead", [-1, -365, 61, 400])
def test_a_start_in_the_past_or_beyond_sixty_days_is_refused_naming_policy_starts_on(days_ahead):
    with pytest.raises(InvalidArgument) as error:
        domain.period(tariffs.KASKO, TODAY + datetime.timedelta(days=days_ahead), TODAY)
    assert error.value.violations == [("policy.starts_on", "must be from 2026-12-02 to 2027-01-31")]


# Cover, approvals, used up.

@pytest.mark.parametrize("product, aggregate", [
    (tariffs.OSAGO, False), (tariffs.KASKO, True), (tariffs.LIFE, True), (tariffs.HEALTH, True)])
def test_the_cover_is_an_aggregate_except_osagos(product, aggregate):
    cover = domain.cover(product, Decimal("400000.00"), Decimal("0.00"))
    assert cover == tariffs.Cover(sum_insured=Decimal("400000.00"), deductible=Decimal("0.00"),
                                  deductible_kind=tariffs.UNCONDITIONAL, aggregate=aggregate)


def test_an_approval_with_no_amount_is_the_most_allowed():
    assert domain.approval(KASKO_COVER, Decimal("5000000.00"), Decimal("0.00"), None) == Decimal("2970000.00")
    assert domain.approval(KASKO_COVER, Decimal("100000.00"), Decimal("0.00"), None) == Decimal("70000.00")
    # What is left of the cover bounds it too (C4: 50,000 left of 3,000,000 less 15,000).
    cover = domain.cover(tariffs.KASKO, Decimal("3000000"), Decimal("15000"))
    assert domain.approval(cover, Decimal("80000"), Decimal("2950000"), None) == Decimal("35000")


def test_an_approval_up_to_the_most_allowed_is_as_asked():
    assert domain.approval(KASKO_COVER, Decimal("5000000"), Decimal("0"), Decimal("2970000.00")) == Decimal(
        "2970000.00")
    assert domain.approval(KASKO_COVER, Decimal("5000000"), Decimal("0"), Decimal("0.01")) == Decimal("0.01")


def test_an_approval_above_the_most_allowed_is_failed_precondition_naming_the_limit():
    with pytest.raises(FailedPrecondition) as error:
        domain.approval(KASKO_COVER, Decimal("5000000.00"), Decimal("0.00"), Decimal("2970000.01"))
    message = error.value.message
    assert message.startswith("at most 2970000.00 may be approved"), message
    assert "3000000.00" in message and "30000.00" in message


def test_an_approval_above_what_is_left_of_the_cover_is_failed_precondition_naming_it():
    cover = domain.cover(tariffs.KASKO, Decimal("3000000"), Decimal("15000"))
    with pytest.raises(FailedPrecondition, match="^at most 35000 may be approved"):
        domain.approval(cover, Decimal("80000"), Decimal("2950000"), Decimal("35000.01"))


@pytest.mark.parametrize("wanted", ["0", "0.00", "-1"])
def test_an_approval_of_nothing_or_less_is_invalid(wanted):
    with pytest.raises(InvalidArgument) as error:
        domain.approval(KASKO_COVER, Decimal("100000"), Decimal("0"), Decimal(wanted))
    assert _fields(error.value) == ["approved_amount.amount"]


def test_osagos_limit_is_per_event_whatever_was_approved_before():
    cover = domain.cover(tariffs.OSAGO, Decimal("400000.00"), Decimal("0.00"))
    assert domain.approval(cover, Decimal("450000"), Decimal("400000"), None) == Decimal("400000")
    assert not domain.used_up(cover, Decimal("4000000"))


def test_an_aggregate_cover_is_used_up_at_the_cover_less_the_deductible():
    assert not domain.used_up(KASKO_COVER, Decimal("0"))
    assert not domain.used_up(KASKO_COVER, Decimal("2969999.99"))
    assert domain.used_up(KASKO_COVER, Decimal("2970000.00"))
    assert domain.used_up(KASKO_COVER, Decimal("3000000.00"))
    life = domain.cover(tariffs.LIFE, Decimal("1600000"), Decimal("0"))
    assert not domain.used_up(life, Decimal("1599999.99"))
    assert domain.used_up(life, Decimal("1600000"))


# An incident's date.

@pytest.mark.parametrize("incident", [TODAY, datetime.date(2026, 12, 1)])
def test_an_incident_inside_the_period_and_not_after_today_passes(incident):
    period = tariffs.PolicyPeriod(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    domain.check_incident(period, incident, TODAY)


def test_an_incident_on_the_periods_first_and_last_day_passes():
    period = tariffs.PolicyPeriod(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    domain.check_incident(period, period.starts_on, TODAY)
    domain.check_incident(period, period.ends_on, TODAY)


def test_an_incident_in_the_future_is_refused_naming_claim_incident_date():
    with pytest.raises(InvalidArgument) as error:
        domain.check_incident(YEAR_FROM_TODAY, TODAY + datetime.timedelta(days=1), TODAY)
    assert error.value.violations == [("claim.incident_date", "must not be in the future")]


@pytest.mark.parametrize("incident", [datetime.date(2026, 12, 1), datetime.date(2024, 1, 1)])
def test_an_incident_before_the_period_is_refused_naming_claim_incident_date(incident):
    with pytest.raises(InvalidArgument) as error:
        domain.check_incident(YEAR_FROM_TODAY, incident, TODAY)
    assert _fields(error.value) == ["claim.incident_date"]
    assert "outside the policy period 2026-12-02 to 2027-12-01" in error.value.violations[0][1]


def test_an_incident_after_the_period_is_refused_naming_claim_incident_date():
    period = tariffs.PolicyPeriod(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    with pytest.raises(InvalidArgument) as error:
        domain.check_incident(period, datetime.date(2026, 1, 1), TODAY)
    assert _fields(error.value) == ["claim.incident_date"]


# Texts.

def test_a_text_is_trimmed():
    assert check_text("  sold the car  ", "reason", domain.REASON_MAX) == "sold the car"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_required_text_may_not_be_blank(text):
    with pytest.raises(InvalidArgument) as error:
        check_text(text, "reason", domain.REASON_MAX, required=True)
    assert error.value.violations == [("reason", "is required")]


def test_an_optional_text_may_be_empty():
    assert check_text("  ", "note", domain.REASON_MAX, required=False) == ""


@pytest.mark.parametrize("field, longest", [("reason", domain.REASON_MAX), ("claim.description",
                                                                             domain.DESCRIPTION_MAX)])
def test_a_text_is_at_most_its_longest_once_trimmed(field, longest):
    assert check_text(" " + "x" * longest + " ", field, longest) == "x" * longest
    with pytest.raises(InvalidArgument) as error:
        check_text("x" * (longest + 1), field, longest)
    assert error.value.violations == [(field, f"must be at most {longest} characters")]
    assert (domain.REASON_MAX, domain.DESCRIPTION_MAX) == (500, 2000)


# Refunds: which rules each product is cancelled by.

def test_each_product_is_refunded_by_its_own_rules():
    assert domain.REFUND_RULES == {tariffs.OSAGO: tariffs.OSAGO_EARLY_TERMINATION,
                                   tariffs.KASKO: tariffs.KASKO_REFUSAL,
                                   tariffs.LIFE: tariffs.LOAN_COVER_REFUSAL,
                                   tariffs.HEALTH: tariffs.LOAN_COVER_REFUSAL}
