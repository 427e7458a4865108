"""insurance: OSAGO, KASKO, life and health quotes, priced with versioned tariffs."""
from dataclasses import dataclass
from decimal import Decimal

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class InsuranceSettings:
    quote_validity_days: int = setting(30, "AUTOSALON_INSURANCE_QUOTE_VALIDITY_DAYS",
                                       "how many days a saved quote's price holds", minimum=1)
    osago_base_rate: Decimal = setting(
        Decimal("0"), "AUTOSALON_INSURANCE_OSAGO_BASE_RATE",
        "the insurer's OSAGO base rate (TB) in roubles, within each version's corridor (0: the corridor's top)",
        minimum=0)
    life_rate: Decimal = setting(Decimal("0.010"), "AUTOSALON_INSURANCE_LIFE_RATE",
                                 "life cover's annual premium as a share of the loan [unconfirmed demo rate]",
                                 minimum=0, maximum=1)
    health_rate: Decimal = setting(Decimal("0.005"), "AUTOSALON_INSURANCE_HEALTH_RATE",
                                   "health cover's annual premium as a share of the loan [unconfirmed demo rate]",
                                   minimum=0, maximum=1)


SERVICE = Service("insurance", core_weight=0.1, settings=InsuranceSettings)
