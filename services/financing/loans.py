"""financing's loan mathematics: payment schedules, the full cost of credit (ПСК), partial early
repayment and the credit decision. Pure functions of their inputs: no I/O, no clock (dates come in).

Money is Decimal roubles with two places, never a float. Each schedule cell (payment, interest) is
rounded half-up to the kopeck on its own and principal = payment − interest, so the principals of a
schedule add up to the loan amount to the kopeck and its last balance is 0.00.

- Payment k falls k months after disbursement, on the disbursement's day of month, or on the month's
  last day when the month is shorter (31 Jan → 28/29 Feb → 31 Mar).
- Interest for a period is balance × annual rate / 12 (MONTHLY, the default) or, by ACTUAL_DAYS,
  balance × annual rate × d / 365 (366 in a leap year), d counting the days after the previous payment
  up to this one inclusive; a period across 31 Dec takes each year's days at that year's base.
- An annuity pays A = P·i / (1 − (1+i)^−n), i = annual rate / 12 whatever the interest basis, rounded
  half-up to the kopeck (the default), up to the kopeck, or up to the rouble. A differentiated schedule
  repays D = P/n truncated to the kopeck each month, plus that month's interest.
- The last row pays the whole remaining balance plus its interest (the corrective payment), and so does
  any earlier row whose principal would reach the balance: the schedule ends there.
- ПСК follows 353-FZ art. 6 for a monthly base period (ЧБП = 12): the smallest positive root of
  Σ ДПk / ((1 + ek·i)(1 + i)^qk) = 0 (Newton's method, bisection as the reference's fallback), × 1200,
  half-up to three places.

All arithmetic runs in a private decimal context of 28 digits (the precision the reference's vectors
were computed with); the caller's context is never changed. Floats only ever find where ПСК's root
lies, and a decimal step then fixes it to those 28 digits.
"""
import calendar
import datetime
import functools
from typing import NamedTuple
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext

from services.kit.errors import InvalidArgument

KOPECK = Decimal("0.01")
ROUBLE = Decimal("1")
PERCENT_PLACES = Decimal("0.001")
PTI_PLACES = Decimal("0.01")
# NUMERIC(14, 2), as everywhere in the mesh: up to a trillion roubles.
MAX_AMOUNT = Decimal("999999999999.99")
# Guards against typing mistakes, not the product's range (12–84 months, set by the application).
MAX_TERM_MONTHS = 600
MAX_ANNUAL_RATE = Decimal("100")
BASE_PERIODS_PER_YEAR = 12

ANNUITY, DIFFERENTIATED = "annuity", "differentiated"
SCHEDULE_TYPES = (ANNUITY, DIFFERENTIATED)
MONTHLY, ACTUAL_DAYS = "monthly", "actual_days"
INTEREST_BASES = (MONTHLY, ACTUAL_DAYS)
HALF_UP_KOPECK, UP_KOPECK, UP_ROUBLE = "half_up_kopeck", "up_kopeck", "up_rouble"
PAYMENT_ROUNDINGS = {HALF_UP_KOPECK: (KOPECK, ROUND_HALF_UP), UP_KOPECK: (KOPECK, ROUND_CEILING),
                     UP_ROUBLE: (ROUBLE, ROUND_CEILING)}
REDUCE_PAYMENT, SHORTEN_TERM = "reduce_payment", "shorten_term"
PREPAYMENT_MODES = (REDUCE_PAYMENT, SHORTEN_TERM)
# Kinds of charge beyond the schedule, for what the full cost includes (353-FZ art. 6 parts 4–5).
LENDER_FEE, THIRD_PARTY, INSURANCE, STATUTORY = "lender_fee", "third_party", "insurance", "statutory"
CHARGE_KINDS = (LENDER_FEE, THIRD_PARTY, INSURANCE, STATUTORY)

APPROVED, DECLINED, REVIEW = "approved", "declined", "review"
# Reason codes, one per rule outcome, in the order the rules run.
OVERDUE_DEBT = "overdue_debt"
AGE_OUTSIDE_POLICY = "age_outside_policy"
ELIGIBLE = "eligible"
MANUAL_REVIEW = "manual_review"
PTI_WITHIN_LIMIT = "pti_within_limit"
PTI_HIGH_COUNTS_AGAINST_QUOTA = "pti_high_counts_against_quota"
PTI_HIGH_SCORE_TOO_LOW = "pti_high_score_too_low"
PTI_ABOVE_LIMIT = "pti_above_limit"
FULL_COST_WITHIN_CAP = "full_cost_within_cap"
FULL_COST_ABOVE_CAP = "full_cost_above_cap"

_PRECISION = Context(prec=28)


def _precisely(function):
    """`function` computed in the module's own decimal context, the caller's left as it was."""
    @functools.wraps(function)
    def in_context(*args, **kwargs):
        with localcontext(_PRECISION):
            return function(*args, **kwargs)
    return in_context


def _kopecks(amount: Decimal) -> Decimal:
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


class Row(NamedTuple):
    """A schedule's row; a plain tuple, since a calculation makes up to 84 of them."""
    number: int
    date: datetime.date
    payment: Decimal
    interest: Decimal
    principal: Decimal
    # Owed after this payment.
    balance: Decimal


@dataclass(frozen=True)
class Schedule:
    schedule_type: str
    loan_amount: Decimal
    annual_rate: Decimal
    term_months: int
    disbursement_date: datetime.date
    interest_basis: str
    payment_rounding: str
    rows: tuple[Row, ...]

    @property
    def total_paid(self) -> Decimal:
        return sum((row.payment for row in self.rows), Decimal("0.00"))

    @property
    def total_interest(self) -> Decimal:
        return sum((row.interest for row in self.rows), Decimal("0.00"))

    @property
    @_precisely
    def average_payment(self) -> Decimal:
        """What the ПДН counts for this loan: the average monthly payment."""
        return _kopecks(self.total_paid / len(self.rows))


@functools.lru_cache(maxsize=4096)
def payment_date(disbursement_date: datetime.date, number: int) -> datetime.date:
    """The date of payment `number` (0 is the disbursement itself)."""
    months = disbursement_date.month - 1 + number
    year, month = disbursement_date.year + months // 12, months % 12 + 1
    return datetime.date(year, month, min(disbursement_date.day, calendar.monthrange(year, month)[1]))


def _year_fraction(since: datetime.date, until: datetime.date) -> Decimal:
    """The days after `since` up to `until` inclusive, each as a part of its own year."""
    fraction = Decimal(0)
    for year in range(since.year, until.year + 1):
        days = (min(until, datetime.date(year, 12, 31)) - max(since, datetime.date(year - 1, 12, 31))).days
        if days > 0:
            fraction += Decimal(days) / (366 if calendar.isleap(year) else 365)
    return fraction


@_precisely
def period_interest(balance: Decimal, annual_rate: Decimal, since: datetime.date, until: datetime.date,
                    interest_basis: str = MONTHLY) -> Decimal:
    """Interest on `balance` for the period from `since` to the payment on `until`, to the kopeck."""
    _raise_if_any([("interest_basis", _choice_problem(interest_basis, INTEREST_BASES))], "invalid interest basis")
    return _interest(balance, annual_rate, since, until, interest_basis)


def _interest(balance: Decimal, annual_rate: Decimal, since: datetime.date, until: datetime.date,
              interest_basis: str) -> Decimal:
    # Unchecked, in the caller's precise context: the schedule's loop calls it once a row.
    if interest_basis == MONTHLY:
        return (balance * annual_rate / 1200).quantize(KOPECK, rounding=ROUND_HALF_UP)
    return _kopecks(balance * annual_rate / 100 * _year_fraction(since, until))


@_precisely
def annuity_payment(loan_amount: Decimal, annual_rate: Decimal, term_months: int,
                    payment_rounding: str = HALF_UP_KOPECK) -> Decimal:
    """A = P·i / (1 − (1+i)^−n), i = annual rate / 12; P/n without interest."""
    _raise_if_any([
        ("loan_amount", _amount_problem(loan_amount)),
        ("annual_rate", _rate_problem(annual_rate)),
        ("term_months", _term_problem(term_months)),
        ("payment_rounding", _choice_problem(payment_rounding, PAYMENT_ROUNDINGS)),
    ], "loan has invalid fields")
    rate = annual_rate / 1200
    exact = loan_amount / term_months if not rate else loan_amount * rate / (1 - (1 + rate) ** -term_months)
    unit, rounding = PAYMENT_ROUNDINGS[payment_rounding]
    return exact.quantize(unit, rounding=rounding).quantize(KOPECK)


def _differentiated_share(balance: Decimal, count: int) -> Decimal:
    # At least a kopeck, so a loan of fewer kopecks than months still ends.
    return max((balance / count).quantize(KOPECK, rounding=ROUND_DOWN), KOPECK)


def _rows(balance: Decimal, annual_rate: Decimal, disbursement_date: datetime.date, first: int, count: int,
          interest_basis: str, principal_due) -> tuple[Row, ...]:
    """Rows `first` to `first + count − 1` repaying `balance`, each row's principal from
    `principal_due(interest)`, until the corrective row that clears the balance."""
    rows, last_number = [], first + count - 1
    since = payment_date(disbursement_date, first - 1)
    for number in range(first, last_number + 1):
        date = payment_date(disbursement_date, number)
        interest = _interest(balance, annual_rate, since, date, interest_basis)
        principal = principal_due(interest)
        last = number == last_number or principal >= balance
        if last:
            principal = balance
        balance -= principal
        rows.append(Row(number, date, principal + interest, interest, principal, balance))
        if last:
            break
        since = date
    return tuple(rows)


def _annuity_rows(balance, annual_rate, payment, disbursement_date, first, count, interest_basis):
    return _rows(balance, annual_rate, disbursement_date, first, count, interest_basis,
                 lambda interest: payment - interest)


def _differentiated_rows(balance, annual_rate, share, disbursement_date, first, count, interest_basis):
    return _rows(balance, annual_rate, disbursement_date, first, count, interest_basis, lambda interest: share)


@_precisely
def build_schedule(schedule_type: str, loan_amount: Decimal, annual_rate: Decimal, term_months: int,
                   disbursement_date: datetime.date, interest_basis: str = MONTHLY,
                   payment_rounding: str = HALF_UP_KOPECK) -> Schedule:
    """The repayment schedule of a loan disbursed on `disbursement_date`, or InvalidArgument."""
    _check_loan(schedule_type, loan_amount, annual_rate, term_months, interest_basis, payment_rounding)
    if schedule_type == ANNUITY:
        payment = annuity_payment(loan_amount, annual_rate, term_months, payment_rounding)
        rows = _annuity_rows(
            loan_amount, annual_rate, payment, disbursement_date, 1, term_months, interest_basis)
    else:
        share = _differentiated_share(loan_amount, term_months)
        rows = _differentiated_rows(
            loan_amount, annual_rate, share, disbursement_date, 1, term_months, interest_basis)
    return Schedule(schedule_type, loan_amount, annual_rate, term_months, disbursement_date,
                    interest_basis, payment_rounding, rows)


def annuity_schedule(loan_amount: Decimal, annual_rate: Decimal, term_months: int,
                     disbursement_date: datetime.date, interest_basis: str = MONTHLY,
                     payment_rounding: str = HALF_UP_KOPECK) -> Schedule:
    return build_schedule(ANNUITY, loan_amount, annual_rate, term_months, disbursement_date,
                          interest_basis, payment_rounding)


def differentiated_schedule(loan_amount: Decimal, annual_rate: Decimal, term_months: int,
                            disbursement_date: datetime.date, interest_basis: str = MONTHLY) -> Schedule:
    return build_schedule(DIFFERENTIATED, loan_amount, annual_rate, term_months, disbursement_date,
                          interest_basis)


# The full cost of credit (ПСК).

@dataclass(frozen=True)
class Charge:
    """A payment beyond the schedule: a fee, a premium. Paid at disbursement unless `paid_on` says
    otherwise; a fee withheld from the disbursed money is the same flow as one paid that day."""
    amount: Decimal
    kind: str = LENDER_FEE
    paid_on: datetime.date | None = None
    # The contract requires it, or the rate or terms depend on it.
    required: bool = True
    lender_is_beneficiary: bool = False

    @property
    def in_full_cost(self) -> bool:
        """353-FZ art. 6 parts 4–5: contract fees, required third-party payments, and insurance the
        lender benefits from or conditions the terms on; never what federal law itself requires
        (ОСАГО), nor what is optional."""
        if self.kind == STATUTORY:
            return False
        if self.kind == INSURANCE:
            return self.required or self.lender_is_beneficiary
        return self.required


class CashFlows(NamedTuple):
    """ДП0..ДПm as ПСК's equation takes them. A flow on a payment date (ek = 0) is summed into
    `on_payment_dates` at its whole periods qk, the disbursement at 0 and payment k at k: the
    coefficients of a polynomial in v = 1/(1+i). Any other flow is (qk, ek, ДПk) in `between`.
    A flow is negative when the lender pays the borrower."""
    on_payment_dates: list
    between: list

    @property
    def total(self):
        return sum(self.on_payment_dates) + sum(amount for _, _, amount in self.between)

    def converted(self, number) -> "CashFlows":
        """The same flows as numbers of type `number` (float, for finding the root roughly)."""
        return CashFlows([number(amount) for amount in self.on_payment_dates],
                         [(whole, number(part), number(amount)) for whole, part, amount in self.between])


@dataclass(frozen=True)
class FullCost:
    # ПСК, % a year to three places.
    percent: Decimal
    # All included payments minus the loan amount.
    roubles: Decimal
    # The root i per month, unrounded.
    period_rate: Decimal


def cash_flows(schedule: Schedule, charges: tuple[Charge, ...] = ()) -> CashFlows:
    """The disbursement less whatever is charged that day, every payment of `schedule`, and every
    later included charge."""
    on_payment_dates = [Decimal("0.00")] * (schedule.rows[-1].number + 1)
    on_payment_dates[0] = -schedule.loan_amount
    for row in schedule.rows:
        on_payment_dates[row.number] += row.payment
    between = []
    for charge in charges:
        if not charge.in_full_cost:
            continue
        whole, part = base_periods(schedule.disbursement_date, charge.paid_on or schedule.disbursement_date)
        if part:
            between.append((whole, part, charge.amount))
            continue
        on_payment_dates.extend([Decimal("0.00")] * (whole + 1 - len(on_payment_dates)))
        on_payment_dates[whole] += charge.amount
    return CashFlows(on_payment_dates, between)


@functools.lru_cache(maxsize=4096)
def base_periods(disbursement_date: datetime.date, date: datetime.date) -> tuple[int, Decimal]:
    """(qk, ek) of a flow on `date`: whole months since disbursement, counted like payment dates (so
    a scheduled payment has ek = 0), then the days left as a part of a 365/12-day base period."""
    whole = (date.year - disbursement_date.year) * 12 + date.month - disbursement_date.month
    if payment_date(disbursement_date, whole) > date:
        whole -= 1
    days = (date - payment_date(disbursement_date, whole)).days
    return whole, (Decimal(days) * BASE_PERIODS_PER_YEAR / 365) if days else Decimal(0)


@_precisely
def period_rate(flows: CashFlows, guess: Decimal = Decimal("0.01")) -> Decimal:
    """The smallest positive root of f(i) = Σ ДПk / ((1 + ek·i)(1 + i)^qk) = 0. A loan is one
    outflow and then inflows, so f falls as i grows and its one root is the smallest.

    Newton's method from `guess` (the nominal monthly rate is close) in floats, then one Newton
    step in decimals from the float root: the step squares the float root's error (about 1e−16)
    away, so the root has the decimal context's 28 digits. Should the float steps leave (0, 1) or not
    settle, Newton in decimals, and failing that bisection on [0, 1] to a bracket narrower than
    1e−12, as the reference allows."""
    if flows.total == 0:  # f(0): no cost at all
        return Decimal(0)
    start = guess if 0 < guess < 1 else Decimal("0.01")
    # A step under 1e−10 leaves an error near its square, which the decimal step squares again.
    rough = _newton(flows.converted(float), float(start), 1e-10, 50)
    if rough is not None:
        rate = Decimal(rough)
        value, slope = _value_and_slope(flows, rate)
        polished = rate - value / slope if slope else rate
        if 0 < polished < 1:
            return polished
    rate = _newton(flows, start, Decimal("1e-20"), 30)
    if rate is not None:
        return rate
    if _value_and_slope(flows, Decimal(1))[0] > 0:
        raise InvalidArgument({"charges": "the full cost of credit would exceed 1200 % a year"})
    return _bisected(lambda rate: _value_and_slope(flows, rate)[0])


def _newton(flows: CashFlows, rate, precision, attempts: int):
    """The root Newton's method reaches from `rate` in the number type of `rate` and `flows`,
    once a step is under `precision`; None should a step leave (0, 1) or the attempts run out."""
    for _ in range(attempts):
        value, slope = _value_and_slope(flows, rate)
        if not slope:
            return None
        step = value / slope
        rate -= step
        if not 0 < rate < 1:
            return None
        if abs(step) < precision:
            return rate
    return None


def _value_and_slope(flows: CashFlows, rate):
    """f(rate) and f′(rate). The flows on payment dates by Horner's rule: P(v) and P′(v) together,
    and f′ = −v²·P′(v) since dv/di = −v²; then each flow between payment dates on its own."""
    v = 1 / (1 + rate)
    value = slope = type(rate)(0)
    for amount in reversed(flows.on_payment_dates):
        slope = slope * v + value
        value = value * v + amount
    slope *= -v * v
    for whole, part, amount in flows.between:
        discounted = amount * v ** whole / (1 + part * rate)
        value += discounted
        slope -= discounted * (whole * v + part / (1 + part * rate))
    return value, slope


def _bisected(value) -> Decimal:
    low, high = Decimal(0), Decimal(1)
    while high - low >= Decimal("1e-12"):
        middle = (low + high) / 2
        if value(middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@_precisely
def full_cost(schedule: Schedule, charges: tuple[Charge, ...] = ()) -> FullCost:
    """ПСК in % a year and in roubles for `schedule` with `charges`, or InvalidArgument."""
    _check_charges(charges, schedule.disbursement_date)
    flows = cash_flows(schedule, charges)
    rate = period_rate(flows, schedule.annual_rate / 1200)
    percent = (rate * BASE_PERIODS_PER_YEAR * 100).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
    return FullCost(percent, flows.total, rate)


# Partial early repayment.

@dataclass(frozen=True)
class Prepayment:
    mode: str
    # Owed right after the prepayment.
    balance: Decimal
    # The rest of the schedule, numbered on from the payment the prepayment followed.
    rows: tuple[Row, ...]
    # Interest still to pay under the new rows, and under the original ones.
    interest: Decimal
    interest_without_prepayment: Decimal

    @property
    def saving(self) -> Decimal:
        return self.interest_without_prepayment - self.interest


def _payments_to_repay(balance: Decimal, annual_rate: Decimal, payment: Decimal, at_most: int) -> int:
    """n′ = ceil(−ln(1 − B·i/A) / ln(1+i)), never more than the payments left."""
    rate = annual_rate / 1200
    if not rate:
        count = balance / payment
    elif payment <= balance * rate:
        # A payment that never covers the interest (a tiny loan at an absurd rate) keeps the term.
        return at_most
    else:
        count = -(1 - balance * rate / payment).ln() / (1 + rate).ln()
    return min(int(count.to_integral_value(rounding=ROUND_CEILING)), at_most)


@_precisely
def prepay(schedule: Schedule, after_payment: int, amount: Decimal, mode: str) -> Prepayment:
    """`amount` paid on the date of payment `after_payment` (0: the disbursement date), on top of it.

    No interest has accrued since that payment, so all of `amount` reduces the balance. Then:
    - REDUCE_PAYMENT keeps the number of payments left: an annuity gets A′ = annuity(B, r, n′), a
      differentiated schedule D′ = B/n′ truncated to the kopeck;
    - SHORTEN_TERM keeps the payment: an annuity keeps A for n′ = ceil(−ln(1 − B·i/A)/ln(1+i))
      payments, a differentiated schedule keeps D for ceil(B/D); the last is corrective either way.
    A prepayment of the whole balance leaves no rows.
    """
    balance, amount_problem = None, None
    if 0 <= after_payment < len(schedule.rows):
        balance = schedule.rows[after_payment - 1].balance if after_payment else schedule.loan_amount
        amount_problem = _amount_problem(amount, at_most=balance)
    _raise_if_any([
        ("mode", _choice_problem(mode, PREPAYMENT_MODES)),
        ("after_payment", None if balance is not None else f"must be from 0 to {len(schedule.rows) - 1}"),
        ("amount", amount_problem),
    ], "prepayment has invalid fields")
    left, remaining = balance - amount, schedule.rows[after_payment:]
    rate, first, basis = schedule.annual_rate, after_payment + 1, schedule.interest_basis
    if not left:
        rows = ()
    elif schedule.schedule_type == ANNUITY:
        if mode == REDUCE_PAYMENT:
            payment, count = annuity_payment(left, rate, len(remaining), schedule.payment_rounding), len(remaining)
        else:
            payment = annuity_payment(schedule.loan_amount, rate, schedule.term_months, schedule.payment_rounding)
            count = _payments_to_repay(left, rate, payment, len(remaining))
        rows = _annuity_rows(left, rate, payment, schedule.disbursement_date, first, count, basis)
    else:
        if mode == REDUCE_PAYMENT:
            share, count = _differentiated_share(left, len(remaining)), len(remaining)
        else:
            share = _differentiated_share(schedule.loan_amount, schedule.term_months)
            count = int((left / share).to_integral_value(rounding=ROUND_CEILING))
        rows = _differentiated_rows(left, rate, share, schedule.disbursement_date, first, count, basis)
    return Prepayment(
        mode, left, rows, sum((row.interest for row in rows), Decimal("0.00")),
        sum((row.interest for row in remaining), Decimal("0.00")))


# The credit decision: a transparent demo model, not a bank's scorecard.

@dataclass(frozen=True)
class ScoreBand:
    """Scores from `lowest_score` up to the next band's. `add_on` is in percentage points over the
    base rate; None declines the band, unless the down payment is at least `review_down_share` % of
    the price, which sends the application to a manager."""
    name: str
    lowest_score: int
    add_on: Decimal | None
    review_down_share: Decimal | None = None

    @property
    def reason(self) -> str:
        return f"score_{self.name}"


SCORE_BANDS = (
    ScoreBand("very_poor", 300, None),
    ScoreBand("poor", 580, None, review_down_share=Decimal("30")),
    ScoreBand("fair", 650, Decimal("3")),
    ScoreBand("good", 700, Decimal("1")),
    ScoreBand("excellent", 750, Decimal("0")),
)


@dataclass(frozen=True)
class CreditPolicy:
    # The demo's own choice: the reference gives no base rate (it is V1's rate).
    base_rate: Decimal = Decimal("12")
    # Lowest first.
    bands: tuple[ScoreBand, ...] = SCORE_BANDS
    highest_score: int = 850
    # The product's range of terms (the reference's demo assumption).
    shortest_term_months: int = 12
    longest_term_months: int = 84
    # ПДН up to this is fine; up to the high limit only with a good score, counted against the quota.
    pti_limit: Decimal = Decimal("50")
    pti_high_limit: Decimal = Decimal("80")
    pti_high_min_score: int = 700
    # The Bank of Russia's average-market ПСК for the category (new cars, Aug 2025); the cap is 4/3 of it.
    average_market_full_cost: Decimal = Decimal("13.8")
    # The demo's own choice: the reference leaves the age policy to the lender.
    min_age: int = 21
    max_age_at_maturity: int = 70
    # The demo's own choice: a poor score sent to review is quoted as fair; the manager may reprice.
    review_add_on: Decimal = Decimal("3")
    interest_basis: str = MONTHLY
    payment_rounding: str = HALF_UP_KOPECK

    @property
    @_precisely
    def full_cost_cap(self) -> Decimal:
        return self.average_market_full_cost * 4 / 3

    def band(self, credit_score: int) -> ScoreBand:
        return [band for band in self.bands if band.lowest_score <= credit_score][-1]

    def admits_age(self, age: int, term_months: int) -> bool:
        return self.min_age <= age and age * 12 + term_months <= self.max_age_at_maturity * 12


@dataclass(frozen=True)
class CreditApplication:
    """What the decision may look at. Never gender or marital status."""
    vehicle_price: Decimal
    down_payment: Decimal
    term_months: int
    monthly_income: Decimal
    existing_monthly_payments: Decimal
    credit_score: int
    # Whole years on the day of the application.
    age: int
    has_overdue_debt: bool
    disbursement_date: datetime.date
    schedule_type: str = ANNUITY
    charges: tuple[Charge, ...] = ()

    @property
    def loan_amount(self) -> Decimal:
        return self.vehicle_price - self.down_payment


@dataclass(frozen=True)
class Decision:
    """The outcome with a reason code per rule that ran; the figures a rule computed are kept
    even when a later rule declines, so a decline shows what it was judged on."""
    outcome: str
    reasons: tuple[str, ...]
    annual_rate: Decimal | None = None
    monthly_payment: Decimal | None = None
    pti: Decimal | None = None
    full_cost: FullCost | None = None

    @property
    def approved(self) -> bool:
        return self.outcome == APPROVED


@_precisely
def decide(application: CreditApplication, policy: CreditPolicy = CreditPolicy()) -> Decision:
    """The rules in order, stopping at the first that declines:
    1. overdue debt or an age outside the policy (at application, and at the end of the term);
    2. the score's band: its rate, a decline, or a manager's review;
    3–5. ПДН = (existing monthly payments + this loan's average payment) ÷ monthly income × 100, to
       two places: up to 50 fine; up to 80 only with a score of 700 or more; above 80 declined;
    6. ПСК above 4/3 of the average-market ПСК declined.
    Rule 4's 20 % quota is of a quarter's issuance, which one application cannot see: an approval
    within it carries PTI_HIGH_COUNTS_AGAINST_QUOTA for the caller to count (and to warn the
    borrower in writing, as a ПДН above 50 requires).
    """
    _check_application(application, policy)
    reasons = []
    if application.has_overdue_debt:
        reasons.append(OVERDUE_DEBT)
    if not policy.admits_age(application.age, application.term_months):
        reasons.append(AGE_OUTSIDE_POLICY)
    if reasons:
        return Decision(DECLINED, tuple(reasons))
    reasons.append(ELIGIBLE)

    band = policy.band(application.credit_score)
    reasons.append(band.reason)
    outcome, add_on = APPROVED, band.add_on
    if add_on is None:
        down_share = application.down_payment * 100 / application.vehicle_price
        if band.review_down_share is None or down_share < band.review_down_share:
            return Decision(DECLINED, tuple(reasons))
        outcome, add_on = REVIEW, policy.review_add_on
        reasons.append(MANUAL_REVIEW)
    rate = policy.base_rate + add_on
    schedule = build_schedule(application.schedule_type, application.loan_amount, rate, application.term_months,
                              application.disbursement_date, policy.interest_basis, policy.payment_rounding)
    payment = schedule.average_payment
    pti = ((application.existing_monthly_payments + payment) * 100 / application.monthly_income).quantize(
        PTI_PLACES, rounding=ROUND_HALF_UP)
    figures = {"annual_rate": rate, "monthly_payment": payment, "pti": pti}
    # The rules read the ПДН as reported, so the figure shown explains the decision.
    if pti <= policy.pti_limit:
        reasons.append(PTI_WITHIN_LIMIT)
    elif pti <= policy.pti_high_limit and application.credit_score >= policy.pti_high_min_score:
        reasons.append(PTI_HIGH_COUNTS_AGAINST_QUOTA)
    elif pti <= policy.pti_high_limit:
        return Decision(DECLINED, (*reasons, PTI_HIGH_SCORE_TOO_LOW), **figures)
    else:
        return Decision(DECLINED, (*reasons, PTI_ABOVE_LIMIT), **figures)

    cost = full_cost(schedule, application.charges)
    if cost.percent > policy.full_cost_cap:
        return Decision(DECLINED, (*reasons, FULL_COST_ABOVE_CAP), full_cost=cost, **figures)
    return Decision(outcome, (*reasons, FULL_COST_WITHIN_CAP), full_cost=cost, **figures)


# Validation: every offending field at once, by its API name.

def _amount_problem(amount: Decimal, at_most: Decimal = MAX_AMOUNT, zero_allowed: bool = False) -> str | None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        return "must be a decimal number"
    if amount < 0 or (amount == 0 and not zero_allowed):
        return "must not be negative" if zero_allowed else "must be more than zero"
    if amount > at_most:
        return f"must be at most {at_most}"
    if amount != amount.quantize(KOPECK):
        return "must have at most two digits after the point"
    return None


def _choice_problem(value: str, choices) -> str | None:
    return None if value in choices else f"must be one of {', '.join(choices)}"


def _term_problem(term_months: int) -> str | None:
    if isinstance(term_months, int) and not isinstance(term_months, bool) and 1 <= term_months <= MAX_TERM_MONTHS:
        return None
    return f"must be a whole number of months from 1 to {MAX_TERM_MONTHS}"


def _rate_problem(annual_rate: Decimal) -> str | None:
    if not isinstance(annual_rate, Decimal) or not annual_rate.is_finite():
        return "must be a decimal number"
    if not 0 <= annual_rate <= MAX_ANNUAL_RATE:
        return f"must be from 0 to {MAX_ANNUAL_RATE} % a year"
    return None


def _raise_if_any(problems: list[tuple[str, str | None]], message: str) -> None:
    if found := [(field, problem) for field, problem in problems if problem]:
        raise InvalidArgument(found, message)


def _check_loan(schedule_type: str, loan_amount: Decimal, annual_rate: Decimal, term_months: int,
                interest_basis: str, payment_rounding: str) -> None:
    _raise_if_any([
        ("schedule_type", _choice_problem(schedule_type, SCHEDULE_TYPES)),
        ("loan_amount", _amount_problem(loan_amount)),
        ("annual_rate", _rate_problem(annual_rate)),
        ("term_months", _term_problem(term_months)),
        ("interest_basis", _choice_problem(interest_basis, INTEREST_BASES)),
        ("payment_rounding", _choice_problem(payment_rounding, PAYMENT_ROUNDINGS)),
    ], "loan has invalid fields")


def _charge_problems(charges: tuple[Charge, ...], disbursement_date: datetime.date) -> list[tuple[str, str | None]]:
    problems = []
    for index, charge in enumerate(charges):
        problems += [
            (f"charges[{index}].amount", _amount_problem(charge.amount)),
            (f"charges[{index}].kind", _choice_problem(charge.kind, CHARGE_KINDS)),
            (f"charges[{index}].paid_on", "must not be before the disbursement"
             if charge.paid_on is not None and charge.paid_on < disbursement_date else None),
        ]
    return problems


def _check_charges(charges: tuple[Charge, ...], disbursement_date: datetime.date) -> None:
    _raise_if_any(_charge_problems(charges, disbursement_date), "charges have invalid fields")


def _check_application(application: CreditApplication, policy: CreditPolicy) -> None:
    price_problem = _amount_problem(application.vehicle_price)
    down_problem = _amount_problem(application.down_payment, zero_allowed=True)
    if not (price_problem or down_problem) and application.down_payment >= application.vehicle_price:
        down_problem = "must be less than the vehicle price"
    lowest = policy.bands[0].lowest_score
    _raise_if_any([
        ("vehicle_price", price_problem),
        ("down_payment", down_problem),
        ("term_months", _term_problem(application.term_months) or (
            None if policy.shortest_term_months <= application.term_months <= policy.longest_term_months
            else f"must be from {policy.shortest_term_months} to {policy.longest_term_months} months")),
        ("schedule_type", _choice_problem(application.schedule_type, SCHEDULE_TYPES)),
        ("monthly_income", _amount_problem(application.monthly_income)),
        ("existing_monthly_payments", _amount_problem(application.existing_monthly_payments, zero_allowed=True)),
        ("credit_score", None if lowest <= application.credit_score <= policy.highest_score
         else f"must be from {lowest} to {policy.highest_score}"),
        ("age", None if 0 <= application.age <= 130 else "must be from 0 to 130 years"),
        *_charge_problems(application.charges, application.disbursement_date),
    ], "credit application has invalid fields")
