"""inventory: the vehicles in stock, their reservations for orders, and a read copy of the catalogue."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class InventorySettings:
    saga_hold_seconds: int = setting(1800, "AUTOSALON_SAGA_HOLD_SECONDS",
                                     "how long a confirmed order holds its car unpaid before the reservation "
                                     "expires and the order is cancelled", minimum=60, hot=True,
                                     category="tariffs")
    reservation_sweep_seconds: float = setting(5.0, "AUTOSALON_RESERVATION_SWEEP_SECONDS",
                                               "how often expired reservations are released", minimum=0.1,
                                               hot=True)


# Two instances: on the purchase path, one may be restarting while the other serves.
SERVICE = Service("inventory", instances=2, core_weight=2.8, settings=InventorySettings,
                  demo="services.inventory.demo:load_stock")
