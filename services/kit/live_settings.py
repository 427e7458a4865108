"""Hot settings: the ones a service applies while it runs, changed through the config service.

A service marks a field of its settings `hot` (kit.settings.setting); it is then the config
service's setting "<service>.<field>". The config service keeps each value an admin set in the
NATS key-value bucket `autosalon_settings` ({"value": text, "revision": n}; "" for none set). Every
instance watches the keys of its service there: it reads the values first, when it starts, and
then hears each change the moment it is stored. A value it cannot take (which the config service
refuses before storing it) is logged and ignored.

    live = LiveSettings("inventory", settings.load(InventorySettings))
    live.saga_hold_seconds                  # the value now: read it where it is used
    live.on_change(lambda now: ...)         # for what is built from settings (a breaker's limits)

A value cleared in the config service gives the field back what the environment (or the
default) said when the instance started.
"""
import asyncio
import dataclasses
import json
import logging
from typing import Any, Callable

import nats.errors
import nats.js.errors

from .bus import Bus, stop_if_cancelled
from .settings import BadSetting, convert, kind_of
from .subjects import SETTINGS_BUCKET

log = logging.getLogger(__name__)

BUCKET = SETTINGS_BUCKET
# The config service's types, by a hot field's Python type.
VALUE_TYPES = {int: "int", float: "decimal", str: "string", bool: "bool"}


async def open_bucket(bus: Bus):
    """The bucket, made if it is not there yet: only the config service writes it."""
    return await bus.js.create_key_value(bucket=BUCKET, history=1, replicas=bus.replicas,
                                         description="the config service's setting values, by key")


def stored(value: str, revision: int) -> bytes:
    """A value as the bucket keeps it; "" for none set."""
    return json.dumps({"value": value, "revision": revision}).encode()


def hot_fields(settings_class: type | None) -> list[dataclasses.Field]:
    return [field for field in dataclasses.fields(settings_class) if field.metadata.get("hot")] \
        if settings_class is not None else []


def declarations(service: str, settings_class: type | None) -> list[dict]:
    """What the config service lists of a service's hot settings: key, type, default, bounds,
    choices, meaning, category."""
    found = []
    for field in hot_fields(settings_class):
        low, high = field.metadata["minimum"], field.metadata["maximum"]
        kind = kind_of(field)
        found.append({
            "key": f"{service}.{field.name}",
            "value_type": VALUE_TYPES.get(kind, "decimal"),
            "default_value": str(field.default).lower() if kind is bool else str(field.default),
            "minimum": "" if low is None else str(low),
            "maximum": "" if high is None else str(high),
            # "" is no value in the config service: a setting that may be empty is so when unset.
            "choices": [choice for choice in field.metadata["choices"] if choice],
            "description": field.metadata["doc"],
            "category": field.metadata["category"] or service,
            "service": service,
        })
    return found


class LiveSettings:
    """A service's settings as they are now (attribute access, like the settings object)."""

    def __init__(self, service: str, loaded: Any):
        self.service = service
        self._started_with = loaded
        self._current = loaded
        self._fields = {f"{service}.{field.name}": field for field in hot_fields(type(loaded))}
        self._revisions: dict[str, int] = {}
        self._listeners: list[Callable[[Any], None]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current, name)

    @property
    def hot(self) -> bool:
        return bool(self._fields)

    def on_change(self, listener: Callable[[Any], None]) -> None:
        """Calls `listener(settings)` after each change applied."""
        self._listeners.append(listener)

    def heard(self, key: str, stored: bytes) -> None:
        """Applies a stored value of `key` newer than the one applied; "" gives the field its
        value at start back."""
        field = self._fields.get(key)
        if field is None:
            return
        try:
            record = json.loads(stored)
            text, revision = record["value"], int(record["revision"])
            if not isinstance(text, str):
                raise TypeError(text)
            if revision <= self._revisions.get(key, 0):
                return
            value = convert(field, text, key) if text else getattr(self._started_with, field.name)
        except BadSetting as error:
            log.error("setting %s not applied: %s", key, error)
            return
        except (ValueError, KeyError, TypeError):
            log.error("setting %s not applied: %r is not what the config service stores", key, stored[:200])
            return
        self._revisions[key] = revision
        if value == getattr(self._current, field.name):
            return
        self._current = dataclasses.replace(self._current, **{field.name: value})
        log.info("setting %s is now %r (revision %d)", key, value, revision)
        for listener in self._listeners:
            listener(self._current)


async def read_stored(bus: Bus, live: LiveSettings, timeout: float = 3.0) -> None:
    """Applies the values stored for the service, before it serves: none when the bucket does not
    exist yet (no value was ever set); the environment's, logged, should NATS not answer in time."""
    try:
        bucket = await bus.js.key_value(BUCKET)
    except nats.js.errors.BucketNotFoundError:
        return
    watcher = await bucket.watch(f"{live.service}.*")
    try:
        async with asyncio.timeout(timeout):
            while (entry := await watcher.updates(timeout=timeout)) is not None:
                if entry.value:
                    live.heard(entry.key, entry.value)
    except (TimeoutError, nats.errors.TimeoutError):
        log.warning("settings: the stored values did not all arrive in %.0f s; the rest follow", timeout)
    finally:
        await watcher.stop()


async def follow(bus: Bus, live: LiveSettings) -> None:
    """Applies every stored change for the life of the service. Watches again after a
    reconnect (NATS may have restarted and dropped the watch), or a second after the bucket
    turned out not to exist yet (the config service makes it with the first value set)."""
    while True:
        try:
            bucket = await bus.js.key_value(BUCKET)
            watcher = await bucket.watch(f"{live.service}.*")
        except (nats.js.errors.BucketNotFoundError, nats.errors.Error):
            await asyncio.sleep(1.0)
            continue
        reconnects = bus.reconnects
        try:
            while bus.reconnects == reconnects:
                try:
                    entry = await watcher.updates(timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                finally:
                    stop_if_cancelled()
                if entry is not None and entry.value:
                    live.heard(entry.key, entry.value)
        finally:
            await watcher.stop()
