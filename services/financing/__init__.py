"""financing: the loan calculator, loan applications and their credit decision, with the bank's
credit reports behind a breaker."""
from dataclasses import dataclass
from decimal import Decimal

from services.kit.manifest import Service
from services.kit.settings import setting

from . import loans


@dataclass(frozen=True)
class FinancingSettings:
    bank_addr: str = setting("127.0.0.1:7102", "AUTOSALON_BANK_ADDR", "the bank's credit reports (its emulator here)")
    bank_breaker_failures: int = setting(3, "AUTOSALON_BANK_BREAKER_FAILURES",
                                         "bank outages in a row that open its breaker", minimum=1)
    bank_breaker_reset_seconds: float = setting(5.0, "AUTOSALON_BANK_BREAKER_RESET_SECONDS",
                                                "how long the bank's breaker stays open before one call tries "
                                                "it again", minimum=0.1)
    check_seconds: float = setting(0.5, "AUTOSALON_FINANCING_CHECK_SECONDS",
                                   "how often submitted applications are sent to the bank", minimum=0.05)
    base_rate: Decimal = setting(Decimal("12"), "AUTOSALON_FINANCING_BASE_RATE",
                                 "the base annual rate, per cent, before a score band's add-on",
                                 minimum=0, maximum=100, hot=True, category="tariffs")
    average_market_full_cost: Decimal = setting(
        Decimal("13.8"), "AUTOSALON_FINANCING_AVERAGE_FULL_COST",
        "the Bank of Russia's average ПСК for car loans this quarter, per cent: a loan's may exceed it by a "
        "third at most [unconfirmed: the reference's August 2025 new-car figure]", minimum=0, maximum=100,
        hot=True, category="tariffs")
    interest_basis: str = setting(
        loans.MONTHLY, "AUTOSALON_FINANCING_INTEREST_BASIS",
        "a month's interest: 1/12 of the annual rate, or by its actual days (d/365 or d/366) [unconfirmed "
        "which one lenders use]", choices=loans.INTEREST_BASES)
    payment_rounding: str = setting(
        loans.HALF_UP_KOPECK, "AUTOSALON_FINANCING_PAYMENT_ROUNDING",
        "how an annuity payment is rounded [unconfirmed]", choices=tuple(loans.PAYMENT_ROUNDINGS))


# Two instances: the public calculator is the heaviest arithmetic behind the edge.
SERVICE = Service("financing", instances=2, core_weight=0.1, settings=FinancingSettings)
