"""Consul: registering this instance, and finding healthy instances of the others.

Plain HTTP API calls (httpx), so every request the mesh makes to Consul is visible here.
"""
import asyncio
import logging
import random
from dataclasses import dataclass, field

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Instance:
    id: str
    address: str
    port: int
    # What the instance registered beside its address (kit.server's Microservice.meta).
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def target(self) -> str:
        return f"{self.address}:{self.port}"


class Consul:
    """`token`: the ACL token this process acts with (a service's may register only itself)."""

    def __init__(self, addr: str, token: str = ""):
        # Blocking queries hold a request open for up to `wait`, so the read timeout is longer.
        self._http = httpx.AsyncClient(
            base_url=f"http://{addr}", timeout=httpx.Timeout(5.0, read=70.0),
            headers={"X-Consul-Token": token} if token else None,
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def register(
        self, name: str, instance_id: str, address: str, port: int, grpc_check: bool = True,
        meta: dict[str, str] | None = None,
    ) -> None:
        """Registers an instance; with `grpc_check`, Consul probes its gRPC health service."""
        body = {
            "ID": instance_id,
            "Name": name,
            "Address": address,
            "Port": port,
            "Tags": ["grpc"],
            "Meta": meta or {},
        }
        if grpc_check:
            body["Check"] = {
                "CheckID": f"{instance_id}:grpc-health",
                "Name": "gRPC health",
                "GRPC": f"{address}:{port}",
                "Interval": "2s",
                "Timeout": "1s",
                # An instance that dies without deregistering disappears on its own.
                "DeregisterCriticalServiceAfter": "1m",
            }
        response = await self._http.put("/v1/agent/service/register", json=body)
        response.raise_for_status()

    async def deregister(self, instance_id: str) -> None:
        response = await self._http.put(f"/v1/agent/service/deregister/{instance_id}")
        # 404: the agent has forgotten it already (restarted meanwhile), which is what was wanted.
        if response.status_code != 404:
            response.raise_for_status()

    async def is_registered(self, instance_id: str) -> bool:
        response = await self._http.get(f"/v1/agent/service/{instance_id}")
        return response.status_code == 200

    async def healthy(
        self, name: str, index: int = 0, wait: str = "30s"
    ) -> tuple[list[Instance], int]:
        """Healthy instances of a service; with `index`, waits until that list changes."""
        params = {"passing": "true", "index": str(index), "wait": wait} if index else {"passing": "true"}
        response = await self._http.get(f"/v1/health/service/{name}", params=params)
        response.raise_for_status()
        instances = [
            Instance(
                id=entry["Service"]["ID"],
                address=entry["Service"]["Address"] or entry["Node"]["Address"],
                port=entry["Service"]["Port"],
                meta=entry["Service"].get("Meta") or {},
            )
            for entry in response.json()
        ]
        return instances, int(response.headers.get("X-Consul-Index", "0"))

    async def every_check(self) -> list[dict]:
        """Every check Consul holds, of every service (and node), in one answer."""
        response = await self._http.get("/v1/health/state/any")
        response.raise_for_status()
        return response.json()


class Discovery:
    """A cache of each peer service's healthy instances, kept fresh by blocking queries."""

    def __init__(self, consul: Consul):
        self._consul = consul
        self._instances: dict[str, list[Instance]] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._watchers: dict[str, asyncio.Task] = {}

    async def instances(self, name: str, timeout: float = 2.0) -> list[Instance]:
        if name not in self._watchers:
            self._ready[name] = asyncio.Event()
            self._watchers[name] = asyncio.create_task(self._watch(name), name=f"watch-{name}")
        try:
            await asyncio.wait_for(self._ready[name].wait(), timeout)
        except asyncio.TimeoutError:
            return []
        return self._instances.get(name, [])

    async def pick(self, name: str, besides: Instance | None = None) -> Instance | None:
        """A healthy instance of `name` at random (other than `besides`), or None."""
        instances = [instance for instance in await self.instances(name) if instance != besides]
        return random.choice(instances) if instances else None

    async def _watch(self, name: str) -> None:
        index, backoff = 0, 0.5
        while True:
            try:
                instances, new_index = await self._consul.healthy(name, index)
                # Consul may answer with a lower index after a restart: start over then.
                index = new_index if new_index > index else 0
                self._instances[name] = instances
                self._ready[name].set()
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("consul query for %s failed: %s", name, error)
                self._instances[name] = self._instances.get(name, [])
                self._ready[name].set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def close(self) -> None:
        for task in self._watchers.values():
            task.cancel()
        await asyncio.gather(*self._watchers.values(), return_exceptions=True)
