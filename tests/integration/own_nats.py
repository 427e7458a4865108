"""A NATS server of a test's own (JetStream, on a free port, its store in the test's folder), for
tests that stop and start it."""
import asyncio
import contextlib
import socket
import subprocess

from scripts.mesh.layout import VENV_BIN
from services.kit.bus import Bus


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nats_server(port: int, store) -> subprocess.Popen:
    return subprocess.Popen(
        [VENV_BIN / "nats-server", "--jetstream", "--addr=127.0.0.1", f"--port={port}",
         f"--store_dir={store}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def until(check, seconds: float = 15.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if check():
            return True
        await asyncio.sleep(0.1)
    return False


async def shut_down(task: asyncio.Task | None, bus: Bus, server: subprocess.Popen) -> None:
    """Ends a test's background task, its connection and its NATS server."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await bus.close()
    server.terminate()
    server.wait(timeout=10)


@contextlib.asynccontextmanager
async def own_bus(store):
    """A NATS server of the test's own, connected: its Bus, for the block."""
    port = free_port()
    server = nats_server(port, store)
    assert await until(lambda: listening(port))
    events = Bus(f"nats://127.0.0.1:{port}")
    await events.connect()
    try:
        yield events
    finally:
        await shut_down(None, events, server)
