"""notification: turns the mesh's events into messages (email over SMTP, SMS and push through
their providers) from templates, by each customer's preferences, each recorded and sent once.
The templates (listed and previewed by staff), the preferences, the contacts kept from auth's
account events and CRM's profiles, and the messages: an account's (welcome, its links, changes
to its password and address), an order's steps, a payment's failure or refund, a loan's
decision, a policy issued or ending, a workshop booking's; each sent with retries."""
from dataclasses import dataclass

from services.kit.manifest import Service
from services.kit.settings import setting


@dataclass(frozen=True)
class NotificationSettings:
    smtp_addr: str = setting("127.0.0.1:1025", "AUTOSALON_SMTP_ADDR",
                             "the mail relay, host:port (the mesh's Mailpit here; a real relay in a deployment)")
    smtp_starttls: bool = setting(False, "AUTOSALON_SMTP_STARTTLS", "whether to secure the relay's connection")
    smtp_user: str = setting("", "AUTOSALON_SMTP_USER", "the relay's login (empty: none)")
    smtp_password: str = setting("", "AUTOSALON_SMTP_PASSWORD", "that login's password", secret=True)
    mail_from: str = setting("Autosalon <no-reply@autosalon.local>", "AUTOSALON_MAIL_FROM", "the sender of every email")
    public_url: str = setting("http://127.0.0.1:8080", "AUTOSALON_PUBLIC_URL",
                              "where customers reach the dealership's pages: the links in messages start with it")
    time_zone: str = setting("Europe/Moscow", "AUTOSALON_NOTIFICATION_TIME_ZONE",
                             "the zone of the times in account messages (a booking's are in its branch's)")
    sms_addr: str = setting("127.0.0.1:7104", "AUTOSALON_SMS_ADDR", "the SMS provider (its emulator here)")
    push_addr: str = setting("127.0.0.1:7105", "AUTOSALON_PUSH_ADDR", "the push provider (its emulator here)")
    breaker_failures: int = setting(3, "AUTOSALON_NOTIFICATION_BREAKER_FAILURES",
                                    "a provider's outages in a row that open its breaker", minimum=1)
    breaker_reset_seconds: float = setting(5.0, "AUTOSALON_NOTIFICATION_BREAKER_RESET_SECONDS",
                                           "how long a provider's breaker stays open before one call tries it",
                                           minimum=0.1)
    send_seconds: float = setting(0.5, "AUTOSALON_NOTIFICATION_SEND_SECONDS", "how often pending messages are sent",
                                  minimum=0.05)
    retry_seconds: float = setting(2.0, "AUTOSALON_NOTIFICATION_RETRY_SECONDS",
                                   "the first retry's wait; each next one doubles, with jitter", minimum=0.1,
                                   hot=True)
    max_attempts: int = setting(8, "AUTOSALON_NOTIFICATION_MAX_ATTEMPTS",
                                "attempts before a message is given up as failed", minimum=1, maximum=50, hot=True)
    interrupted_seconds: float = setting(60.0, "AUTOSALON_NOTIFICATION_INTERRUPTED_SECONDS",
                                         "how long a message may stay sending before it is taken as left by an "
                                         "instance that stopped mid-send", minimum=1.0, hot=True)


SERVICE = Service("notification", core_weight=0.1, settings=NotificationSettings)
