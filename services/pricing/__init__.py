"""pricing: discounts and promo codes, and the price of a vehicle as a breakdown."""
from services.kit.manifest import Service

# Two instances: on the purchase path, one may be restarting while the other serves.
SERVICE = Service("pricing", instances=2, core_weight=1.2)
