"""An outside system's emulator (the payment gateway, the bank) served on an address of its own
inside a test, so the test can take it away and bring it back."""
import socket

import grpc


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Outside:
    """`emulator` served by its generated `add_servicer`, down until `up()`."""

    def __init__(self, emulator, add_servicer):
        self.address = f"127.0.0.1:{_free_port()}"
        self.emulator = emulator
        self._add_servicer = add_servicer
        self.server = None

    async def up(self) -> None:
        self.server = grpc.aio.server()
        self._add_servicer(self.emulator, self.server)
        self.server.add_insecure_port(self.address)
        await self.server.start()

    async def down(self) -> None:
        if self.server is not None:
            await self.server.stop(grace=0)
            self.server = None
