"""insurance's pricing and policy rules: OSAGO, KASKO and loan cover quotes, refunds, claim limits.

Pure functions of their inputs (no clock, no I/O), from the domain reference insurance.md
(the § numbers below are its sections):

- OSAGO (§1): T = TB × KT × KBM × KVS × KO × KM × KS × KN × KPr, at most 3 × TB × KT (5 × when KN
  applies), priced with the TariffVersion in force on the conclusion date.
- KASKO (§2): P = SI × BaseRate × K_driver × K_deductible × K_antitheft × K_region × K_claims, from an
  editable model holding the reference's illustrative values.
- Life and health cover sold with a car loan (§4): loan × annual rate × term in years.
- Refunds (§3, §4): the unexpired days' share of the premium, in full within a cooling-off period.
- Claims (§3): each approval at most cover − deductible, all of them together at most the cover.

Money is Decimal throughout. A premium is the exact product of its factors (capped, for OSAGO),
rounded once, half-up to the kopeck, at the very end; a refund likewise. The reference found no
official rounding rule. Claim amounts need no rounding: they are sums and differences of kopecks.
Every quote returns each factor it used by name, and the tariff it was priced with.

Bad input raises InvalidArgument naming every offending field by its API name. Points the reference
marks [unconfirmed] or [conflict] are parameters holding its default (tariff data, fields of frozen
dataclasses), so the service can make them settings.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.insurance import osago_tables as tables
from services.kit.errors import InvalidArgument

KOPECK = Decimal("0.01")
ONE = Decimal(1)

OSAGO, KASKO, LIFE, HEALTH = "osago", "kasko", "life", "health"
INDIVIDUAL, LEGAL_ENTITY = "individual", "legal_entity"
# A category B licence is issued at 18; the KVS table's rows from 16 are for motorcycles.
MIN_DRIVER_AGE = 18
# Experience counts from the first licence of any category, issued at 16 at the earliest.
FIRST_LICENCE_AGE = 16
NO_HISTORY_KBM_CLASS = "3"


def _kopecks(amount: Decimal) -> Decimal:
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


def _money_problem(amount: Decimal, *, positive: bool = False) -> str:
    """What is wrong with an amount of money, or "" when nothing is."""
    if not amount.is_finite():
        return "must be a number"
    if positive and amount <= 0:
        return "must be more than 0"
    if amount < 0:
        return "must not be negative"
    if amount != amount.quantize(KOPECK):
        return "at most two digits after the point"
    return ""


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise InvalidArgument(problems)


@dataclass(frozen=True)
class Driver:
    age: int
    experience_years: int  # full years since the first licence
    kbm_class: str = NO_HISTORY_KBM_CLASS  # OSAGO only: "M", "0" … "13"


def _driver_problems(drivers: Sequence[Driver], unlimited_drivers: bool,
                     kbm_classes: Mapping[str, Decimal] | None = None) -> list[tuple[str, str]]:
    if unlimited_drivers and drivers:
        return [("drivers", "a policy for any driver names none")]
    if not unlimited_drivers and not drivers:
        return [("drivers", "name at least one driver, or choose unlimited drivers")]
    problems = []
    for index, driver in enumerate(drivers):
        field = f"drivers[{index}]"
        if driver.age < MIN_DRIVER_AGE:
            problems.append((f"{field}.age", f"a driver is at least {MIN_DRIVER_AGE}"))
        most = max(driver.age - FIRST_LICENCE_AGE, 0)
        if not 0 <= driver.experience_years <= most:
            problems.append((f"{field}.experience_years",
                             f"from 0 to the age less {FIRST_LICENCE_AGE} (at most {most} at {driver.age})"))
        if kbm_classes is not None and driver.kbm_class not in kbm_classes:
            problems.append((f"{field}.kbm_class", f"one of {', '.join(kbm_classes)}"))
    return problems


# OSAGO (§1)

@dataclass(frozen=True)
class TariffVersion:
    """One directive's OSAGO tariff, plain data, in force from `effective_from` until the next.

    A later directive is one more TariffVersion in the list the service prices with."""
    id: str
    effective_from: date
    # TB corridor (lowest, highest) by (vehicle category, owner); the insurer picks a rate inside.
    base_rates: Mapping[tuple[str, str], tuple[Decimal, Decimal]]
    territory: Mapping[str, Decimal]  # KT by territory code
    bonus_malus: Mapping[str, Decimal]  # KBM by class
    experience_from: tuple[int, ...]  # KVS columns: the years of experience each starts at
    age_experience: Mapping[int, tuple[Decimal | None, ...]]  # KVS rows by the age each starts at
    power: tuple[tuple[Decimal | None, Decimal], ...]  # KM: (hp up to and including, factor)
    months_of_use: Mapping[int, Decimal]  # KS
    unlimited_drivers: Mapping[str, Decimal]  # KO by owner
    limited_drivers: Decimal = Decimal("1.00")  # KO of a named list
    # KN for a gross breach of art. 9(3); whether 6007-U kept it is [unconfirmed].
    gross_breach: Decimal = Decimal("1.5")
    # KPr for a trailer existed earlier; whether 6007-U kept it is [unconfirmed]: 1.0 changes nothing.
    trailer: Decimal = Decimal("1.0")
    cap: Decimal = Decimal(3)  # T ≤ cap × TB × KT (40-FZ art. 9)
    cap_with_gross_breach: Decimal = Decimal(5)  # recalled, not re-read [unconfirmed]


_TABLES_SINCE_2022 = dict(
    bonus_malus=tables.BONUS_MALUS, experience_from=tables.EXPERIENCE_FROM,
    age_experience=tables.AGE_EXPERIENCE, power=tables.POWER, months_of_use=tables.MONTHS_OF_USE,
    unlimited_drivers=tables.UNLIMITED_DRIVERS,
)
OSAGO_TARIFFS = (
    TariffVersion("osago-2022-09-13", date(2022, 9, 13), tables.BASE_RATES_2022_09_13,
                  tables.TERRITORY_2022_09_13, **_TABLES_SINCE_2022),
    TariffVersion("osago-2025-12-09", date(2025, 12, 9), tables.BASE_RATES_2025_12_09,
                  tables.TERRITORY_2025_12_09, **_TABLES_SINCE_2022),
)


OSAGO_VERSION_IDS = tuple(version.id for version in OSAGO_TARIFFS)


def versions_up_to(latest: str) -> tuple[TariffVersion, ...]:
    """The OSAGO versions up to `latest` (all of them for ""): a later one is held back, its
    date notwithstanding, until the insurer prices with it."""
    if not latest:
        return OSAGO_TARIFFS
    return OSAGO_TARIFFS[:OSAGO_VERSION_IDS.index(latest) + 1]


def tariff_in_force(versions: Sequence[TariffVersion], on: date) -> TariffVersion:
    """The latest version whose effective date is `on` or before."""
    in_force = [version for version in versions if version.effective_from <= on]
    if not in_force:
        earliest = min((version.effective_from for version in versions), default=None)
        since = f"; the earliest takes effect {earliest.isoformat()}" if earliest else ""
        raise InvalidArgument({"conclusion_date": f"no OSAGO tariff is in force on {on.isoformat()}{since}"})
    return max(in_force, key=lambda version: version.effective_from)


@dataclass(frozen=True)
class OsagoRequest:
    conclusion_date: date  # picks the tariff version
    vehicle_category: str  # "B" (B/BE) or "B_TAXI"
    territory: str  # of the owner's registration, e.g. "moscow"
    base_rate: Decimal  # TB the insurer chose inside the corridor
    power_hp: Decimal
    drivers: tuple[Driver, ...] = ()
    unlimited_drivers: bool = False
    owner: str = INDIVIDUAL
    # An unlimited policy takes the owner's KBM [unconfirmed].
    owner_kbm_class: str = NO_HISTORY_KBM_CLASS
    months_of_use: int = 12
    gross_breach: bool = False  # KN: the insurer found a breach listed in art. 9(3)
    with_trailer: bool = False


@dataclass(frozen=True)
class OsagoQuote:
    tariff_version: str
    # TB, KT, KBM, KVS, KO, KM, KS, KN, KPr as used; 1 for a factor that does not apply.
    factors: dict[str, Decimal]
    unrounded: Decimal  # the exact product, before the cap
    cap: Decimal  # to the kopeck
    capped: bool
    premium: Decimal


def horsepower(kilowatts: Decimal) -> Decimal:
    return kilowatts * Decimal("1.36")


def _band(starts: Sequence[int], value: int) -> int:
    """The index of the last band starting at `value` or below."""
    return max(index for index, start in enumerate(starts) if start <= value)


def _age_experience(tariff: TariffVersion, driver: Driver) -> Decimal | None:
    ages = sorted(tariff.age_experience)
    row = tariff.age_experience[ages[_band(ages, driver.age)]]
    return row[_band(tariff.experience_from, driver.experience_years)]


def _power(tariff: TariffVersion, power_hp: Decimal) -> Decimal:
    return next(factor for most, factor in tariff.power if most is None or power_hp <= most)


def osago_premium(factors: Mapping[str, Decimal], tariff: TariffVersion) -> OsagoQuote:
    """The premium of the named factors: their product, at most cap × TB × KT, where the cap is
    the higher one when KN is above 1; rounded once to the kopeck."""
    unrounded = ONE
    for value in factors.values():
        unrounded *= value
    multiplier = tariff.cap_with_gross_breach if factors.get("KN", ONE) > ONE else tariff.cap
    cap = multiplier * factors["TB"] * factors["KT"]
    return OsagoQuote(
        tariff_version=tariff.id, factors=dict(factors), unrounded=unrounded, cap=_kopecks(cap),
        capped=unrounded > cap, premium=_kopecks(min(unrounded, cap)),
    )


def _osago_problems(request: OsagoRequest, tariff: TariffVersion) -> list[tuple[str, str]]:
    problems = []
    categories = sorted({category for category, _ in tariff.base_rates})
    corridor = tariff.base_rates.get((request.vehicle_category, request.owner))
    if request.owner not in (INDIVIDUAL, LEGAL_ENTITY):
        problems.append(("owner", f"must be {INDIVIDUAL} or {LEGAL_ENTITY}"))
    elif request.vehicle_category not in categories:
        problems.append(("vehicle_category", f"unknown; {tariff.id} prices {', '.join(categories)}"))
    elif corridor is None:
        problems.append(("vehicle_category",
                         f"{tariff.id} has no base rate for {request.vehicle_category} owned by a {request.owner}"))
    elif rate_problem := _money_problem(request.base_rate, positive=True):
        problems.append(("base_rate", rate_problem))
    elif not corridor[0] <= request.base_rate <= corridor[1]:
        problems.append(("base_rate", f"must be within {corridor[0]}–{corridor[1]} for "
                                      f"{request.vehicle_category} in {tariff.id}"))
    if request.territory not in tariff.territory:
        problems.append(("territory", f"unknown in {tariff.id}; it knows {', '.join(sorted(tariff.territory))}"))
    if not (request.power_hp.is_finite() and request.power_hp > 0):
        problems.append(("power_hp", "must be more than 0"))
    if request.months_of_use not in tariff.months_of_use:
        problems.append(("months_of_use", f"from {min(tariff.months_of_use)} to {max(tariff.months_of_use)}"))
    if request.unlimited_drivers and request.owner_kbm_class not in tariff.bonus_malus:
        problems.append(("owner_kbm_class", f"one of {', '.join(tariff.bonus_malus)}"))
    driver_problems = _driver_problems(request.drivers, request.unlimited_drivers, tariff.bonus_malus)
    # The table may know no value where the age rule allows one (the table is data; the rule is not).
    if not driver_problems:
        driver_problems = [
            (f"drivers[{index}].experience_years", f"{tariff.id} has no KVS for this age and experience")
            for index, driver in enumerate(request.drivers) if _age_experience(tariff, driver) is None]
    return problems + driver_problems


def quote_osago(request: OsagoRequest, versions: Sequence[TariffVersion] = OSAGO_TARIFFS) -> OsagoQuote:
    """The OSAGO premium under the version in force on the conclusion date.

    A named list takes the highest KBM and the highest KVS among its drivers; an unlimited policy
    has no KVS and takes the owner's KBM [unconfirmed]."""
    tariff = tariff_in_force(versions, request.conclusion_date)
    _refuse(_osago_problems(request, tariff))
    if request.unlimited_drivers:
        kbm = tariff.bonus_malus[request.owner_kbm_class]
        kvs = ONE
        ko = tariff.unlimited_drivers[request.owner]
    else:
        kbm = max(tariff.bonus_malus[driver.kbm_class] for driver in request.drivers)
        kvs = max(_age_experience(tariff, driver) for driver in request.drivers)
        ko = tariff.limited_drivers
    return osago_premium({
        "TB": request.base_rate,
        "KT": tariff.territory[request.territory],
        "KBM": kbm,
        "KVS": kvs,
        "KO": ko,
        "KM": _power(tariff, request.power_hp),
        "KS": tariff.months_of_use[request.months_of_use],
        "KN": tariff.gross_breach if request.gross_breach else ONE,
        "KPr": tariff.trailer if request.with_trailer else ONE,
    }, tariff)


def next_kbm_class(current: str, at_fault_payouts: int,
                   matrix: Mapping[str, tuple[str, ...]] = tables.BONUS_MALUS_NEXT) -> str:
    """A driver's class from 1 April after a year with so many at-fault payouts (the 3384-U
    matrix, assumed unchanged [unconfirmed]); a driver without history starts in class 3."""
    problems = []
    if current not in matrix:
        problems.append(("kbm_class", f"one of {', '.join(matrix)}"))
    if at_fault_payouts < 0:
        problems.append(("at_fault_payouts", "must not be negative"))
    _refuse(problems)
    moves = matrix[current]
    return moves[min(at_fault_payouts, len(moves) - 1)]


# KASKO (§2)

MASS_MARKET, PREMIUM_MAKE = "mass_market", "premium"


@dataclass(frozen=True)
class KaskoTariff:
    """KASKO's factor model. No regulator sets it, so every value is data the service may replace;
    the built-in KASKO_TARIFF holds the reference's illustrative values, not market data."""
    id: str
    # BaseRate of a mass-market car: (vehicle age in years up to and including, rate); older: refer.
    base_rates: tuple[tuple[int, Decimal], ...]
    premium_make_loading: Decimal  # added to every band for premium or high-theft makes
    driver: Mapping[str, Decimal]  # K_driver by band; see _kasko_driver_band
    deductible: tuple[tuple[Decimal, Decimal], ...]  # K_deductible: (unconditional deductible from ₽, factor)
    anti_theft: Mapping[str, Decimal]
    region: Mapping[str, Decimal]
    claims: tuple[Decimal, ...]  # K_claims by last year's claims 0, 1, 2…; more: refer


KASKO_TARIFF = KaskoTariff(
    id="kasko-illustrative-2026",
    base_rates=((1, Decimal("0.045")), (3, Decimal("0.055")), (7, Decimal("0.065"))),
    premium_make_loading=Decimal("0.015"),
    driver={
        "under_23_or_under_3_years": Decimal("1.40"),
        "23_to_29": Decimal("1.10"),
        "30_to_59_with_5_years": Decimal("1.00"),
        # The reference is silent on 30–59 with 3–4 years: priced as the band below it.
        "30_to_59_under_5_years": Decimal("1.10"),
        "60_and_over": Decimal("1.10"),
        "unlimited": Decimal("1.30"),
    },
    deductible=(
        (Decimal("0"), Decimal("1.00")),
        (Decimal("15000"), Decimal("0.90")),
        (Decimal("30000"), Decimal("0.82")),
        (Decimal("50000"), Decimal("0.75")),
        (Decimal("100000"), Decimal("0.65")),
    ),
    anti_theft={"none": Decimal("1.10"), "alarm": Decimal("1.00"), "gps_tracker": Decimal("0.90")},
    region={"moscow": Decimal("1.20"), "saint_petersburg": Decimal("1.15"), "million_city": Decimal("1.05"),
            "other": Decimal("1.00")},
    claims=(Decimal("0.95"), Decimal("1.10"), Decimal("1.30")),
)


@dataclass(frozen=True)
class KaskoRequest:
    vehicle_value: Decimal  # the sum insured: the agreed value (a new car: its invoice)
    vehicle_age_years: int
    anti_theft: str  # "none", "alarm" or "gps_tracker"
    region: str  # "moscow", "saint_petersburg", "million_city" or "other"
    drivers: tuple[Driver, ...] = ()
    unlimited_drivers: bool = False
    make_group: str = MASS_MARKET
    # Unconditional; between the reference's steps it takes the factor of the step below.
    deductible: Decimal = Decimal(0)
    claims_last_year: int = 0


@dataclass(frozen=True)
class KaskoQuote:
    tariff: str
    sum_insured: Decimal
    factors: dict[str, Decimal]  # BaseRate, K_driver, K_deductible, K_antitheft, K_region, K_claims
    premium: Decimal


def _kasko_driver_band(driver: Driver) -> str:
    if driver.age < 23 or driver.experience_years < 3:
        return "under_23_or_under_3_years"
    if driver.age < 30:
        return "23_to_29"
    if driver.age >= 60:
        return "60_and_over"
    return "30_to_59_with_5_years" if driver.experience_years >= 5 else "30_to_59_under_5_years"


def _kasko_problems(request: KaskoRequest, tariff: KaskoTariff) -> list[tuple[str, str]]:
    problems = []
    value_problem = _money_problem(request.vehicle_value, positive=True)
    if value_problem:
        problems.append(("vehicle_value", value_problem))
    oldest = tariff.base_rates[-1][0]
    if request.vehicle_age_years < 0:
        problems.append(("vehicle_age_years", "must not be negative"))
    elif request.vehicle_age_years > oldest:
        problems.append(("vehicle_age_years", f"over {oldest} years: refer to an underwriter"))
    if request.make_group not in (MASS_MARKET, PREMIUM_MAKE):
        problems.append(("make_group", f"must be {MASS_MARKET} or {PREMIUM_MAKE}"))
    deductible_problem = _money_problem(request.deductible)
    if deductible_problem:
        problems.append(("deductible", deductible_problem))
    elif not value_problem and request.deductible >= request.vehicle_value:
        problems.append(("deductible", "must be less than the vehicle value"))
    if request.anti_theft not in tariff.anti_theft:
        problems.append(("anti_theft", f"one of {', '.join(tariff.anti_theft)}"))
    if request.region not in tariff.region:
        problems.append(("region", f"one of {', '.join(tariff.region)}"))
    if request.claims_last_year < 0:
        problems.append(("claims_last_year", "must not be negative"))
    elif request.claims_last_year >= len(tariff.claims):
        problems.append(("claims_last_year", f"{len(tariff.claims)} or more: refer to an underwriter"))
    return problems + _driver_problems(request.drivers, request.unlimited_drivers)


def quote_kasko(request: KaskoRequest, tariff: KaskoTariff = KASKO_TARIFF) -> KaskoQuote:
    """The KASKO premium; K_driver is the riskiest listed driver's, or the unlimited one's."""
    _refuse(_kasko_problems(request, tariff))
    base_rate = next(rate for oldest, rate in tariff.base_rates if request.vehicle_age_years <= oldest)
    if request.make_group == PREMIUM_MAKE:
        base_rate += tariff.premium_make_loading
    if request.unlimited_drivers:
        driver = tariff.driver["unlimited"]
    else:
        driver = max(tariff.driver[_kasko_driver_band(listed)] for listed in request.drivers)
    factors = {
        "BaseRate": base_rate,
        "K_driver": driver,
        "K_deductible": [factor for least, factor in tariff.deductible if least <= request.deductible][-1],
        "K_antitheft": tariff.anti_theft[request.anti_theft],
        "K_region": tariff.region[request.region],
        "K_claims": tariff.claims[request.claims_last_year],
    }
    premium = request.vehicle_value
    for value in factors.values():
        premium *= value
    return KaskoQuote(tariff=tariff.id, sum_insured=request.vehicle_value, factors=factors,
                      premium=_kopecks(premium))


# Life and health cover sold with a car loan (§4)

@dataclass(frozen=True)
class LoanCoverRates:
    """Annual premium rates as a share of the loan. [unconfirmed] demo defaults: the reference
    found no car-loan rate (one guide cites 0.3–1 % a year, for mortgages) and wants a setting."""
    life: Decimal = Decimal("0.010")
    health: Decimal = Decimal("0.005")


LOAN_COVER_RATES = LoanCoverRates()


@dataclass(frozen=True)
class LoanCoverQuote:
    product: str
    sum_insured: Decimal
    annual_rate: Decimal
    term_months: int
    premium: Decimal


def quote_loan_cover(product: str, loan_amount: Decimal, term_months: int,
                     rates: LoanCoverRates = LOAN_COVER_RATES) -> LoanCoverQuote:
    """Life or health cover for the whole loan over its whole term, paid at once: loan × annual
    rate × months / 12, rounded once. (Level cover: the reference also allows the outstanding debt
    as the sum insured; the loan amount is the simpler, and the customer's, reading.)"""
    problems = []
    if product not in (LIFE, HEALTH):
        problems.append(("product", f"must be {LIFE} or {HEALTH}"))
    amount_problem = _money_problem(loan_amount, positive=True)
    if amount_problem:
        problems.append(("loan_amount", amount_problem))
    if term_months < 1:
        problems.append(("term_months", "at least 1"))
    _refuse(problems)
    rate = rates.life if product == LIFE else rates.health
    return LoanCoverQuote(product=product, sum_insured=loan_amount, annual_rate=rate, term_months=term_months,
                          premium=_kopecks(loan_amount * rate * term_months / 12))


# Policy periods and refunds (§3, §4)

@dataclass(frozen=True)
class PolicyPeriod:
    starts_on: date
    ends_on: date  # the last day covered

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class RefundRules:
    """What a cancellation gives back: the unexpired days' share of the premium.

    Within `cooling_off_days` after the conclusion date, that share in full (all of the premium
    before the cover starts). Afterwards, that share less `retention` (a part of it; 1 keeps it
    all). Nothing after an insured event unless `refund_after_insured_event`."""
    cooling_off_days: int = 0
    retention: Decimal = Decimal(0)
    refund_after_insured_event: bool = False


# OSAGO's early termination (431-P; its grounds, recalled [unconfirmed], are the service's to
# check): pro rata, no cooling-off. Some sites still deduct 23 % [conflict]: the retention.
# 431-P makes the refund no matter what was claimed.
OSAGO_EARLY_TERMINATION = RefundRules(retention=Decimal(0), refund_after_insured_event=True)
# Voluntary cover (3854-U): 14 days of cooling-off; afterwards the contract's terms, which the
# reference leaves open: the Civil Code's default (art. 958(3)) keeps the premium, a setting.
KASKO_REFUSAL = RefundRules(cooling_off_days=14, retention=Decimal(1))
# Loan-linked cover: 30 days of cooling-off (since Jan 2024, per the press); refused later, the
# Civil Code's default as above; after the loan is repaid in full, pro rata (353-FZ art. 11(12)).
LOAN_COVER_REFUSAL = RefundRules(cooling_off_days=30, retention=Decimal(1))
LOAN_COVER_EARLY_REPAYMENT = RefundRules(cooling_off_days=30, retention=Decimal(0))


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    unexpired_days: int
    term_days: int
    cooling_off: bool


def cancellation_refund(premium: Decimal, period: PolicyPeriod, concluded_on: date, cancelled_on: date,
                        rules: RefundRules, insured_event: bool = False) -> Refund:
    """The refund when the cover ends at the start of `cancelled_on`, rounded once to the kopeck."""
    problems = []
    premium_problem = _money_problem(premium)
    if premium_problem:
        problems.append(("premium", premium_problem))
    if period.ends_on < period.starts_on:
        problems.append(("ends_on", "must not be before starts_on"))
    if cancelled_on < concluded_on:
        problems.append(("cancelled_on", f"must not be before the conclusion date {concluded_on.isoformat()}"))
    _refuse(problems)
    unexpired = max((period.ends_on - max(cancelled_on, period.starts_on)).days + 1, 0)
    cooling_off = rules.cooling_off_days > 0 and cancelled_on <= concluded_on + timedelta(days=rules.cooling_off_days)
    if insured_event and not rules.refund_after_insured_event:
        kept = ONE
    else:
        kept = Decimal(0) if cooling_off else rules.retention
    amount = _kopecks(premium * (ONE - kept) * unexpired / period.days)
    return Refund(amount=amount, unexpired_days=unexpired, term_days=period.days, cooling_off=cooling_off)


# Claims (§1.7, §3)

UNCONDITIONAL, CONDITIONAL = "unconditional", "conditional"


@dataclass(frozen=True)
class Cover:
    sum_insured: Decimal
    deductible: Decimal = Decimal(0)
    deductible_kind: str = UNCONDITIONAL
    # KASKO's sum insured is an aggregate that each payout shrinks; OSAGO's is per victim and event.
    aggregate: bool = True


# OSAGO's sums insured per victim and event (40-FZ art. 7); OSAGO has no deductible.
OSAGO_SUMS_INSURED = {"property": Decimal("400000"), "life_health": Decimal("500000")}


def osago_cover(harm: str) -> Cover:
    if harm not in OSAGO_SUMS_INSURED:
        raise InvalidArgument({"harm": f"one of {', '.join(OSAGO_SUMS_INSURED)}"})
    return Cover(sum_insured=OSAGO_SUMS_INSURED[harm], aggregate=False)


def approved_amount(cover: Cover, claimed_amount: Decimal, approved_before: Decimal = Decimal(0)) -> Decimal:
    """What a claim may be approved for, given what the policy approved before.

    Unconditional deductible: min(loss, what is left) − deductible, never below 0. Conditional:
    nothing up to the deductible, else the loss up to what is left. Either way at most
    cover − deductible (the reference's conditional formula would exceed it for a loss near the
    cover; the invariant wins), and all approvals together at most the cover."""
    problems = []
    for field, amount, positive in (("sum_insured", cover.sum_insured, True), ("deductible", cover.deductible, False),
                                    ("claimed_amount", claimed_amount, False),
                                    ("approved_before", approved_before, False)):
        problem = _money_problem(amount, positive=positive)
        if problem:
            problems.append((field, problem))
    if not problems and cover.deductible >= cover.sum_insured:
        problems.append(("deductible", "must be less than the sum insured"))
    if cover.deductible_kind not in (UNCONDITIONAL, CONDITIONAL):
        problems.append(("deductible_kind", f"must be {UNCONDITIONAL} or {CONDITIONAL}"))
    _refuse(problems)
    left = max(cover.sum_insured - approved_before, Decimal(0)) if cover.aggregate else cover.sum_insured
    if cover.deductible_kind == UNCONDITIONAL:
        return max(min(claimed_amount, left) - cover.deductible, Decimal(0))
    if claimed_amount <= cover.deductible:
        return Decimal(0)
    return min(claimed_amount, left, cover.sum_insured - cover.deductible)


def check_incident_date(period: PolicyPeriod, incident_date: date) -> None:
    """A claim's incident falls inside the period the cover ran (for a policy ended early, the
    period up to the day before it ended)."""
    if not period.covers(incident_date):
        raise InvalidArgument({"incident_date": f"{incident_date.isoformat()} is outside the policy period "
                                                f"{period.starts_on.isoformat()} to {period.ends_on.isoformat()}"})
