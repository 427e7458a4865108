"""sales: event-sourced sale orders, from draft to hand-over, and the purchase saga's bookkeeping."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import most_watches_setting, setting, watch_seconds_setting


@dataclass(frozen=True)
class SalesSettings:
    most_held: int = setting(2, "AUTOSALON_SALES_MOST_HELD",
                             "confirmed orders a customer may leave unpaid at once (each holds a car); "
                             "one more is refused (409)", minimum=1)
    watch_seconds: float = watch_seconds_setting("sales")
    most_watches: int = most_watches_setting("sales")


# Two instances: on the purchase path, one may be restarting while the other serves.
SERVICE = Service("sales", instances=2, core_weight=6.5, settings=SalesSettings)
