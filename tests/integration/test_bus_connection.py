"""The bus through a NATS outage: one warning while it is away, one line when it is back."""
import asyncio
import logging
import socket
import subprocess

from scripts.mesh.layout import VENV_BIN
from services.kit.bus import Bus


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _nats_server(port: int, store) -> subprocess.Popen:
    return subprocess.Popen(
        [VENV_BIN / "nats-server", "--jetstream", "--addr=127.0.0.1", f"--port={port}",
         f"--store_dir={store}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _until(check, seconds: float = 15.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if check():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_an_outage_is_reported_once_and_the_return_too(tmp_path, caplog):
    port = _free_port()
    server = _nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    try:
        assert await _until(lambda: _listening(port))
        await bus.connect()
        caplog.set_level(logging.INFO, logger="services.kit.bus")
        server.terminate()
        server.wait(timeout=10)
        # Several reconnection attempts fail (twice a second) while the server is away.
        await asyncio.sleep(2.0)
        server = _nats_server(port, tmp_path)
        assert await _until(lambda: bus.nc.is_connected and "reconnected" in caplog.text)
        nats_lines = [r for r in caplog.records if r.name == "services.kit.bus" and r.message.startswith("nats:")]
        assert [r.levelname for r in nats_lines] == ["WARNING", "INFO"], [r.message for r in nats_lines]
        assert not any(r.exc_info for r in caplog.records)
    finally:
        await bus.close()
        server.terminate()
        server.wait(timeout=10)
