"""The bus: the loops that wait for NATS messages stop when cancelled, even when the wait
loses it; importing it leaves aiohttp out."""
import asyncio
import subprocess
import sys

import pytest

from services.kit import bus


async def _wait_that_loses_a_cancellation() -> str:
    """As nats-py's wait for a message can end: cancelled just as the message came, it
    returns the message instead of raising."""
    try:
        await asyncio.sleep(0.2)
    except asyncio.CancelledError:
        return "a message"
    return "a message"


async def test_a_loop_stops_when_its_wait_lost_the_cancellation():
    turns = 0

    async def loop():
        nonlocal turns
        for _ in range(3):
            turns += 1
            await asyncio.create_task(_wait_that_loses_a_cancellation())
            bus.stop_if_cancelled()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert turns == 1


async def test_a_loop_not_cancelled_goes_on():
    async def one_turn():
        await asyncio.create_task(asyncio.sleep(0))
        bus.stop_if_cancelled()
        return "went on"

    assert await one_turn() == "went on"


def test_a_service_does_not_load_aiohttp_for_nats():
    """nats-py would import it (7 MiB a process) for a WebSocket transport no service uses."""
    probe = "import sys, services.kit.bus; import aiohttp; print('nats.aio.transport' in sys.modules)"
    loaded_first = ("import sys, services.sales.main\n"
                    "print('aiohttp' in sys.modules, sys.modules['nats.aio.transport'].aiohttp)")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "True\n"
    assert subprocess.run([sys.executable, "-c", loaded_first], capture_output=True, text=True,
                          check=True).stdout == "False None\n"
