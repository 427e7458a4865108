"""pricing: discounts and promo codes, and the price of a vehicle as a breakdown."""
from services.kit.manifest import Service

SERVICE = Service("pricing", core_weight=1.2)
