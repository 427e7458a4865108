"""Small conversions every service's API layer needs."""
import re
from datetime import datetime

from google.protobuf import timestamp_pb2


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def mask_paths(paths) -> list[str]:
    """Field-mask paths in snake_case, whichever case the client sent (JSON uses camelCase)."""
    return [re.sub(r"(?<!^)(?=[A-Z])", "_", path).lower() for path in paths]
