"""AIP-158 paging: page_size with a default and a ceiling, opaque keyset page tokens."""
import base64
import json
import uuid
from datetime import datetime

import sqlalchemy as sa

from .errors import INVALID_PAGE_TOKEN, OUT_OF_RANGE, invalid

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size(requested: int) -> int:
    if requested < 0:
        raise invalid("page_size", "must not be negative", OUT_OF_RANGE)
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(position: list, query: dict) -> str:
    """A token for the page after `position` (the sort key of the last row shown), bound to
    the query it was made for, so it cannot be replayed against other filters."""
    raw = json.dumps({"after": position, "query": query}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query: dict) -> list | None:
    """The position a token continues from; None for the first page."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = decoded["after"]
        same_query = decoded["query"] == json.loads(json.dumps(query, default=str))
    except (ValueError, KeyError, TypeError):
        raise invalid("page_token", "is not a token this API issued", INVALID_PAGE_TOKEN) from None
    if not same_query or not isinstance(position, list):
        raise invalid("page_token", "belongs to a different query", INVALID_PAGE_TOKEN)
    return position


def time_position(position: list | None) -> tuple[datetime, uuid.UUID] | None:
    """A decoded position of a list sorted by (a time, id), typed for comparison."""
    if position is None:
        return None
    try:
        return datetime.fromisoformat(position[0]), uuid.UUID(position[1])
    except (ValueError, IndexError, TypeError):
        raise invalid("page_token", "is not a token this API issued", INVALID_PAGE_TOKEN) from None


def text_position(position: list | None) -> str | None:
    """A decoded position of a list sorted by a text key (a setting's key, a slug), checked."""
    if position is None:
        return None
    if len(position) != 1 or not isinstance(position[0], str):
        raise invalid("page_token", "is not a token this API issued", INVALID_PAGE_TOKEN)
    return position[0]


def uuid_position(position: list | None) -> uuid.UUID | None:
    """A decoded position of a list sorted by id, typed for comparison."""
    text = text_position(position)
    try:
        return None if text is None else uuid.UUID(text)
    except ValueError:
        raise invalid("page_token", "is not a token this API issued", INVALID_PAGE_TOKEN) from None


def sequence_position(position: list | None) -> int | None:
    """A decoded position of a list sorted by a sequence number, typed for comparison."""
    if position is None:
        return None
    try:
        sequence = position[0]
        if isinstance(sequence, bool) or not isinstance(sequence, int):
            raise TypeError
        return sequence
    except (IndexError, TypeError):
        raise invalid("page_token", "is not a token this API issued", INVALID_PAGE_TOKEN) from None


def time_token(moment: datetime, row_id: uuid.UUID, query: dict) -> str:
    """The token after a row of a list sorted by (a time, id)."""
    return encode_token([moment.isoformat(), str(row_id)], query)


def newest_page(rows: list, size: int, query: dict, moment: str = "created_at",
                row_id: str = "id") -> tuple[list, str]:
    """The page within the `size` + 1 rows newest_first fetched, and the token for the next
    page ("" when this is the last)."""
    if len(rows) <= size:
        return list(rows), ""
    last = rows[size - 1]
    return list(rows[:size]), time_token(getattr(last, moment), getattr(last, row_id), query)


def newest_first(query: sa.Select, moment: sa.ColumnElement, row_id: sa.ColumnElement,
                 after: tuple[datetime, uuid.UUID] | None, limit: int) -> sa.Select:
    """`query` sorted newest first by (moment, id), from just after the position `after`, one row
    beyond `limit` so that the caller knows whether another page follows."""
    if after is not None:
        query = query.where(sa.tuple_(moment, row_id) < sa.tuple_(*after))
    return query.order_by(moment.desc(), row_id.desc()).limit(limit + 1)
