"""Keeps Envoy's access log bounded: past a size it is renamed and Envoy reopens it.

Envoy writes the log itself, so neither supervisord nor anyone else rotates it. Envoy goes on
writing to the renamed file until it is told to reopen the path, so no line is lost between the
rename and the reopen. The oldest file beyond `backups` is dropped.
"""
import asyncio
import json
import logging
import pathlib
from dataclasses import dataclass

import httpx

from services.kit import logs

log = logging.getLogger("edge.access_log")

# A stat a second costs nothing, and bounds how far a file outgrows its size: at the edge's top
# rate (GET /health, about 20 MB of log a second) every 30 s let it reach 300 MB.
CHECK_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class Rotation:
    path: pathlib.Path
    max_bytes: int
    backups: int
    admin_url: str

    @classmethod
    def load(cls, file: pathlib.Path) -> "Rotation":
        """The rotation render.py wrote next to Envoy's bootstrap."""
        settings = json.loads(file.read_text())
        return cls(pathlib.Path(settings["path"]), int(settings["max_bytes"]),
                   int(settings["backups"]), settings["admin_url"])

    def backup(self, number: int) -> pathlib.Path:
        return self.path.with_name(f"{self.path.name}.{number}")

    def due(self) -> bool:
        try:
            return self.path.stat().st_size > self.max_bytes
        except FileNotFoundError:
            return False

    def shift(self) -> None:
        """edge-access.log -> .1 -> .2 …; the file past `backups` is overwritten."""
        for number in range(self.backups - 1, 0, -1):
            if self.backup(number).exists():
                self.backup(number).rename(self.backup(number + 1))
        self.path.rename(self.backup(1))

    async def rotate(self, client: httpx.AsyncClient) -> None:
        self.shift()
        response = await client.post(f"{self.admin_url}/reopen_logs")
        response.raise_for_status()
        log.info("access log rotated", extra=logs.fields(path=str(self.path), backups=self.backups))


async def rotate_if_due(rotation: Rotation, client: httpx.AsyncClient) -> bool:
    """Rotates the log when it has outgrown its size; True when it did."""
    if not rotation.due():
        return False
    try:
        await rotation.rotate(client)
        return True
    except (OSError, httpx.HTTPError) as error:
        # Envoy down: when it starts again it opens a fresh file at the path anyway.
        log.warning("access log rotation incomplete: %s", error)
        return False


async def keep_bounded(rotation: Rotation, interval: float = CHECK_INTERVAL_SECONDS) -> None:
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            await rotate_if_due(rotation, client)
            await asyncio.sleep(interval)
