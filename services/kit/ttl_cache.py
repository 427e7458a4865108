"""A small in-process cache with a time-to-live, for hot reads of data that changes rarely.

Whoever fills it also evicts from it: on its own writes at once, and on the owning service's
events (kit.bus.on_every_event) for the writes of the other instances.
"""
import time
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    def __init__(self, ttl_seconds: float, max_size: int = 10_000):
        self._ttl = ttl_seconds
        self._max_size = max_size
        self._entries: dict[Hashable, tuple[V, float]] = {}
        # Bumped by evict() and clear(): a value read before either must not be stored after it
        # (it may be the very value they dropped).
        self.generation = 0

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: Hashable, value: V, generation: int | None = None) -> None:
        """Stores `value`; with `generation`, only if nothing was cleared since it was read."""
        if generation is not None and generation != self.generation:
            return
        if len(self._entries) >= self._max_size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (value, time.monotonic() + self._ttl)

    def evict(self, key: Hashable) -> None:
        self._entries.pop(key, None)
        self.generation += 1

    def clear(self) -> None:
        self._entries.clear()
        self.generation += 1
