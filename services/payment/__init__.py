"""payment: payments for orders, card charges through the gateway behind a breaker, and the
queue that waits out the gateway's outages."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import most_watches_setting, setting, watch_seconds_setting


@dataclass(frozen=True)
class PaymentSettings:
    gateway_addr: str = setting("127.0.0.1:7101", "AUTOSALON_GATEWAY_ADDR", "the payment gateway (its emulator here)")
    gateway_breaker_failures: int = setting(3, "AUTOSALON_GATEWAY_BREAKER_FAILURES",
                                            "gateway outages in a row that open its breaker", minimum=1, hot=True)
    gateway_breaker_reset_seconds: float = setting(5.0, "AUTOSALON_GATEWAY_BREAKER_RESET_SECONDS",
                                                   "how long the gateway's breaker stays open before one call "
                                                   "tries it again", minimum=0.1, hot=True)
    queue_seconds: float = setting(1.0, "AUTOSALON_PAYMENT_QUEUE_SECONDS",
                                   "how often the queue of card payments waiting for the gateway is worked",
                                   minimum=0.05, hot=True)
    orphan_seconds: float = setting(900.0, "AUTOSALON_PAYMENT_ORPHAN_SECONDS",
                                    "after this, a queued card payment whose number was lost in a restart is "
                                    "cancelled, uncharged", minimum=1)
    watch_seconds: float = watch_seconds_setting("payment")
    most_watches: int = most_watches_setting("payment")


# Two instances: on the purchase path, one may be restarting while the other serves.
SERVICE = Service("payment", instances=2, core_weight=3.0, settings=PaymentSettings)
