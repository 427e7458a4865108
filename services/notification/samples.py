"""Sample data for every kind of message, in the shape its templates read: what staff see when
they preview a template (`:render` with sample data) before a customer ever receives it, and
what the tests render every template with.

Amounts are Decimal roubles, moments aware datetimes shown in the `time_zone` the data names,
days plain dates, products and a loan's refusal reasons codes (named by templates.TERMS). Each
sample carries exactly what its kind's templates use (both languages use the same data),
besides `action_url`, the link of the email's button. The people, cars and places are made up.
"""
import datetime
from decimal import Decimal

_MOSCOW = "Europe/Moscow"
_UTC = datetime.timezone.utc
_SITE = "https://autosalon.example"

_ORDER = {"number": "A-1024", "vehicle": "Lada Vesta SW Cross 2025"}
_BOOKING = {
    "job": "Замена масла и фильтров", "branch": "Автосалон на Ленинском", "address": "Москва, Ленинский проспект, 90",
    "start": datetime.datetime(2026, 12, 3, 6, 30, tzinfo=_UTC), "time_zone": _MOSCOW, "vin": "XTAGFK330RY123456",
}
_BOOKING_URL = f"{_SITE}/bookings/b-7f3a2c"
_ACCOUNT = {"email": "ivan.petrov@example.ru", "time_zone": _MOSCOW}

SAMPLES: dict[str, dict] = {
    "welcome": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/cars",
    },
    "order_confirmed": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/orders/A-1024/pay",
        "order": {**_ORDER, "total": Decimal("2450000.00")},
    },
    "order_paid": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/orders/A-1024",
        "order": _ORDER, "payment": {"amount": Decimal("2450000.00")},
    },
    "order_completed": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/orders/A-1024",
        "order": _ORDER,
    },
    "order_cancelled": {
        "customer_name": "Ольга Смирнова", "action_url": f"{_SITE}/orders/A-1031",
        "order": {"number": "A-1031", "vehicle": "Haval Jolion 2024", "reason": "по вашей просьбе"},
    },
    "payment_failed": {
        "customer_name": "Ольга Смирнова", "action_url": f"{_SITE}/orders/A-1031/pay",
        "order": {"number": "A-1031"},
        "payment": {"amount": Decimal("2199000.00"), "reason": "банк отклонил платёж"},
    },
    "payment_refunded": {
        "customer_name": "Ольга Смирнова", "action_url": f"{_SITE}/orders/A-1031",
        "order": {"number": "A-1031"},
        "payment": {"amount": Decimal("50000.00")},
    },
    "loan_approved": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/loans/L-2026-0457",
        "application": {"number": "L-2026-0457", "loan_amount": Decimal("1800000.00"),
                        "monthly_payment": Decimal("42354.18"), "annual_rate": "14.5", "term_months": 60},
    },
    "loan_rejected": {
        "customer_name": "Сергей Кузнецов", "action_url": f"{_SITE}/loans/L-2026-0462",
        "application": {"number": "L-2026-0462", "reasons": ["pti_above_limit", "full_cost_above_cap"], "note": ""},
    },
    "policy_issued": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/policies/KS-2026-000311",
        "policy": {"number": "KS-2026-000311", "product": "kasko", "premium": Decimal("87450.00"),
                   "starts_on": datetime.date(2026, 12, 1), "ends_on": datetime.date(2027, 11, 30)},
    },
    "policy_expiring": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/policies/KS-2025-000127/renew",
        "policy": {"number": "KS-2025-000127", "product": "kasko",
                   "ends_on": datetime.date(2026, 12, 31)},
    },
    "booking_created": {
        "customer_name": "Анна Волкова", "action_url": _BOOKING_URL, "booking": _BOOKING,
    },
    "booking_rescheduled": {
        "customer_name": "Анна Волкова", "action_url": _BOOKING_URL,
        "booking": {**_BOOKING, "start": datetime.datetime(2026, 12, 4, 11, 0, tzinfo=_UTC)},
    },
    "booking_cancelled": {
        "customer_name": "Анна Волкова", "action_url": f"{_SITE}/bookings/new",
        "booking": {**_BOOKING, "reason": "мастер заболел, приносим извинения"},
    },
    "booking_reminder": {
        "customer_name": "Анна Волкова", "action_url": _BOOKING_URL,
        "booking": {**_BOOKING, "job": "Тест-драйв", "vin": "LGWEF6A59RH654321",
                    "start": datetime.datetime(2026, 12, 5, 8, 0, tzinfo=_UTC)},
    },
    "email_verification": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/account/verify-email?token=sample-token",
        "account": {**_ACCOUNT, "expires": datetime.datetime(2026, 12, 5, 6, 30, tzinfo=_UTC)},
    },
    "password_reset": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/account/reset-password?token=sample-token",
        "account": {**_ACCOUNT, "expires": datetime.datetime(2026, 12, 3, 7, 0, tzinfo=_UTC)},
    },
    "password_changed": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/account/forgot-password",
        "account": {**_ACCOUNT, "changed_at": datetime.datetime(2026, 12, 3, 6, 41, tzinfo=_UTC)},
    },
    "email_changed": {
        "customer_name": "Иван Петров", "action_url": f"{_SITE}/contacts",
        "account": {**_ACCOUNT, "email": "i.petrov@example.com", "previous_email": "ivan.petrov@example.ru",
                    "changed_at": datetime.datetime(2026, 12, 3, 6, 45, tzinfo=_UTC)},
    },
}
