"""Small conversions every service's API layer needs."""
import datetime as dt
import re
import uuid
from datetime import datetime

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from autosalon.common.v1 import common_pb2

from .errors import (
    ETAG_MISMATCH, INVALID_FORMAT, NOT_YOUR_CUSTOMER, REQUIRED, TOO_LONG, Conflict, PermissionDenied, invalid,
)
from .idempotency import IdempotencyKey
from .identity import Identity


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp of `value` (naive: taken as UTC, as protobuf's FromDatetime does), to the
    microsecond; whole-number arithmetic, a few times faster than FromDatetime."""
    since = (value if value.tzinfo is not None else value.replace(tzinfo=_UTC)) - _EPOCH
    return timestamp_pb2.Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)


_UTC = dt.timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def _values(message: Message, prefix: str = ""):
    """Every scalar in `message` (map keys included) with its field path, e.g. options[0].name."""
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entries = ((f"{path}[{key!r}]", value[key]) for key in value)
            yield from ((f"{path}[{key!r}]", key) for key in value)
        elif field.is_repeated:
            entries = ((f"{path}[{index}]", item) for index, item in enumerate(value))
        else:
            entries = ((path, value),)
        for entry_path, item in entries:
            if isinstance(item, Message):
                yield from _values(item, entry_path + ".")
            else:
                yield entry_path, item


def nul_characters(message: Message) -> list[str]:
    """The paths of the text fields in `message` holding a NUL character, which no
    PostgreSQL text column can store."""
    return [path for path, value in _values(message) if isinstance(value, str) and "\0" in value]


def mask_paths(paths) -> list[str]:
    """Field-mask paths in snake_case, whichever case the client sent (JSON uses camelCase)."""
    return [re.sub(r"(?<!^)(?=[A-Z])", "_", path).lower() for path in paths]


# A chosen id ("moscow-north", "oil-change"): lower-case letters, digits and '-', 2 to 40.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")


def slug_of(name: str, collection: str, field: str) -> str:
    """The chosen id in "{collection}/{id}" (a branch's, a job type's), or InvalidArgument on `field`."""
    prefix, _, found = name.partition("/")
    if prefix != collection or not SLUG.fullmatch(found):
        raise invalid(field, f"must look like {collection}/{{id}}", INVALID_FORMAT)
    return found


def resource_id(name: str, collection: str, field: str = "name") -> uuid.UUID:
    """The uuid in a resource name like "users/{uuid}", or InvalidArgument on `field`."""
    return resource_ids(name, collection, field=field)[0]


def resource_ids(name: str, *collections: str, field: str = "name") -> tuple[uuid.UUID, ...]:
    """The uuids of a nested resource name: resource_ids("models/{a}/trims/{b}", "models",
    "trims") is (a, b); InvalidArgument on `field` for any other shape."""
    parts = name.split("/")
    try:
        if parts[::2] != list(collections) or len(parts) != 2 * len(collections):
            raise ValueError
        return tuple(uuid.UUID(raw_id) for raw_id in parts[1::2])
    except ValueError:
        shape = "/".join(f"{collection}/{{uuid}}" for collection in collections)
        raise invalid(field, f"must look like {shape}", INVALID_FORMAT) from None


def referenced_id(value: str, collection: str, field: str) -> uuid.UUID:
    """The uuid a request field refers to, written "collection/{uuid}" or as the bare uuid
    (REST clients send either); InvalidArgument on `field` otherwise."""
    value = value.strip()
    return resource_id(value if "/" in value else f"{collection}/{value}", collection, field)


# How a caller names their own account wherever a "users/{uuid}" is taken.
MY_ACCOUNT = "users/me"


def account_named(caller: Identity, name: str) -> str:
    """`name`, with "users/me" spelled out as the caller's own account, "users/{uuid}"."""
    return caller.user_name if name == MY_ACCOUNT else name


def acting_for(caller: Identity, customer: str, field: str, staff_must_name: bool) -> str:
    """The customer ("users/{uuid}", or "users/me") a caller acts for: a client only themselves
    (PermissionDenied for another); staff the one they name (InvalidArgument on `field` for a
    malformed name), or themselves when they name none, unless `staff_must_name`."""
    customer = account_named(caller, customer)
    if not customer or customer == caller.user_name:
        if caller.is_staff and staff_must_name:
            raise invalid(field, "is required when staff act for a customer: users/{uuid}", REQUIRED)
        return caller.user_name
    if not caller.is_staff:
        raise PermissionDenied("a client acts for themselves only; leave the customer empty", NOT_YOUR_CUSTOMER)
    resource_id(customer, "users", field)
    return customer


def date_from(text: str, field: str) -> dt.date | None:
    """A "YYYY-MM-DD" date, None when empty; InvalidArgument on `field` for anything else."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise invalid(field, f"must be a date like 2026-12-31, not {text[:40]!r}", INVALID_FORMAT)


def dates_from(texts, field: str) -> list[dt.date]:
    """Distinct "YYYY-MM-DD" dates in order (days off, holidays); InvalidArgument on
    `field[i]` for the first that is not one."""
    found = set()
    for index, text in enumerate(texts):
        day = date_from(text, f"{field}[{index}]")
        if day is None:
            raise invalid(f"{field}[{index}]", "must be a date like 2026-12-31, not empty", REQUIRED)
        found.add(day)
    return sorted(found)


def check_etag(etag: str, version: int, name: str, field: str) -> None:
    """Optimistic concurrency: an `etag` given (on `field`) must be the resource's current
    `version`; none given, any version will do. Conflict (ABORTED, 409) for a stale one."""
    if etag and etag != str(version):
        if not etag.isascii() or not etag.isdigit():
            kind = name.split("/")[0].removesuffix("s")
            raise invalid(field, f"must be the etag the {kind} showed, a whole number", INVALID_FORMAT)
        raise Conflict(f"{name} is at version {version}, not {etag}; read it again", ETAG_MISMATCH,
                       {"resource": name, "etag": str(version)})


def audit(row) -> common_pb2.AuditInfo:
    """AuditInfo from a row with created_at/updated_at/created_by/updated_by columns."""
    return common_pb2.AuditInfo(
        create_time=timestamp(row.created_at), update_time=timestamp(row.updated_at),
        created_by=row.created_by, updated_by=row.updated_by,
    )


IDEMPOTENCY_KEY = "idempotency-key"


def idempotency_key(context, request: Message, required: bool) -> IdempotencyKey:
    """The client's `Idempotency-Key` (an HTTP header at the edge, gRPC metadata inside), bound
    to `request`."""
    key = next((value for name, value in context.invocation_metadata() or ()
                if name == IDEMPOTENCY_KEY), "").strip()
    if required and not key:
        raise invalid("idempotency_key", "send an Idempotency-Key header (any unique string)", REQUIRED)
    if len(key) > 200:
        raise invalid("idempotency_key", "must be at most 200 characters", TOO_LONG)
    return IdempotencyKey.of(key, request)
