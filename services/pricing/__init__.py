"""pricing: discounts and promo codes, and the price of a vehicle as a breakdown."""
from services.kit.manifest import Service

# Two instances: on the purchase path, one may be restarting while the other serves.
# Its seed adds the showroom's promo codes (demo.py), the ones the README's examples use.
SERVICE = Service("pricing", instances=2, core_weight=1.2, seed="services.pricing.demo:load_promo_codes")
