"""insurance: OSAGO, KASKO, life and health quotes priced with versioned tariffs; policies bought
through payment and issued by the insurer (behind a breaker); claims on them."""
from dataclasses import dataclass
from decimal import Decimal

from services.kit.manifest import Service
from services.kit.settings import setting

from .tariffs import OSAGO_VERSION_IDS


@dataclass(frozen=True)
class InsuranceSettings:
    quote_validity_days: int = setting(30, "AUTOSALON_INSURANCE_QUOTE_VALIDITY_DAYS",
                                       "how many days a saved quote's price holds", minimum=1, hot=True)
    osago_base_rate: Decimal = setting(
        Decimal("0"), "AUTOSALON_INSURANCE_OSAGO_BASE_RATE",
        "the insurer's OSAGO base rate (TB) in roubles, within each version's corridor (0: the corridor's top)",
        minimum=0, hot=True, category="tariffs")
    osago_latest_version: str = setting(
        "", "AUTOSALON_INSURANCE_OSAGO_LATEST_VERSION",
        "the newest OSAGO tariff version quotes may use (empty: every version, each from its effective date); "
        "naming an earlier one holds the later ones back", choices=("", *OSAGO_VERSION_IDS), hot=True,
        category="tariffs")
    life_rate: Decimal = setting(Decimal("0.010"), "AUTOSALON_INSURANCE_LIFE_RATE",
                                 "life cover's annual premium as a share of the loan [unconfirmed demo rate]",
                                 minimum=0, maximum=1, hot=True, category="tariffs")
    health_rate: Decimal = setting(Decimal("0.005"), "AUTOSALON_INSURANCE_HEALTH_RATE",
                                   "health cover's annual premium as a share of the loan [unconfirmed demo rate]",
                                   minimum=0, maximum=1, hot=True, category="tariffs")

    insurer_addr: str = setting("127.0.0.1:7103", "AUTOSALON_INSURER_ADDR",
                                "the insurance company (its emulator here)")
    insurer_breaker_failures: int = setting(3, "AUTOSALON_INSURER_BREAKER_FAILURES",
                                            "insurer outages in a row that open its breaker", minimum=1)
    insurer_breaker_reset_seconds: float = setting(5.0, "AUTOSALON_INSURER_BREAKER_RESET_SECONDS",
                                                   "how long the insurer's breaker stays open before one call "
                                                   "tries it again", minimum=0.1)
    schedule_seconds: float = setting(1.0, "AUTOSALON_INSURANCE_SCHEDULE_SECONDS",
                                      "how often purchased policies are issued, and policies activated and expired",
                                      minimum=0.05)
    expiry_notice_days: int = setting(30, "AUTOSALON_INSURANCE_EXPIRY_NOTICE_DAYS",
                                      "how many days before an active policy's last day its holder is told that it "
                                      "ends (policy.expiring, once a policy)", minimum=1, maximum=365, hot=True)


SERVICE = Service("insurance", core_weight=0.1, settings=InsuranceSettings)
