"""CPU-heavy work (password hashing, documents) off the event loop, with a bounded queue.

When more work is waiting than the queue allows, the caller is refused at once with
RESOURCE_EXHAUSTED, so a flood gets fast refusals instead of piling up into time-outs
while the event loop keeps serving everything else.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from . import cores
from .errors import BUSY, ResourceExhausted

T = TypeVar("T")


class BoundedExecutor:
    def __init__(self, workers: int, max_waiting: int, name: str):
        # The event loop's thread may be held to one core; this work may use them all.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=cores.anywhere)
        self._slots = asyncio.Semaphore(workers + max_waiting)
        self._name = name

    async def run(self, function: Callable[..., T], *args) -> T:
        if self._slots.locked():
            raise ResourceExhausted(f"too many {self._name} requests at once; retry shortly", BUSY)
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
