"""The messages' templates: one Jinja2 file a kind and language, `templates/<kind>.<language>.j2`,
whose blocks are the parts of every channel's message:

    subject, text      the email's subject and plain-text body (paragraphs split by blank lines)
    sms                the SMS
    push_title, push_body
    action             optional: the label of the email's button to `action_url`

The email's HTML part is the text's paragraphs, escaped, in one layout (`layout.html.j2`,
autoescaped), so the two parts never say different things. Amounts are formatted for the
language ("2 450 000,00 ₽" / "RUB 2,450,000.00"), so are dates and times (in the zone the data
names), and codes get their names (`term`: a product, a loan's refusal). A variable the template needs and the data lacks is an InvalidArgument naming it, never
an empty gap in a customer's message. Pure: no I/O beyond reading the template files.
"""
import datetime
import pathlib
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import jinja2

from services.kit.errors import InvalidArgument

FOLDER = pathlib.Path(__file__).parent / "templates"
LANGUAGES = ("ru", "en")
KINDS = (
    "welcome", "order_confirmed", "order_paid", "order_completed", "order_cancelled", "payment_failed",
    "payment_refunded", "loan_approved", "loan_rejected", "policy_issued", "policy_expiring", "booking_created",
    "booking_rescheduled", "booking_cancelled", "booking_reminder", "email_verification", "password_reset",
    "password_changed", "email_changed",
)
PARTS = ("subject", "text", "sms", "push_title", "push_body")
_MONTHS = {
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
# What a code in the data is called in each language: `term("product", "kasko")` in a template.
TERMS = {
    "ru": {
        "product": {"osago": "ОСАГО", "kasko": "КАСКО", "life": "Страхование жизни", "health": "Страхование здоровья"},
        "loan_reason": {
            "overdue_debt": "Есть просроченная задолженность по другим кредитам",
            "age_outside_policy": "Возраст заёмщика на конец срока кредита вне условий банка",
            "score_very_poor": "Недостаточный кредитный рейтинг",
            "score_poor": "Недостаточный кредитный рейтинг для этих условий",
            "pti_high_score_too_low": "Платежи по кредитам составили бы слишком большую долю дохода "
                                      "при вашем кредитном рейтинге",
            "pti_above_limit": "Платежи по кредитам превысили бы допустимую долю дохода",
            "full_cost_above_cap": "Полная стоимость кредита превысила бы предельное значение",
        },
    },
    "en": {
        "product": {"osago": "OSAGO (third-party liability)", "kasko": "KASKO (own damage)", "life": "Life cover",
                    "health": "Health cover"},
        "loan_reason": {
            "overdue_debt": "There is overdue debt on other loans",
            "age_outside_policy": "The borrower's age at the end of the term is outside the bank's terms",
            "score_very_poor": "The credit score is too low",
            "score_poor": "The credit score is too low for these terms",
            "pti_high_score_too_low": "Loan payments would take too large a share of the income for the credit "
                                      "score",
            "pti_above_limit": "Loan payments would exceed the allowed share of the income",
            "full_cost_above_cap": "The loan's full cost would exceed the legal cap",
        },
    },
}
_NBSP = "\u00a0"
_NARROW_NBSP = "\u202f"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    push_title: str
    push_body: str


def money(amount, language: str) -> str:
    """Roubles as the language writes them: "2 450 000,00 ₽", "RUB 2,450,000.00"."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, fraction = f"{abs(value):.2f}".split(".")
    groups = f"{int(whole):,}"
    if language == "ru":
        return f"{sign}{groups.replace(',', _NARROW_NBSP)},{fraction}{_NBSP}₽"
    return f"{sign}RUB{_NBSP}{groups}.{fraction}"


def day(value: datetime.date, language: str) -> str:
    """"3 декабря 2026 г." / "3 December 2026"."""
    month = _MONTHS[language][value.month - 1]
    return f"{value.day} {month} {value.year}{_NBSP}г." if language == "ru" else f"{value.day} {month} {value.year}"


def moment(value: datetime.datetime, zone: str, language: str) -> str:
    """The moment as the clock in `zone` shows it: "3 декабря 2026 г., 09:30" / "3 December 2026, 09:30"."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()  # named as missing, like any other variable
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise ValueError(f"{value!r} is not a time with its offset")
    local = value.astimezone(ZoneInfo(zone))
    return f"{day(local.date(), language)}, {local:%H:%M}"


def _environment(autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FOLDER), autoescape=autoescape, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    return environment


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def render(kind: str, language: str, data: dict) -> Rendered:
    """Every part of `kind`'s message in `language` for `data`; InvalidArgument for an unknown
    kind or language, or data that lacks what the template uses."""
    if kind not in KINDS:
        raise InvalidArgument({"kind": f"must be one of {', '.join(KINDS)}"})
    if language not in LANGUAGES:
        raise InvalidArgument({"language": f"must be one of {', '.join(LANGUAGES)}"})
    template = _TEXT.get_template(f"{kind}.{language}.j2")
    values = {**data, "language": language,
              "money": lambda amount: money(amount, language), "day": lambda value: day(value, language),
              "moment": lambda value, zone: moment(value, zone, language),
              "term": lambda group, code: TERMS[language][group].get(code, code)}
    try:
        context = template.new_context(values)
        parts = {name: _block(template, name, context) for name in (*PARTS, "action")}
    except jinja2.UndefinedError as error:
        raise InvalidArgument({"data": f"{kind}.{language}: {error.message}"}) from None
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, ArithmeticError, LookupError) as error:
        # Data of the wrong shape (a preview's, say): a list where a text belongs, a bad number.
        raise InvalidArgument({"data": f"{kind}.{language}: cannot be written from this data ({error})"}) from None
    html = _HTML.get_template("layout.html.j2").render(
        language=language, subject=parts["subject"], paragraphs=_paragraphs(parts["text"]),
        action=parts["action"], action_url=data.get("action_url", ""))
    return Rendered(parts["subject"], parts["text"], html, parts["sms"], parts["push_title"], parts["push_body"])


def _block(template: jinja2.Template, name: str, context) -> str:
    block = template.blocks.get(name)
    return "".join(block(context)).strip() if block is not None else ""


def _paragraphs(text: str) -> list[list[str]]:
    """The text's paragraphs (split by blank lines), each as its lines."""
    return [paragraph.split("\n") for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()]
