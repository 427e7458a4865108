"""booking: the workshop's mechanics, job types, free slots and bookings, and test drives of the
cars in stock, on schedules the database enforces."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class BookingSettings:
    reminder_lead_minutes: int = setting(1440, "AUTOSALON_BOOKING_REMINDER_LEAD_MINUTES",
                                         "how long before a booking its reminder is announced (once)",
                                         minimum=1, maximum=20160, hot=True)
    reminder_seconds: float = setting(1.0, "AUTOSALON_BOOKING_REMINDER_SECONDS",
                                      "how often bookings are checked for reminders due", minimum=0.05)
    branch_cache_seconds: float = setting(30.0, "AUTOSALON_BOOKING_BRANCH_CACHE_SECONDS",
                                          "how long a branch read from config is kept (config's branch events "
                                          "evict it sooner)", minimum=0)


# Two instances: the free slots are the public read with the most arithmetic behind it.
SERVICE = Service("booking", instances=2, core_weight=0.1, settings=BookingSettings, seed="services.booking.seed:open_workshop")
