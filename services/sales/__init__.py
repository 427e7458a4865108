"""sales: event-sourced sale orders, from draft to hand-over, and the purchase saga's bookkeeping."""
from services.kit.manifest import Service

SERVICE = Service("sales", core_weight=6.5)
