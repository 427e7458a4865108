"""financing's loan mathematics: the reference's test vectors V1–V6 to the kopeck, properties of
schedules, ПСК and prepayment checked by hypothesis, the credit decision's rules, and bad input."""
import dataclasses
import datetime
import decimal
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.financing import loans
from services.kit import errors

ISSUED = datetime.date(2026, 1, 15)
P = Decimal("1600000.00")


def v1(**conventions) -> loans.Schedule:
    return loans.annuity_schedule(P, Decimal("12"), 36, ISSUED, **conventions)


def violated(call, *args, **kwargs) -> set[str]:
    with pytest.raises(errors.InvalidArgument) as caught:
        call(*args, **kwargs)
    return {field for field, _ in caught.value.violations}


# The reference's vectors (financing.md §7): 1/12 monthly rate, HALF_UP kopecks, corrective last row.

@pytest.mark.parametrize("number, payment, interest, principal, balance", [
    (1, "53142.90", "16000.00", "37142.90", "1562857.10"),
    (2, "53142.90", "15628.57", "37514.33", "1525342.77"),
    (3, "53142.90", "15253.43", "37889.47", "1487453.30"),
    (35, "53142.90", "1047.12", "52095.78", "52616.53"),
    (36, "53142.70", "526.17", "52616.53", "0.00"),
])
def test_v1_annuity_rows(number, payment, interest, principal, balance):
    row = v1().rows[number - 1]
    assert (row.number, row.payment, row.interest, row.principal, row.balance) == (
        number, Decimal(payment), Decimal(interest), Decimal(principal), Decimal(balance))


def test_v1_annuity_payment_and_totals():
    schedule = v1()
    assert loans.annuity_payment(P, Decimal("12"), 36) == Decimal("53142.90")
    assert len(schedule.rows) == 36
    assert schedule.total_paid == Decimal("1913144.20")
    assert schedule.total_interest == Decimal("313144.20")
    # The naive A·n − P ignores the corrective last payment.
    assert Decimal("53142.90") * 36 - P - schedule.total_interest == Decimal("0.20")
    assert sum(row.principal for row in schedule.rows) == P


def test_v2_differentiated():
    schedule = loans.differentiated_schedule(P, Decimal("12"), 36, ISSUED)
    rows = schedule.rows
    assert [row.principal for row in rows[:35]] == [Decimal("44444.44")] * 35
    assert rows[35].principal == Decimal("44444.60")
    assert (rows[0].payment, rows[0].interest) == (Decimal("60444.44"), Decimal("16000.00"))
    assert (rows[1].payment, rows[1].interest) == (Decimal("60000.00"), Decimal("15555.56"))
    assert rows[34].payment == Decimal("45333.33")
    assert (rows[35].payment, rows[35].interest) == (Decimal("44889.05"), Decimal("444.45"))
    assert schedule.total_interest == Decimal("296000.03")
    assert schedule.total_paid == Decimal("1896000.03")
    assert rows[35].balance == Decimal("0.00")


def test_v3_annuity():
    schedule = loans.annuity_schedule(Decimal("2500000.00"), Decimal("15.9"), 60, ISSUED)
    first, last = schedule.rows[0], schedule.rows[-1]
    assert first.payment == Decimal("60662.39")
    assert (first.interest, first.principal) == (Decimal("33125.00"), Decimal("27537.39"))
    assert (last.number, last.payment, last.interest, last.principal) == (
        60, Decimal("60662.34"), Decimal("793.27"), Decimal("59869.07"))
    assert schedule.total_paid == Decimal("3639743.35")
    assert schedule.total_interest == Decimal("1139743.35")


def test_v4_full_cost_with_a_withheld_fee_and_without():
    fee = loans.Charge(Decimal("32000.00"))
    flows = loans.cash_flows(v1(), (fee,))
    assert flows.on_payment_dates == [Decimal("-1568000.00"), *(row.payment for row in v1().rows)]
    assert flows.between == []
    with_fee = loans.full_cost(v1(), (fee,))
    assert with_fee.period_rate.quantize(Decimal("1e-10")) == Decimal("0.0111756554")
    assert (with_fee.period_rate * 1200).quantize(Decimal("1e-8")) == Decimal("13.41078648")
    assert with_fee.percent == Decimal("13.411")
    assert with_fee.roubles == Decimal("345144.20")
    without = loans.full_cost(v1())
    assert (without.period_rate * 1200).quantize(Decimal("1e-8")) == Decimal("11.99999955")
    assert without.percent == Decimal("12.000")
    assert without.roubles == Decimal("313144.20")


def test_v5_prepayment_reducing_the_payment():
    assert v1().rows[11].balance == Decimal("1128935.05")
    result = loans.prepay(v1(), 12, Decimal("300000.00"), loans.REDUCE_PAYMENT)
    assert result.balance == Decimal("828935.05")
    assert [row.payment for row in result.rows] == [Decimal("39020.85")] * 23 + [Decimal("39020.90")]
    assert [row.number for row in result.rows] == list(range(13, 37))
    assert result.interest_without_prepayment == Decimal("146494.35")
    assert result.interest == Decimal("107565.40")
    assert result.saving == Decimal("38928.95")
    assert sum(row.principal for row in result.rows) == result.balance


def test_v5_prepayment_shortening_the_term():
    result = loans.prepay(v1(), 12, Decimal("300000.00"), loans.SHORTEN_TERM)
    assert [row.payment for row in result.rows] == [Decimal("53142.90")] * 17 + [Decimal("2286.89")]
    assert len(result.rows) == 18
    assert result.rows[-1].date == loans.payment_date(ISSUED, 30)
    assert result.interest_without_prepayment == Decimal("146494.35")
    assert result.interest == Decimal("76781.14")
    assert result.saving == Decimal("69713.21")
    assert result.rows[-1].balance == Decimal("0.00")


@pytest.mark.parametrize("issued, interest", [
    (datetime.date(2025, 1, 1), "16306.85"),   # 31 days / 365
    (datetime.date(2025, 2, 1), "14728.77"),   # 28 / 365
    (datetime.date(2024, 4, 1), "15737.70"),   # 30 / 366
])
def test_v6_actual_days_interest_of_the_first_month(issued, interest):
    paid = loans.payment_date(issued, 1)
    assert loans.period_interest(P, Decimal("12"), issued, paid, loans.ACTUAL_DAYS) == Decimal(interest)
    schedule = loans.annuity_schedule(P, Decimal("12"), 36, issued, interest_basis=loans.ACTUAL_DAYS)
    assert schedule.rows[0].interest == Decimal(interest)


# Dates, conventions and corner cases the reference states without a vector.

def test_payment_dates_keep_the_day_of_month_or_the_months_last_day():
    end_of_january = datetime.date(2026, 1, 31)
    assert [loans.payment_date(end_of_january, k) for k in range(4)] == [
        end_of_january, datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), datetime.date(2026, 4, 30)]
    assert loans.payment_date(datetime.date(2027, 1, 31), 1) == datetime.date(2027, 2, 28)
    assert loans.payment_date(datetime.date(2028, 1, 30), 1) == datetime.date(2028, 2, 29)
    assert loans.payment_date(datetime.date(2026, 11, 15), 2) == datetime.date(2027, 1, 15)
    schedule = loans.annuity_schedule(P, Decimal("12"), 12, end_of_january)
    assert schedule.rows[0].date == datetime.date(2026, 2, 28) and schedule.rows[-1].date == datetime.date(2027, 1, 31)


def test_actual_days_split_a_period_across_new_year_between_the_two_bases():
    rate = Decimal("12")
    # 16 days of 2027 at /365 and 15 of 2028 at /366.
    assert loans.period_interest(P, rate, datetime.date(2027, 12, 15), datetime.date(2028, 1, 15),
                                 loans.ACTUAL_DAYS) == Decimal("16285.29")
    # Disbursed on 31 Dec: every day of the period is in the new year.
    assert loans.period_interest(P, rate, datetime.date(2027, 12, 31), datetime.date(2028, 1, 31),
                                 loans.ACTUAL_DAYS) == Decimal("16262.30")


def test_actual_days_drift_is_absorbed_by_the_last_payment():
    schedule = loans.annuity_schedule(P, Decimal("12"), 36, datetime.date(2025, 1, 1), loans.ACTUAL_DAYS)
    assert {row.payment for row in schedule.rows[:-1]} == {Decimal("53142.90")}
    assert schedule.rows[-1].payment == Decimal("52544.79")
    assert schedule.total_interest == Decimal("312546.29")
    assert sum(row.principal for row in schedule.rows) == P


def test_a_payment_rounded_up_makes_the_last_one_smaller():
    assert loans.annuity_payment(P, Decimal("12"), 12, loans.UP_KOPECK) == Decimal("142158.07")
    assert loans.annuity_payment(P, Decimal("12"), 12) == Decimal("142158.06")
    by_rouble = v1(payment_rounding=loans.UP_ROUBLE)
    assert {row.payment for row in by_rouble.rows[:-1]} == {Decimal("53143.00")}
    assert by_rouble.rows[-1].payment == Decimal("53138.51")
    assert by_rouble.total_interest == Decimal("313143.51")
    assert sum(row.principal for row in by_rouble.rows) == P


def test_a_zero_rate_divides_the_loan_with_a_corrective_last_payment():
    for schedule_type in loans.SCHEDULE_TYPES:
        schedule = loans.build_schedule(schedule_type, Decimal("100000.00"), Decimal("0"), 3, ISSUED)
        assert [row.payment for row in schedule.rows] == [
            Decimal("33333.33"), Decimal("33333.33"), Decimal("33333.34")]
        assert schedule.total_interest == Decimal("0.00")
        assert loans.full_cost(schedule) == loans.FullCost(Decimal("0.000"), Decimal("0.00"), Decimal("0"))


def test_a_one_month_loan_is_one_corrective_payment():
    for schedule_type in loans.SCHEDULE_TYPES:
        (row,) = loans.build_schedule(schedule_type, P, Decimal("12"), 1, ISSUED).rows
        assert (row.payment, row.interest, row.principal, row.balance) == (
            Decimal("1616000.00"), Decimal("16000.00"), P, Decimal("0.00"))


def test_the_average_payment_is_what_the_pti_counts():
    assert v1().average_payment == Decimal("53142.89")


def test_the_callers_decimal_context_is_neither_used_nor_changed():
    with decimal.localcontext() as context:
        context.prec, context.rounding = 6, decimal.ROUND_FLOOR
        schedule = v1()
        cost = loans.full_cost(schedule, (loans.Charge(Decimal("32000.00")),))
        assert decimal.getcontext().prec == 6 and decimal.getcontext().rounding == decimal.ROUND_FLOOR
    assert schedule == v1()
    assert cost.percent == Decimal("13.411")


# ПСК: which charges count, and flows off the payment dates.

def test_only_the_charges_the_law_includes_count_in_the_full_cost():
    def cost(*charges):
        return loans.full_cost(v1(), charges)
    premium = Decimal("40000.00")
    assert cost(loans.Charge(premium, loans.STATUTORY)).percent == Decimal("12.000")
    assert cost(loans.Charge(premium, loans.INSURANCE, required=False)).percent == Decimal("12.000")
    assert cost(loans.Charge(premium, loans.LENDER_FEE, required=False)).percent == Decimal("12.000")
    required_kasko = cost(loans.Charge(premium, loans.INSURANCE))
    pledged_to_lender = cost(loans.Charge(premium, loans.INSURANCE, required=False, lender_is_beneficiary=True))
    third_party = cost(loans.Charge(premium, loans.THIRD_PARTY))
    assert required_kasko == pledged_to_lender == third_party
    assert required_kasko.percent > Decimal("12.000")
    assert required_kasko.roubles == Decimal("353144.20")


def test_a_yearly_premium_is_a_flow_on_its_own_date():
    yearly = tuple(loans.Charge(Decimal("40000.00"), loans.INSURANCE, paid_on=loans.payment_date(ISSUED, months))
                   for months in (0, 12, 24))
    cost = loans.full_cost(v1(), yearly)
    assert cost.roubles == Decimal("433144.20")
    upfront = loans.full_cost(v1(), (loans.Charge(Decimal("120000.00"), loans.INSURANCE),))
    assert Decimal("12.000") < cost.percent < upfront.percent
    flows = loans.cash_flows(v1(), yearly)
    assert flows.on_payment_dates[0] == Decimal("-1560000.00")
    # A premium due with a payment is one flow with it, at the same whole periods.
    assert flows.on_payment_dates[12] == Decimal("53142.90") + Decimal("40000.00")
    assert flows.total == cost.roubles


def test_a_charge_between_payment_dates_is_discounted_for_its_part_period_too():
    # Paid 14 days after the first payment: a whole period and 14 × 12 / 365 of one.
    late_fee = loans.Charge(Decimal("10000.00"), paid_on=loans.payment_date(ISSUED, 1) + datetime.timedelta(days=14))
    flows = loans.cash_flows(v1(), (late_fee,))
    assert flows.between == [(1, Decimal(14) * 12 / 365, Decimal("10000.00"))]
    assert flows.on_payment_dates[0] == Decimal("-1600000.00")
    on_the_payment_date = loans.full_cost(v1(), (loans.Charge(Decimal("10000.00"),
                                                              paid_on=loans.payment_date(ISSUED, 1)),))
    later = loans.full_cost(v1(), (late_fee,))
    # The same money paid two weeks later costs the borrower a little less a year.
    assert later.roubles == on_the_payment_date.roubles
    assert Decimal("12.000") < later.percent < on_the_payment_date.percent


def test_base_periods_are_whole_months_then_a_part_of_365_12_days():
    assert loans.base_periods(ISSUED, ISSUED) == (0, Decimal(0))
    assert loans.base_periods(datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)) == (1, Decimal(0))
    whole, part = loans.base_periods(ISSUED, datetime.date(2026, 2, 25))
    assert (whole, part * 365) == (1, Decimal(120))
    whole, part = loans.base_periods(ISSUED, datetime.date(2026, 2, 14))
    assert (whole, part * 365) == (0, Decimal(360))
    fee_later = loans.full_cost(v1(), (loans.Charge(Decimal("32000.00"), paid_on=datetime.date(2026, 2, 25)),))
    fee_now = loans.full_cost(v1(), (loans.Charge(Decimal("32000.00")),))
    assert Decimal("12.000") < fee_later.percent < fee_now.percent


def test_a_cost_above_1200_percent_is_refused():
    one_month = loans.annuity_schedule(P, Decimal("12"), 1, ISSUED)
    assert violated(loans.full_cost, one_month, (loans.Charge(Decimal("1500000.00")),)) == {"charges"}


# Prepayment beyond V5.

@pytest.mark.parametrize("mode", loans.PREPAYMENT_MODES)
def test_a_prepayment_of_the_whole_balance_leaves_nothing_to_pay(mode):
    result = loans.prepay(v1(), 12, Decimal("1128935.05"), mode)
    assert result.rows == ()
    assert result.balance == result.interest == Decimal("0.00")
    assert result.saving == Decimal("146494.35")


def test_a_prepayment_on_the_disbursement_date():
    result = loans.prepay(v1(), 0, Decimal("600000.00"), loans.REDUCE_PAYMENT)
    assert result.rows[0].number == 1 and len(result.rows) == 36
    assert result.rows[0].payment == loans.annuity_payment(Decimal("1000000.00"), Decimal("12"), 36)
    assert result.interest_without_prepayment == Decimal("313144.20")


def test_a_differentiated_prepayment_recomputes_or_keeps_the_monthly_principal():
    schedule = loans.differentiated_schedule(P, Decimal("12"), 36, ISSUED)
    reduced = loans.prepay(schedule, 12, Decimal("300000.00"), loans.REDUCE_PAYMENT)
    # 1,600,000 − 12 × 44,444.44 − 300,000 = 766,666.72 over the 24 months left.
    assert reduced.balance == Decimal("766666.72")
    assert [row.principal for row in reduced.rows] == [Decimal("31944.44")] * 23 + [Decimal("31944.60")]
    shortened = loans.prepay(schedule, 12, Decimal("300000.00"), loans.SHORTEN_TERM)
    assert [row.principal for row in shortened.rows] == [Decimal("44444.44")] * 17 + [Decimal("11111.24")]
    assert shortened.saving > reduced.saving > 0


# Properties.

AMOUNTS = st.integers(1_000_000, 2_000_000_000).map(lambda kopecks: Decimal(kopecks).scaleb(-2))
RATES = st.integers(0, 4000).map(lambda hundredths: Decimal(hundredths).scaleb(-2))
TERMS = st.integers(1, 84)
DATES = st.dates(datetime.date(2024, 1, 1), datetime.date(2030, 12, 31))
TYPES = st.sampled_from(loans.SCHEDULE_TYPES)


@settings(max_examples=150, deadline=None)
@given(AMOUNTS, RATES, TERMS, DATES, TYPES, st.sampled_from(loans.INTEREST_BASES),
       st.sampled_from(list(loans.PAYMENT_ROUNDINGS)))
def test_every_schedule_repays_the_loan_to_the_kopeck(amount, rate, term, issued, schedule_type, basis, rounding):
    schedule = loans.build_schedule(schedule_type, amount, rate, term, issued, basis, rounding)
    rows = schedule.rows
    assert sum(row.principal for row in rows) == amount
    assert rows[-1].balance == Decimal("0.00")
    assert 1 <= len(rows) <= term and [row.number for row in rows] == list(range(1, len(rows) + 1))
    balances = [amount] + [row.balance for row in rows]
    assert all(later <= earlier for earlier, later in zip(balances, balances[1:]))
    assert all(row.balance >= 0 and row.payment == row.interest + row.principal for row in rows)
    assert schedule.total_paid == amount + schedule.total_interest
    if schedule_type == loans.ANNUITY:
        assert len({row.payment for row in rows[:-1]}) <= 1
        assert len(rows) == term or rounding != loans.HALF_UP_KOPECK


@settings(max_examples=100, deadline=None)
@given(AMOUNTS, RATES, TERMS, DATES)
def test_differentiated_payments_shrink_but_for_the_truncation_remainder(amount, rate, term, issued):
    rows = loans.differentiated_schedule(amount, rate, term, issued).rows
    payments = [row.payment for row in rows]
    assert all(later <= earlier for earlier, later in zip(payments[:-1], payments[1:-1]))
    share = rows[0].principal
    remainder = rows[-1].principal - share
    assert Decimal(0) <= remainder < Decimal(term) / 100
    if len(rows) > 1:
        assert payments[-1] - payments[-2] <= remainder


@settings(max_examples=40, deadline=None)
@given(AMOUNTS, RATES, TERMS, DATES, TYPES, st.integers(10, 500))
def test_the_full_cost_is_the_nominal_rate_and_more_with_a_fee(amount, rate, term, issued, schedule_type, per_mille):
    schedule = loans.build_schedule(schedule_type, amount, rate, term, issued)
    plain = loans.full_cost(schedule)
    assert abs(plain.percent - rate) <= Decimal("0.001")
    assert plain.roubles == schedule.total_interest
    fee = loans.Charge((amount * per_mille / 10000).quantize(loans.KOPECK))
    with_fee = loans.full_cost(schedule, (fee,))
    assert with_fee.percent >= rate and with_fee.percent >= plain.percent
    assert with_fee.roubles == schedule.total_interest + fee.amount


@settings(max_examples=60, deadline=None)
@given(AMOUNTS, RATES, TERMS, DATES, TYPES, st.data())
def test_prepaying_never_costs_and_shortening_saves_at_least_as_much(amount, rate, term, issued, schedule_type, data):
    schedule = loans.build_schedule(schedule_type, amount, rate, term, issued)
    after = data.draw(st.integers(0, len(schedule.rows) - 1), label="after_payment")
    owed = schedule.rows[after - 1].balance if after else amount
    paid = data.draw(st.integers(1, 100), label="percent of the balance")
    prepaid = (owed * paid / 100).quantize(loans.KOPECK)
    reduced = loans.prepay(schedule, after, prepaid, loans.REDUCE_PAYMENT)
    shortened = loans.prepay(schedule, after, prepaid, loans.SHORTEN_TERM)
    for result in (reduced, shortened):
        assert sum(row.principal for row in result.rows) == owed - prepaid
        assert not result.rows or result.rows[-1].balance == Decimal("0.00")
        assert len(result.rows) <= len(schedule.rows) - after
        assert result.saving >= 0
    assert shortened.saving >= reduced.saving


# The credit decision.

def application(**changes) -> loans.CreditApplication:
    """1,600,000 over 36 months at the excellent band's 12 %: an average payment of 53,142.89,
    a ПДН of 26.57 on 200,000 a month."""
    base = loans.CreditApplication(
        vehicle_price=Decimal("2000000.00"), down_payment=Decimal("400000.00"), term_months=36,
        monthly_income=Decimal("200000.00"), existing_monthly_payments=Decimal("0.00"), credit_score=760,
        age=35, has_overdue_debt=False, disbursement_date=ISSUED)
    return dataclasses.replace(base, **changes)


def test_a_good_application_is_approved_with_its_figures():
    decision = loans.decide(application())
    assert decision.approved and decision.outcome == loans.APPROVED
    assert decision.reasons == (loans.ELIGIBLE, "score_excellent", loans.PTI_WITHIN_LIMIT, loans.FULL_COST_WITHIN_CAP)
    assert decision.annual_rate == Decimal("12")
    assert decision.monthly_payment == Decimal("53142.89")
    assert decision.pti == Decimal("26.57")
    assert decision.full_cost.percent == Decimal("12.000")


@pytest.mark.parametrize("score, band, rate", [
    (300, "very_poor", None), (579, "very_poor", None),
    (580, "poor", None), (649, "poor", None),
    (650, "fair", Decimal("15")), (699, "fair", Decimal("15")),
    (700, "good", Decimal("13")), (749, "good", Decimal("13")),
    (750, "excellent", Decimal("12")), (850, "excellent", Decimal("12")),
])
def test_each_score_band_sets_the_rate_or_declines(score, band, rate):
    decision = loans.decide(application(credit_score=score))
    assert decision.reasons[:2] == (loans.ELIGIBLE, f"score_{band}")
    assert decision.annual_rate == rate
    assert decision.approved == (rate is not None)
    if rate is None:
        assert decision.reasons == (loans.ELIGIBLE, f"score_{band}") and decision.pti is None


def test_a_poor_score_with_30_percent_down_goes_to_a_manager_quoted_as_fair():
    decision = loans.decide(application(credit_score=600, down_payment=Decimal("600000.00")))
    assert decision.outcome == loans.REVIEW and not decision.approved
    assert decision.reasons == (loans.ELIGIBLE, "score_poor", loans.MANUAL_REVIEW, loans.PTI_WITHIN_LIMIT,
                                loans.FULL_COST_WITHIN_CAP)
    assert decision.annual_rate == Decimal("15")
    just_short = loans.decide(application(credit_score=600, down_payment=Decimal("599999.99")))
    assert just_short.outcome == loans.DECLINED and just_short.reasons == (loans.ELIGIBLE, "score_poor")


@pytest.mark.parametrize("existing, score, pti, outcome, reason", [
    ("46857.11", 760, "50.00", loans.APPROVED, loans.PTI_WITHIN_LIMIT),
    ("46877.11", 760, "50.01", loans.APPROVED, loans.PTI_HIGH_COUNTS_AGAINST_QUOTA),
    ("106857.11", 700, "80.00", loans.APPROVED, loans.PTI_HIGH_COUNTS_AGAINST_QUOTA),
    ("106877.11", 760, "80.01", loans.DECLINED, loans.PTI_ABOVE_LIMIT),
])
def test_each_pti_branch_at_its_edges(existing, score, pti, outcome, reason):
    # At 700 the rate is 13 %, so hold the payment at 12 % by the policy's base rate.
    policy = loans.CreditPolicy(base_rate=Decimal("11")) if score == 700 else loans.CreditPolicy()
    decision = loans.decide(application(existing_monthly_payments=Decimal(existing), credit_score=score), policy)
    assert decision.pti == Decimal(pti)
    assert (decision.outcome, decision.reasons[2]) == (outcome, reason)


def test_a_pti_between_50_and_80_needs_a_score_of_700():
    decision = loans.decide(application(existing_monthly_payments=Decimal("60000.00"), credit_score=699))
    assert decision.outcome == loans.DECLINED
    assert decision.reasons == (loans.ELIGIBLE, "score_fair", loans.PTI_HIGH_SCORE_TOO_LOW)
    assert decision.annual_rate == Decimal("15") and decision.pti > 50 and decision.full_cost is None


def test_the_first_declining_rule_decides_alone():
    hopeless = application(has_overdue_debt=True, credit_score=300, existing_monthly_payments=Decimal("500000.00"))
    assert loans.decide(hopeless) == loans.Decision(loans.DECLINED, (loans.OVERDUE_DEBT,))
    assert loans.decide(dataclasses.replace(hopeless, age=19)).reasons == (
        loans.OVERDUE_DEBT, loans.AGE_OUTSIDE_POLICY)
    poor_and_overloaded = dataclasses.replace(hopeless, has_overdue_debt=False)
    assert loans.decide(poor_and_overloaded).reasons == (loans.ELIGIBLE, "score_very_poor")
    overloaded_and_dear = application(existing_monthly_payments=Decimal("500000.00"),
                                      charges=(loans.Charge(Decimal("400000.00")),))
    assert loans.decide(overloaded_and_dear).reasons[-1] == loans.PTI_ABOVE_LIMIT


@pytest.mark.parametrize("age, term, admitted", [(21, 36, True), (20, 36, False), (67, 36, True), (67, 37, False)])
def test_age_is_judged_at_application_and_at_the_end_of_the_term(age, term, admitted):
    decision = loans.decide(application(age=age, term_months=term))
    assert decision.approved == admitted
    assert (loans.AGE_OUTSIDE_POLICY in decision.reasons) != admitted


def test_a_full_cost_above_four_thirds_of_the_market_declines():
    assert loans.CreditPolicy().full_cost_cap == Decimal("18.4")
    assert loans.CreditPolicy(average_market_full_cost=Decimal("26.4")).full_cost_cap == Decimal("35.2")
    dear = loans.decide(application(term_months=12, charges=(loans.Charge(Decimal("80000.00")),)))
    assert dear.outcome == loans.DECLINED and dear.reasons[-1] == loans.FULL_COST_ABOVE_CAP
    assert dear.full_cost.percent > Decimal("18.4") and dear.pti is not None
    at_the_cap = loans.CreditPolicy(average_market_full_cost=Decimal("9"))
    assert loans.decide(application(), at_the_cap).approved
    assert loans.decide(application(credit_score=720), at_the_cap).reasons[-1] == loans.FULL_COST_ABOVE_CAP


def test_a_differentiated_loan_counts_its_average_payment():
    decision = loans.decide(application(schedule_type=loans.DIFFERENTIATED))
    assert decision.monthly_payment == Decimal("52666.67")
    assert decision.pti == Decimal("26.33")


def test_the_inputs_know_nothing_of_gender_or_marital_status():
    names = {field.name for field in dataclasses.fields(loans.CreditApplication)}
    assert not {name for name in names if any(word in name for word in ("gender", "sex", "marital", "married"))}


# Bad input: InvalidArgument naming each offending field.

@pytest.mark.parametrize("changes, field", [
    ({"term_months": 0}, "term_months"), ({"term_months": 601}, "term_months"),
    ({"loan_amount": Decimal("-1.00")}, "loan_amount"), ({"loan_amount": Decimal("0")}, "loan_amount"),
    ({"loan_amount": Decimal("1000.001")}, "loan_amount"), ({"loan_amount": 1000.0}, "loan_amount"),
    ({"annual_rate": Decimal("-0.01")}, "annual_rate"), ({"annual_rate": Decimal("100.01")}, "annual_rate"),
    ({"annual_rate": Decimal("NaN")}, "annual_rate"),
    ({"schedule_type": "balloon"}, "schedule_type"), ({"interest_basis": "30/360"}, "interest_basis"),
    ({"payment_rounding": "down"}, "payment_rounding"),
])
def test_a_bad_loan_names_its_field(changes, field):
    terms = {"schedule_type": loans.ANNUITY, "loan_amount": P, "annual_rate": Decimal("12"), "term_months": 36,
             "disbursement_date": ISSUED, **changes}
    assert violated(loans.build_schedule, **terms) == {field}


def test_every_bad_field_is_named_at_once():
    assert violated(loans.annuity_schedule, Decimal("-5"), Decimal("-1"), 0, ISSUED) == {
        "loan_amount", "annual_rate", "term_months"}


@pytest.mark.parametrize("changes, field", [
    ({"down_payment": Decimal("2000000.00")}, "down_payment"),
    ({"down_payment": Decimal("-1.00")}, "down_payment"),
    ({"vehicle_price": Decimal("0.00")}, "vehicle_price"),
    ({"term_months": 11}, "term_months"), ({"term_months": 85}, "term_months"),
    ({"monthly_income": Decimal("0.00")}, "monthly_income"),
    ({"existing_monthly_payments": Decimal("-0.01")}, "existing_monthly_payments"),
    ({"credit_score": 299}, "credit_score"), ({"credit_score": 851}, "credit_score"),
    ({"age": -1}, "age"),
    ({"schedule_type": "bullet"}, "schedule_type"),
    ({"charges": (loans.Charge(Decimal("0.00")),)}, "charges[0].amount"),
    ({"charges": (loans.Charge(Decimal("1.00"), "bribe"),)}, "charges[0].kind"),
    ({"charges": (loans.Charge(Decimal("1.00"), paid_on=datetime.date(2026, 1, 14)),)}, "charges[0].paid_on"),
])
def test_a_bad_application_names_its_field(changes, field):
    assert violated(loans.decide, application(**changes)) == {field}


@pytest.mark.parametrize("after, amount, mode, field", [
    (36, Decimal("1.00"), loans.REDUCE_PAYMENT, "after_payment"),
    (-1, Decimal("1.00"), loans.REDUCE_PAYMENT, "after_payment"),
    (12, Decimal("1128935.06"), loans.SHORTEN_TERM, "amount"),
    (12, Decimal("0.00"), loans.SHORTEN_TERM, "amount"),
    (12, Decimal("1.00"), "skip_a_month", "mode"),
])
def test_a_bad_prepayment_names_its_field(after, amount, mode, field):
    assert violated(loans.prepay, v1(), after, amount, mode) == {field}


def test_the_building_blocks_check_their_own_input():
    assert violated(loans.annuity_payment, P, Decimal("12"), 36, "down") == {"payment_rounding"}
    assert violated(loans.annuity_payment, P, Decimal("12"), 0) == {"term_months"}
    assert violated(loans.period_interest, P, Decimal("12"), ISSUED, ISSUED, "30/360") == {"interest_basis"}


def test_a_bad_charge_names_its_field():
    assert violated(loans.full_cost, v1(), (loans.Charge(Decimal("-3.00")),)) == {"charges[0].amount"}
